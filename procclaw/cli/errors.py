"""How the CLI reports a failure: one line on stderr, and an exit code."""

from __future__ import annotations

import sys


class CliFailure(Exception):
    """A command failed for a reason the user can act on; the message says which."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = 1) -> int:
    print(f"procclaw: {message}", file=sys.stderr)
    return exit_code
