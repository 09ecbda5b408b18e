"""The repository holds no committed secret, and the scanner really finds them."""

from __future__ import annotations

import secrets

from tests.security.secret_scan import scan, scan_text, tracked_files


def test_no_secret_is_committed() -> None:
    files = tracked_files()
    assert len(files) > 100, "the scan must see the repository"
    assert [str(f) for f in scan(files)] == []


def test_the_scanner_finds_real_looking_secrets_and_not_fixtures() -> None:
    token = f"{secrets.randbelow(10**9) + 10**8}:AA{secrets.token_urlsafe(30)}"
    sid = "AC" + secrets.token_hex(16)
    leaked = "\n".join(
        [
            f'TELEGRAM = "{token}"',
            f"account = {sid}",
            "-----BEGIN RSA " + "PRIVATE KEY-----",  # split, so this file is no finding
            f'HARBOUR_SECRET_KEY = "{secrets.token_urlsafe(32)}1"',
        ]
    )
    kinds = [f.kind for f in scan_text("x.py", leaked)]
    assert kinds == ["Telegram bot token", "Twilio account SID", "private key", "secret assignment"]
    fixtures = 'CANARY_TOKEN = "987654321:AAcanaryTOKENcanaryTOKENcanary12345"\n'
    fixtures += 'SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"\n'
    assert scan_text("y.py", fixtures) == []
