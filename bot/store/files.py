"""Files Harbour writes hold survivors' data: only the user running Harbour may open them.

The data directory is made 0700; the SQLite database is made 0600 before SQLite opens it, and
SQLite gives its WAL and shared-memory files the database file's mode. A directory Harbour
did not create is left as it is, with a warning when others can enter it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)


def private_directory(path: Path) -> None:
    """Create `path` (and its parents) for this user alone; warn about an open one."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s can be entered by other users (mode %o): chmod 700 it", path, mode)


def private_sqlite_file(path: Path) -> None:
    """Make the database file (and any WAL or shared-memory file) 0600 before it is opened."""
    private_directory(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    for extra in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if extra.exists() and stat.S_IMODE(extra.stat().st_mode) & 0o077:
            os.chmod(extra, 0o600)  # left by an older release at 0644
