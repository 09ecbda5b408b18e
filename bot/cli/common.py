"""Shared pieces of the command line: exit codes and the one-line-error parser."""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_USAGE = 2
EXIT_REFUSED = 3


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line (and exit code 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"harbour: {message} (see 'harbour --help')\n")
