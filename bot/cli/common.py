"""Shared pieces of the command line: exit codes and the one-line-error parser.

Exit codes (the README lists them for operators):
    0  done
    1  could not be done: the database cannot be reached, a file is in the way, ...
    2  usage: a bad argument or a bad setting
    3  the encryption key does not match the stored data (or cannot be used)
    4  not permitted: the person named (--by) may not do this; the refusal is audited
"""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3  # the key: kept as a name for the callers that refuse a key
EXIT_KEY = EXIT_REFUSED
EXIT_NOT_PERMITTED = 4


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line (and exit code 2), not a usage dump, and it points
    to the help of the very subcommand that was mistyped."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"harbour: {message} (see '{self.prog} --help')\n")
