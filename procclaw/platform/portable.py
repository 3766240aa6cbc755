"""POSIX and psutil, for macOS and any system without the Linux fast paths.

What it gives up, against `linux`:
- no child subreaper: what a job leaves behind after its leader exits goes to init
  (launchd), found again only by its run marker (PROCCLAW_RUN in its environment);
- a job's output is copied through the supervisor (read, then write), not spliced;
- a process that is not our child is watched by a thread: blocked in kqueue where it
  exists, else looking at it every POLL seconds (Linux with this layer forced);
- no cgroups: a stop kills the process group and what carries the run marker, CPU
  and memory are the live tree's, and a limits.cpu is refused (nothing could hold it);
- the wall-clock alarm re-checks the clock at least once a minute, so a clock step or a
  wake from sleep is noticed within that minute, not at once.
"""

from __future__ import annotations

import os
import select
import threading
import time
from pathlib import Path

import psutil
import setproctitle

from procclaw.platform.base import ChildSpec

# A clock step is told from a late wake-up by more than this much drift.
CLOCK_STEP = 1.0
# The alarm looks at the wall clock at least this often.
RECHECK = 60.0
# Where a process that is not our child can only be looked at: this often.
POLL = 0.05


class PortablePlatform:
    name = "portable"
    can_splice = False

    def set_process_name(self, name: str, title: str) -> None:
        setproctitle.setproctitle(title)  # macOS has no short name apart from it

    def become_subreaper(self) -> bool:
        return False

    def process_start_time(self, pid: int) -> str | None:
        try:
            return f"{psutil.Process(pid).create_time():.6f}"
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    def watch_exit(self, pid: int) -> ThreadWatch | None:
        try:
            process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return None
        return ThreadWatch(process)

    def wait_for_exit(self, pid: int, timeout: float) -> bool:
        try:
            process = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # the CLI, not an actor: it may poll
            if _ended(process):
                return True
            time.sleep(POLL)
        return _ended(process)

    def processes_marked(self, marker: bytes) -> list[int]:
        uid, me = os.getuid(), os.getpid()
        found = []
        for process in psutil.process_iter(["uids"]):
            uids = process.info["uids"]
            ours = process.pid != me and uids is not None and uids.real == uid
            if ours and _carries(process, marker):
                found.append(process.pid)
        return found

    def kill_marked(self, pid: int, marker: bytes) -> None:
        try:
            process = psutil.Process(pid)
            # psutil refuses to signal a pid that now names another process.
            if _carries(process, marker):
                process.kill()
        except psutil.Error:
            pass

    def descendants(self, pid: int) -> list[tuple[int, str]]:
        try:
            below = psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            return []
        found = []
        for process in below:
            try:
                found.append((process.pid, f"{process.create_time():.6f}"))
            except psutil.Error:
                continue
        return found

    def trees(self, roots: list[int]) -> dict[int, list[int]]:
        """From one pass over the process table, however many trees."""
        children: dict[int, list[int]] = {}
        for process in psutil.process_iter(["ppid"]):
            children.setdefault(process.info["ppid"], []).append(process.pid)
        found: dict[int, list[int]] = {}
        for root in roots:
            below: list[int] = []
            pending = [root]
            while pending:
                kids = children.get(pending.pop(), [])
                below += kids
                pending += kids
            found[root] = below
        return found

    def kill_same(self, pid: int, start_time: str) -> None:
        if self.process_start_time(pid) == start_time:
            try:
                psutil.Process(pid).kill()  # psutil, too, refuses a pid reused meanwhile
            except psutil.Error:
                pass

    def has_strays(self, runs: frozenset[int]) -> bool:
        return True  # no subreaper: leftovers are not our children, so look for them

    def enlarge_pipe(self, fd: int, size: int) -> None:
        """No way to: the default capacity serves."""

    def move_in_kernel(self, pipe_fd: int, file_fd: int, limit: int) -> int:
        raise NotImplementedError("no splice here: copy instead")

    def wall_clock_alarm(self) -> ThreadAlarm:
        return ThreadAlarm()

    def start_spawner(self, owner: str) -> None:
        """No cgroups here, so nothing is born in one."""

    def stop_spawner(self) -> None:
        """Nothing was started."""

    def spawn_in_cgroup(self, cgroup: str, spec: ChildSpec) -> None:
        """No cgroups here."""

    def job_cgroups(self, home: Path, create: bool) -> str:
        return "the portable platform uses no cgroups"

    def job_cgroups_offered(self, home: Path) -> str:
        return self.job_cgroups(home, create=False)


def _carries(process: psutil.Process, marker: bytes) -> bool:
    name, _, value = marker.decode().partition("=")
    try:
        return process.environ().get(name) == value
    except psutil.Error:
        return False  # gone, a zombie, or not ours to read


class ThreadWatch:
    """A pipe that a thread writes to once the process has exited."""

    def __init__(self, process: psutil.Process):
        self.fd, self._signal = os.pipe()
        self._closed = threading.Event()
        target = _kqueue_wait if hasattr(select, "kqueue") else _psutil_wait
        thread = threading.Thread(target=self._watch, args=(target, process), daemon=True)
        thread.start()

    def _watch(self, wait, process: psutil.Process) -> None:
        wait(process, self._closed)
        if not self._closed.is_set():
            _say(self._signal, b"x")
        os.close(self._signal)  # here, so that no write can reach a reused descriptor

    def close(self) -> None:
        self._closed.set()
        os.close(self.fd)


def _kqueue_wait(process: psutil.Process, closed: threading.Event) -> None:
    """Block in kqueue until the process exits (macOS, the BSDs): no polling."""
    queue = select.kqueue()
    try:
        event = select.kevent(
            process.pid,
            filter=select.KQ_FILTER_PROC,
            flags=select.KQ_EV_ADD | select.KQ_EV_ONESHOT,
            fflags=select.KQ_NOTE_EXIT,
        )
        try:
            queue.control([event], 0, 0)
        except ProcessLookupError:
            return
        while not closed.is_set() and not queue.control(None, 1, RECHECK):
            pass
    finally:
        queue.close()


def _psutil_wait(process: psutil.Process, closed: threading.Event) -> None:
    """Where there is no kqueue: look every POLL seconds. An exited process that its
    parent (init) has not reaped yet counts as ended: some inits reap late."""
    while not closed.is_set() and not _ended(process):
        closed.wait(POLL)


def _ended(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class ThreadAlarm:
    """A pipe that a thread writes `d` to at the due time, or `c` when the wall clock
    moved by itself (a step, or a wake from sleep); it looks at least once a minute."""

    def __init__(self) -> None:
        self.fd, self._signal = os.pipe()
        os.set_blocking(self.fd, False)
        self._when: float | None = None
        self._changed = threading.Event()
        self._closed = False
        threading.Thread(target=self._run, daemon=True).start()

    def set(self, when: float | None, now: float) -> None:
        self._when = when
        self._changed.set()

    def read(self) -> str | None:
        try:
            said = os.read(self.fd, 64)
        except BlockingIOError:
            return None
        if b"c" in said:
            return "clock set"
        return "due" if said else None

    def close(self) -> None:
        self._closed = True
        self._changed.set()
        os.close(self.fd)

    def _run(self) -> None:
        wall, mono = time.time(), time.monotonic()
        while not self._closed:
            when = self._when
            wait = RECHECK if when is None else max(0.0, min(RECHECK, when - time.time()))
            self._changed.wait(wait)
            self._changed.clear()
            if self._closed:
                break
            now_wall, now_mono = time.time(), time.monotonic()
            stepped = abs((now_wall - wall) - (now_mono - mono)) > CLOCK_STEP
            wall, mono = now_wall, now_mono
            if stepped:
                _say(self._signal, b"c")
            elif self._when is not None and now_wall >= self._when:
                self._when = None
                _say(self._signal, b"d")
        os.close(self._signal)


def _say(fd: int, what: bytes) -> None:
    """Wake the reader; a reader that closed meanwhile needs no waking."""
    try:
        os.write(fd, what)
    except OSError:
        pass
