"""A scan of the repository for committed secrets: bot tokens, Twilio credentials, private
keys, cloud keys, key files, and long random values assigned to secret-sounding names.

    python -m tests.security.secret_scan      (run by `make test`; exit 1 on a finding)

Test fixtures use obviously fake values: a value containing one of FAKE_MARKERS is allowed,
and so is a line ending in `# secret-scan: allow` (say why next to it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = {
    "Telegram bot token": re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}"),
    "Twilio account SID": re.compile(r"\bAC[0-9a-f]{32}\b"),
    "Twilio API key SID": re.compile(r"\bSK[0-9a-f]{32}\b"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "secret assignment": re.compile(
        r"(?i)(?:secret|token|password|passwd|api_key|auth)[a-z_]*\s*[:=]\s*[\"']"
        r"([A-Za-z0-9_\-+/=]{24,})[\"']"
    ),
}
FAKE_MARKERS = ("canary", "fake", "test", "example", "fuzz", "dummy", "not-a", "xxxx", "0000")
SECRET_FILES = (".env", "secret.key", ".pem", ".p12", ".key")
ALLOW = "# secret-scan: allow"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str

    def __str__(self) -> str:  # never print the value itself
        return f"{self.path}:{self.line}: looks like a committed {self.kind}"


def tracked_files(root: Path = ROOT) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return [root / name for name in out.decode().split("\0") if name]


def scan_text(path: str, text: str) -> list[Finding]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.rstrip().endswith(ALLOW):
            continue
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(line):
                value = match.group(match.lastindex or 0).lower()
                if kind == "secret assignment" and not _random_looking(value):
                    continue
                if not any(marker in value for marker in FAKE_MARKERS):
                    found.append(Finding(path, number, kind))
    return found


def _random_looking(value: str) -> bool:
    """Letters and digits mixed, as generated secrets are (a header name is not)."""
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def scan(files: list[Path], root: Path = ROOT) -> list[Finding]:
    found = []
    for file in files:
        relative = str(file.relative_to(root))
        if file.name.endswith(SECRET_FILES) and not file.name.endswith(".example"):
            found.append(Finding(relative, 0, "key or environment file"))
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files hold no text secrets we could match
        found.extend(scan_text(relative, text))
    return found


def main() -> int:
    findings = scan(tracked_files())
    for finding in findings:
        print(finding)
    print(f"secret scan: {len(findings)} finding(s) in {len(tracked_files())} tracked files")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
