"""The `harbour` command as a user runs it: bad arguments, bad settings, wrong keys,
`simulate`, and local mode in the terminal with hostile input."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HARBOUR = [sys.executable, "-m", "bot"]


def run(
    args: list[str], env: dict[str, str], stdin: bytes = b"", timeout: float = 90
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        HARBOUR + args, input=stdin, capture_output=True, env=env, timeout=timeout
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    clean.update(HARBOUR_DATA_DIR=str(tmp_path / "var"), HARBOUR_CONFIG=str(tmp_path / "none.toml"))
    clean["HARBOUR_CONSOLE_PORT"] = "0"  # the console on any free port, never a fixed one
    return clean


@pytest.mark.parametrize(
    "args", [["frobnicate"], ["run", "--bogus"], ["db"], ["flows", "lint"], []]
)
def test_bad_arguments_give_one_line_and_exit_2(env: dict[str, str], args: list[str]) -> None:
    done = run(args, env)
    assert done.returncode == 2
    assert len(done.stderr.decode().strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HARBOUR_HTTP_PORT", "abc"),
        ("HARBOUR_DATABASE_URL", "::not a url::"),
        ("HARBOUR_TELEGRAM_MODE", "smoke-signals"),
    ],
)
def test_bad_settings_name_the_setting_and_exit_2(
    env: dict[str, str], name: str, value: str
) -> None:
    done = run(["db", "upgrade"], {**env, name: value})
    assert done.returncode == 2
    assert name in done.stderr.decode()
    assert not (Path(env["HARBOUR_DATA_DIR"]) / "harbour.db").exists(), "nothing may start"


def test_wrong_key_refuses_to_start_and_changes_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    key_a, key_b = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    assert run(["db", "upgrade"], {**env, "HARBOUR_SECRET_KEY": key_a}).returncode == 0
    db_file = Path(env["HARBOUR_DATA_DIR"]) / "harbour.db"
    before = db_file.read_bytes()
    done = run(["db", "upgrade"], {**env, "HARBOUR_SECRET_KEY": key_b})
    assert done.returncode == 3
    assert "does not match" in done.stderr.decode()
    assert db_file.read_bytes() == before
    assert key_b not in done.stderr.decode()


def test_simulate_prints_json_lines(env: dict[str, str]) -> None:
    done = run(["simulate"], env, stdin=b"hello\n")
    assert done.returncode == 0, done.stderr.decode()[-800:]
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert events, "hello must get a reply"
    first = events[0]
    assert first["to"] == "demo" and first["kind"] == "message"
    assert isinstance(first["text"], str) and first["text"]
    assert isinstance(first["choices"], list)


def test_simulate_skips_bad_lines_and_still_exits_0(env: dict[str, str]) -> None:
    lines = b'{"from": 5}\n[1, 2]\n{"text": "no sender"}\n\xff\xfe broken utf-8\n'
    done = run(["simulate"], env, stdin=lines)
    assert done.returncode == 0
    assert done.stderr.decode().count("skipped") == 2  # "[1, 2]" is a plain line, answered
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert any(e.get("to") == "demo" for e in events), "the broken UTF-8 line is still answered"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_local_mode_chat_survives_hostile_input_and_serves_healthz(env: dict[str, str]) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    proc = subprocess.Popen(
        [*HARBOUR, "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "HARBOUR_HTTP_PORT": str(port)},
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    status = resp.status
            except OSError:
                time.sleep(0.1)
        if status is None:
            proc.kill()
            pytest.fail(f"no /healthz answer; stderr: {proc.communicate()[1].decode()[-1500:]}")
        assert status == 200
        hostile = [b"", b"x" * 10_000, b"\x00\x07\x1b[31mred\x1b[0m", b"\xff\xfe\xc3(", b"menu"]
        # communicate() closes stdin afterwards: end of input ends local mode cleanly
        out, err = proc.communicate(b"\n".join(hostile) + b"\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()[-800:]
    replies = out.decode().count("Harbour ▸")
    assert replies >= len(hostile), out.decode()[-2000:]
    assert "Traceback" not in err.decode()


def test_local_mode_lets_you_write_as_the_advocate_too(env: dict[str, str]) -> None:
    lines = [
        "hello",
        "1",
        "1",
        "1",
        "I have a question about the letter from the council",
        "@demo /cases",
        "@demo #NOSUCH hello",
    ]
    done = run(
        ["run"],
        {**env, "HARBOUR_HTTP_PORT": str(_free_port())},
        stdin="\n".join(lines).encode() + b"\n",
    )
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()[-800:]
    assert "relayed message → advocate:demo" in out
    assert "Your cases (1)" in out
    assert "not possible for this case" in out
