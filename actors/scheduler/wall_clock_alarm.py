"""`WallClockAlarm`: a file descriptor that turns readable at a wall-clock time, or the
moment the wall clock is set.

It is a Linux timerfd on CLOCK_REALTIME armed with TFD_TIMER_ABSTIME and
TFD_TIMER_CANCEL_ON_SET: the kernel wakes us at the due time itself, and when an NTP
step or `date -s` moves the clock, the read fails with ECANCELED instead, so the
scheduler recomputes at once rather than at some later check. A suspended machine wakes
it on resume, since CLOCK_REALTIME kept counting. Python has no timerfd binding, hence
ctypes.
"""

from __future__ import annotations

import ctypes
import errno
import os

_CLOCK_REALTIME = 0
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1
_TFD_TIMER_CANCEL_ON_SET = 2
# Armed this far ahead when nothing is due: it still reports every clock change.
_IDLE_SECONDS = 365 * 86400


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.timerfd_settime.argtypes = [
    ctypes.c_int,
    ctypes.c_int,
    ctypes.POINTER(_Itimerspec),
    ctypes.POINTER(_Itimerspec),
]


class WallClockAlarm:
    def __init__(self) -> None:
        fd = _libc.timerfd_create(_CLOCK_REALTIME, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self.fd: int = fd

    def set(self, when: float | None, now: float) -> None:
        """Ring at the POSIX time `when` (None: only when the clock is set)."""
        target = now + _IDLE_SECONDS if when is None else max(when, 1e-6)
        seconds = int(target)
        value = _Timespec(seconds, int((target - seconds) * 1e9))
        spec = _Itimerspec(_Timespec(0, 0), value)
        flags = _TFD_TIMER_ABSTIME | _TFD_TIMER_CANCEL_ON_SET
        if _libc.timerfd_settime(self.fd, flags, ctypes.byref(spec), None) < 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")

    def read(self) -> str | None:
        """Why it is readable: "due", "clock set", or None when it was not (spurious)."""
        try:
            os.read(self.fd, 8)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno == errno.ECANCELED:
                return "clock set"
            raise
        return "due"

    def close(self) -> None:
        os.close(self.fd)
