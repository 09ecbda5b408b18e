"""Local mode ends with exit 0 on Ctrl-C at any moment: while still starting, at an idle
prompt on a real terminal (a pty: the case that used to abort with exit 134 in
`_enter_buffered_busy`), and with input still open on a pipe."""

from __future__ import annotations

import os
import pty
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HARBOUR = [sys.executable, "-m", "bot", "run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    env.update(
        HARBOUR_DATA_DIR=str(tmp_path / "var"),
        HARBOUR_CONFIG=str(tmp_path / "none.toml"),
        HARBOUR_HTTP_PORT=str(port),
        HARBOUR_CONSOLE_PORT="0",
    )
    return env


def wait_until_serving(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("local mode never answered /healthz")


@pytest.mark.parametrize("when", ["starting", "idle prompt", "after a message"])
@pytest.mark.parametrize("stdin_kind", ["terminal", "pipe"])
def test_ctrl_c_exits_0_at_any_moment(tmp_path: Path, when: str, stdin_kind: str) -> None:
    port = free_port()
    primary, secondary = pty.openpty() if stdin_kind == "terminal" else (None, None)
    proc = subprocess.Popen(
        HARBOUR,
        stdin=secondary if secondary is not None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(tmp_path, port),
    )
    try:
        if when == "starting":
            time.sleep(0.5)
        else:
            wait_until_serving(port, proc)
            if when == "after a message":
                line = b"hello\n"
                if primary is not None:
                    os.write(primary, line)
                else:
                    assert proc.stdin is not None
                    proc.stdin.write(line)
                    proc.stdin.flush()
            time.sleep(1.0)  # at the prompt, the reader waiting for a line
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        for fd in (primary, secondary):
            if fd is not None:
                os.close(fd)
    assert proc.returncode == 0, err.decode()[-800:]
    assert b"Fatal Python error" not in err and b"Traceback" not in err
