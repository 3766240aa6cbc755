"""Describing how a process ended, from its waitpid(2) status."""

from __future__ import annotations

import os
import signal


def describe_status(status: int) -> tuple[int | None, str | None, str]:
    """(exit code, signal name, text) of a waitpid status."""
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return None, name, f"killed by {name}"
    code = os.WEXITSTATUS(status)
    return code, None, f"exit code {code}"
