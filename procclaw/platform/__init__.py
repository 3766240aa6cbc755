"""The operating system's process calls, behind one small interface with two
implementations, chosen once per process:

- `linux` (linux.py): pidfds, the child subreaper, splice(2), F_SETPIPE_SZ, timerfd and
  /proc: the fast paths, on Linux 5.3 and later;
- `portable` (portable.py): POSIX, kqueue where it exists (macOS, the BSDs), and psutil.

Nothing outside this package makes a Linux-only call (tests/test_platform.py checks).
`PROCCLAW_PLATFORM=linux|portable` picks one; by default Linux gets `linux` and every
other system `portable`. `procclaw daemon status` says which one runs.
"""

from __future__ import annotations

import os
import sys
from functools import cache

from procclaw.platform.base import ExitWatch, Platform, PlatformError, WallClockAlarm

__all__ = ["ExitWatch", "Platform", "PlatformError", "WallClockAlarm", "current"]

CHOICES = ("linux", "portable")


@cache
def current() -> Platform:
    """This process's platform layer; PlatformError if PROCCLAW_PLATFORM names none."""
    wanted = os.environ.get("PROCCLAW_PLATFORM") or (
        "linux" if sys.platform.startswith("linux") else "portable"
    )
    if wanted == "linux":
        if not sys.platform.startswith("linux"):
            raise PlatformError(f"PROCCLAW_PLATFORM=linux, but this system is {sys.platform}")
        from procclaw.platform.linux import LinuxPlatform

        return LinuxPlatform()
    if wanted == "portable":
        from procclaw.platform.portable import PortablePlatform

        return PortablePlatform()
    raise PlatformError(f"PROCCLAW_PLATFORM={wanted!r} is unknown: use one of {', '.join(CHOICES)}")
