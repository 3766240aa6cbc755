"""The two Linux prctl(2) calls the daemon uses, as no-ops where they do not exist."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_PR_SET_NAME = 15
_PR_SET_CHILD_SUBREAPER = 36

_libc = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
)


def set_child_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process instead of init.

    Root needs this so that a job whose supervisor died is still its descendant: its
    exit status is reaped by us, not lost to init. A supervisor needs it so that what
    its job left behind is re-parented to it, where it is found and reaped.
    """
    if _libc is None:
        return False
    return _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def set_process_name(name: str) -> None:
    """Name this process in `ps -o comm` / psutil (15 bytes at most)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
