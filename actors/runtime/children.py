"""Reaping the children that have exited, for root and for a supervisor."""

from __future__ import annotations

import os
from collections.abc import Iterator


def exited_children() -> Iterator[tuple[int, int]]:
    """(pid, wait status) of each child that has exited, reaped; ends when none is left
    to reap now (it never waits)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, status
