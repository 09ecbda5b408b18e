"""The administrator's command line as an operator meets it: every failure is one line on
stderr with a documented exit code, never a traceback (bot/cli/common.py lists the codes)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

HARBOUR = [sys.executable, "-m", "bot"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        HARBOUR + args,
        capture_output=True,
        env=env,
        timeout=120,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    clean.update(
        HARBOUR_DATA_DIR=str(tmp_path / "var"),
        HARBOUR_CONFIG=str(tmp_path / "none.toml"),
        HARBOUR_SECRET_KEY=secrets.token_urlsafe(48),
    )
    return clean


def test_an_unreachable_database_is_one_line_exit_1(env: dict[str, str]) -> None:
    env = {**env, "HARBOUR_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/harbour"}
    done = run(["staff", "list"], env)
    assert done.returncode == 1
    assert "cannot reach the database" in one_line(done)
    assert "nobody" not in done.stderr  # the URL may hold a password: never printed


def test_export_into_an_existing_file_is_one_line_exit_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert run(["staff", "add", "root", "--role", "admin"], env).returncode == 0
    assert run(["staff", "add", "amira", "--role", "advocate"], env).returncode == 0
    enrolled = run(["survivor", "enrol", "--advocate", "amira", "--language", "pl"], env)
    case = enrolled.stdout.split()[1]
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("already here")
    done = run(["survivor", "export", case, "--by", "root", "--out", str(in_the_way)], env)
    assert done.returncode == 2
    assert "that is a file" in one_line(done)
    assert in_the_way.read_text() == "already here"

    refused = run(["survivor", "export", case, "--by", "amira"], env)
    assert refused.returncode == 4, "not permitted has its own code (3 is a wrong key)"
    assert "only admins" in one_line(refused)


def test_a_missing_argument_points_to_that_subcommands_help(env: dict[str, str]) -> None:
    done = run(["survivor", "export"], env)
    assert done.returncode == 2
    assert "see 'harbour survivor export --help'" in one_line(done)
    done = run(["staff", "deactivate", "amira", "--to", "bo", "--to-duty"], env)
    assert done.returncode == 2 and "harbour staff deactivate --help" in one_line(done)


def test_lifecycle_commands_from_the_command_line(env: dict[str, str]) -> None:
    assert run(["staff", "add", "amira", "--role", "advocate"], env).returncode == 0
    case = run(["survivor", "enrol", "--advocate", "amira", "--language", "ro"], env).stdout
    code = case.split()[1]
    issued = run(["survivor", "code", code], env)
    assert issued.returncode == 0 and "older codes revoked" in issued.stdout
    assert run(["survivor", "close", code], env).returncode == 0
    again = run(["survivor", "close", code], env)
    assert again.returncode == 2 and "already closed" in one_line(again)
    assert run(["survivor", "reopen", code], env).returncode == 0
    assert "has 1 case(s)" in one_line(run(["staff", "deactivate", "amira"], env))
    moved = run(["staff", "deactivate", "amira", "--to-duty"], env)
    assert moved.returncode == 0 and "1 case(s) moved to the duty team" in moved.stdout
    assert run(["staff", "reactivate", "amira"], env).returncode == 0
    erased = run(["survivor", "list", "--erased"], env)
    assert erased.returncode == 0 and "erased on" in erased.stdout
