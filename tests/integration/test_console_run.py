"""The console as `harbour run` serves it: local mode prints the demo advocate's password
once at first start and the console answers on its own bind; HARBOUR_CONSOLE=off turns it
off; `harbour staff set-password` reads stdin and refuses weak passwords; `/q` in chat."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.harness import add_advocate, enrol, onboard, say, start

HARBOUR = [sys.executable, "-m", "bot"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    clean.update(HARBOUR_DATA_DIR=str(tmp_path / "var"), HARBOUR_CONFIG=str(tmp_path / "none.toml"))
    return clean


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def run_once(env: dict[str, str], console: str = "on") -> tuple[str, int | None]:
    """Start `harbour run --no-chat`, wait for /healthz, ask the console for /login, stop."""
    http, port = free_port(), free_port()
    proc = subprocess.Popen(
        [*HARBOUR, "run", "--no-chat"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "HARBOUR_HTTP_PORT": str(http), "HARBOUR_CONSOLE_PORT": str(port),
             "HARBOUR_CONSOLE": console},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while status_of(f"http://127.0.0.1:{http}/healthz") != 200:
            assert time.monotonic() < deadline and proc.poll() is None, "no /healthz"
            time.sleep(0.1)
        login = status_of(f"http://127.0.0.1:{port}/login")
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()[-800:]
    return out.decode(), login


def test_local_mode_serves_the_console_and_prints_the_demo_password_once(
    env: dict[str, str],
) -> None:
    first, login = run_once(env)
    assert login == 200
    shown = re.findall(r"user 'demo', password (\S+)", first)
    assert len(shown) == 1
    second, _ = run_once(env)
    assert "password" not in second
    _off, login = run_once(env, console="off")
    assert login is None


def test_set_password_reads_stdin_and_refuses_weak_ones(env: dict[str, str]) -> None:
    add = subprocess.run([*HARBOUR, "staff", "add", "amira", "--role", "advocate"], env=env,
                         capture_output=True, timeout=60)  # fmt: skip
    assert add.returncode == 0, add.stderr
    weak = subprocess.run([*HARBOUR, "staff", "set-password", "amira"], input=b"short\n",
                          env=env, capture_output=True, timeout=60)  # fmt: skip
    assert weak.returncode == 2 and b"at least 12" in weak.stderr
    assert b"short" not in weak.stderr
    done = subprocess.run([*HARBOUR, "staff", "set-password", "amira", "--totp"],
                          input=b"a long enough password\n", env=env, capture_output=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"otpauth://totp/" in done.stdout
    assert b"a long enough password" not in done.stdout + done.stderr
    nobody = subprocess.run([*HARBOUR, "staff", "set-password", "nobody"],
                            input=b"a long enough password\n", env=env, capture_output=True,
                            timeout=60)  # fmt: skip
    assert nobody.returncode == 2 and len(nobody.stderr.decode().strip().splitlines()) == 1


async def test_quick_reply_by_name_in_chat(settings: Settings) -> None:
    harbour, sent = await start(settings)
    try:
        case = await enrol(harbour, "s1", await add_advocate(harbour, "amira"), language="pl")
        await onboard(harbour, "s1")
        await say(harbour, "advocate:amira", f"/q {case} appointment_confirmed")
        assert sent.to("s1")[-1].text == "Amira: Twoje spotkanie jest potwierdzone."
        assert "sent to case" in sent.to("advocate:amira")[-1].text
        await say(harbour, "advocate:amira", f"/q {case} nonsense")
        assert "call_tomorrow" in sent.to("advocate:amira")[-1].text
        await add_advocate(harbour, "bo")
        await say(harbour, "advocate:bo", f"/q {case} call_tomorrow")
        assert "not possible" in sent.to("advocate:bo")[-1].text
    finally:
        await harbour.close()
