"""`harbour run`: cold start to ready, and idle resident memory.

Run: .venv/bin/python bench/startup.py [--runs 5] [--idle 3]

Each run starts the real command (`.venv/bin/harbour run --no-chat`, local mode: no channel
credentials) as a subprocess against a fresh data directory, so every start creates and
migrates a new SQLite database and records its key check. Ready is the first 200 from
GET /healthz (polled every 10 ms). After `--idle` seconds of nothing to do, the process's
resident memory (VmRSS) is read, then it is stopped with SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARBOUR = ROOT / ".venv" / "bin" / "harbour"


def machine() -> str:
    memory = cpu = "?"
    with open("/proc/meminfo") as meminfo:
        memory = f"{int(meminfo.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    with open("/proc/cpuinfo") as cpuinfo:
        names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        cpu = names[0] if names else platform.machine()
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), {memory} memory,"
        f" Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def one_run(idle: float) -> tuple[float, float]:
    """Seconds from exec to the first healthy answer, and resident MB after `idle` seconds."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "HARBOUR_DATA_DIR": data_dir,
            "HARBOUR_HTTP_PORT": str(port),
            "HARBOUR_CONSOLE_PORT": "0",
            "HARBOUR_SECRET_KEY": secrets.token_urlsafe(48),
            "HARBOUR_LOG_LEVEL": "WARNING",
        }
        for name in ("HARBOUR_DATABASE_URL", "HARBOUR_TELEGRAM_TOKEN", "HARBOUR_TWILIO_AUTH_TOKEN"):
            env.pop(name, None)
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(HARBOUR), "run", "--no-chat"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            while not healthy(port):
                if process.poll() is not None:
                    error = process.stderr.read().decode()[-800:] if process.stderr else ""
                    raise RuntimeError(f"harbour run exited with {process.returncode}: {error}")
                if time.perf_counter() - started > 60:
                    raise RuntimeError("harbour run was not ready within 60 s")
                time.sleep(0.01)
            ready = time.perf_counter() - started
            time.sleep(idle)
            memory = rss_mb(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return ready, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before RSS")
    args = parser.parse_args()
    print(machine())
    if not HARBOUR.exists():
        print(f"{HARBOUR} not found: install the project into .venv first", file=sys.stderr)
        return 1
    results = [one_run(args.idle) for _ in range(args.runs)]
    starts = [r for r, _ in results]
    memory = [m for _, m in results]
    print(f"harbour run --no-chat, local mode, fresh SQLite data dir each run, {args.runs} runs")
    print("runs (s):  " + " ".join(f"{s:.2f}" for s in starts))
    print(f"cold start to ready: p50 {statistics.median(starts):.2f} s, max {max(starts):.2f} s")
    print(f"idle RSS after {args.idle:.0f} s: p50 {statistics.median(memory):.0f} MB,"
          f" max {max(memory):.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
