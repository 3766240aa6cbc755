"""The Linux fast paths: pidfds, the child subreaper, splice(2), F_SETPIPE_SZ, timerfd,
and /proc read directly (psutil's bookkeeping costs tens of times more at each exit)."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import select
import signal
from collections.abc import Callable
from pathlib import Path

import setproctitle

from procclaw.platform.base import ChildSpec
from procclaw.platform.linux_cgroups import CgroupTree
from procclaw.platform.linux_cgroups import find as find_cgroups
from procclaw.platform.linux_cgroups import offered as offered_cgroups
from procclaw.platform.linux_cgroups import prepare as prepare_cgroups
from procclaw.platform.linux_spawner import Spawner

# The interpreter links libc: its symbols are found without ctypes.util.find_library,
# which runs `ldconfig -p` (a process, on the way of every daemon start).
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_NAME = 15
_PR_SET_CHILD_SUBREAPER = 36
# A run with more below it than this is cut short (a fork bomb is not walked whole).
MAX_DESCENDANTS = 10_000
# This process's spawner, once started (a supervisor's: linux_spawner.py).
_spawner: Spawner | None = None


class LinuxPlatform:
    name = "linux"
    can_splice = hasattr(os, "splice")

    def set_process_name(self, name: str, title: str) -> None:
        setproctitle.setproctitle(title)
        # After setproctitle, which puts the title's first 15 bytes there too.
        _libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)

    def become_subreaper(self) -> bool:
        return _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0

    def process_start_time(self, pid: int) -> str | None:
        """The boot id and the start time in clock ticks since boot: immune to
        wall-clock steps."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            return None
        return f"{_BOOT_ID}:{int(fields[19])}"  # field 22 of stat(5), after "pid (comm)"

    def watch_exit(self, pid: int) -> PidWatch | None:
        try:
            return PidWatch(os.pidfd_open(pid))
        except ProcessLookupError:
            return None

    def wait_for_exit(self, pid: int, timeout: float) -> bool:
        watch = self.watch_exit(pid)
        if watch is None:
            return True
        try:
            return bool(select.select([watch.fd], [], [], timeout)[0])
        finally:
            watch.close()

    def processes_marked(self, marker: bytes) -> list[int]:
        uid, me = os.getuid(), os.getpid()
        found = []
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit() or int(entry.name) == me:
                    continue
                try:
                    if entry.stat().st_uid != uid:
                        continue
                except OSError:
                    continue
                if _carries(int(entry.name), marker):
                    found.append(int(entry.name))
        return found

    def kill_marked(self, pid: int, marker: bytes) -> None:
        _kill_if(pid, lambda: _carries(pid, marker))

    def descendants(self, pid: int) -> list[tuple[int, str]]:
        """From the kernel's list of each thread's children: it costs what the run has
        below it, not a scan of every process."""
        found: list[tuple[int, str]] = []
        for child in _below(pid):
            start_time = self.process_start_time(child)
            if start_time is not None:
                found.append((child, start_time))
        return found

    def trees(self, roots: list[int]) -> dict[int, list[int]]:
        """As `descendants`, from the kernel's lists of children: a job's usage costs
        what its tree holds, not a scan of every process."""
        return {root: _below(root) for root in roots}

    def kill_same(self, pid: int, start_time: str) -> None:
        _kill_if(pid, lambda: self.process_start_time(pid) == start_time)

    def has_strays(self, runs: frozenset[int]) -> bool:
        """A subreaper's children besides its jobs' runs, from the kernel's list of each
        thread's children: no scan of /proc."""
        children: set[int] = set()
        try:
            with os.scandir("/proc/self/task") as tasks:
                for task in tasks:
                    with open(f"/proc/self/task/{task.name}/children") as listing:
                        children.update(int(pid) for pid in listing.read().split())
        except OSError:
            return True  # cannot tell: look for stragglers the slow way
        spawner = _spawner.pid if _spawner is not None else None
        return bool(children - runs - {spawner})

    def enlarge_pipe(self, fd: int, size: int) -> None:
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
        except OSError:
            pass  # past the user's pipe allowance: the default size still works

    def move_in_kernel(self, pipe_fd: int, file_fd: int, limit: int) -> int:
        return os.splice(pipe_fd, file_fd, limit, flags=os.SPLICE_F_NONBLOCK)

    def wall_clock_alarm(self) -> TimerFd:
        return TimerFd()

    def start_spawner(self, owner: str) -> None:
        global _spawner
        if _spawner is None:
            title = f"procclaw: spawner of {owner}"
            _spawner = Spawner(lambda: self.set_process_name("pc-spawner", title))
        _spawner.start()

    def stop_spawner(self) -> None:
        global _spawner
        if _spawner is not None:
            _spawner.close()
            _spawner = None

    def spawn_in_cgroup(self, cgroup: str, spec: ChildSpec) -> int | None:
        return None if _spawner is None else _spawner.spawn(cgroup, spec)

    def job_cgroups(self, home: Path, create: bool) -> CgroupTree | str:
        return prepare_cgroups(home) if create else find_cgroups(home)

    def job_cgroups_offered(self, home: Path) -> CgroupTree | str:
        return offered_cgroups(home)


class PidWatch:
    def __init__(self, fd: int):
        self.fd = fd

    def close(self) -> None:
        os.close(self.fd)


def _kill_if(pid: int, still_it: Callable[[], bool]) -> None:
    """SIGKILL `pid` if `still_it()`, asked once a pidfd holds the process: a pid reused
    between the question and the signal cannot be hit."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return  # gone already
    try:
        if still_it():
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass
    finally:
        os.close(pidfd)


def _below(pid: int) -> list[int]:
    """Every process below `pid` now, from the kernel's list of each thread's children;
    cut short past MAX_DESCENDANTS (a fork bomb is not walked whole)."""
    found: list[int] = []
    pending = [pid]
    while pending and len(found) < MAX_DESCENDANTS:
        children = _children(pending.pop())
        found += children
        pending += children
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        with os.scandir(f"/proc/{pid}/task") as tasks:
            for task in tasks:
                with open(f"/proc/{pid}/task/{task.name}/children") as listing:
                    children.extend(int(child) for child in listing.read().split())
    except OSError:
        pass  # gone meanwhile
    return children


def _carries(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            return marker in environ.read().split(b"\0")
    except OSError:
        return False  # gone, a zombie, or not ours to read


def _read_boot_id() -> str:
    with open("/proc/sys/kernel/random/boot_id") as boot_id:
        return boot_id.read().strip()


_BOOT_ID = _read_boot_id()


# ---- the wall-clock alarm --------------------------------------------------------------
# A timerfd on CLOCK_REALTIME armed with TFD_TIMER_ABSTIME and TFD_TIMER_CANCEL_ON_SET:
# the kernel wakes us at the due time itself, and when an NTP step or `date -s` moves
# the clock, the read fails with ECANCELED instead, so the scheduler recomputes at once.
# A suspended machine wakes it on resume, since CLOCK_REALTIME kept counting. Python has
# no timerfd binding, hence ctypes.

_CLOCK_REALTIME = 0
_TFD_TIMER_ABSTIME = 1
_TFD_TIMER_CANCEL_ON_SET = 2
# Armed this far ahead when nothing is due: it still reports every clock change.
_IDLE_SECONDS = 365 * 86400


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


_libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.timerfd_settime.argtypes = [
    ctypes.c_int,
    ctypes.c_int,
    ctypes.POINTER(_Itimerspec),
    ctypes.POINTER(_Itimerspec),
]


class TimerFd:
    def __init__(self) -> None:
        fd = _libc.timerfd_create(_CLOCK_REALTIME, os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self.fd: int = fd

    def set(self, when: float | None, now: float) -> None:
        target = now + _IDLE_SECONDS if when is None else max(when, 1e-6)
        seconds = int(target)
        value = _Timespec(seconds, int((target - seconds) * 1e9))
        spec = _Itimerspec(_Timespec(0, 0), value)
        flags = _TFD_TIMER_ABSTIME | _TFD_TIMER_CANCEL_ON_SET
        if _libc.timerfd_settime(self.fd, flags, ctypes.byref(spec), None) < 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")

    def read(self) -> str | None:
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
