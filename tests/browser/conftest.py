"""Browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright; no browser is
ever downloaded. `make test` installs the chromium package when root can. Without it, the
tests skip with one line locally, and fail under CI (CI=true)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("HARBOUR_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"


@pytest.fixture
def chromium() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        message = f"browser tests: {CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI they must run")
        pytest.skip(message)
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
