"""How a supervisor learns that one of its jobs' runs ended, and with which wait status.

A run it spawned is its child: one SIGCHLD handler (`ChildReaper`) reaps every exited
child, the runs of all its jobs and any straggler they left (a supervisor is a child
subreaper), and hands each run's status to that run's watcher. A run adopted from a
supervisor that died is root's child: the platform's exit watch (a pidfd on Linux) says
when it ends, and root, which reaped it, is asked for its status (`reaped`, without
waiting); with root gone too, the status is lost (None).
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from actors.runtime.async_calls import AsyncCalls
from actors.runtime.children import exited_children
from actors.runtime.job_process import JobProcess, is_same_process
from actors.runtime.loop import EventLoop
from procclaw.platform import ExitWatch, current

OnExit = Callable[[int | None], None]
# Root answers `reaped` from memory; past this, it is taken to be gone.
REAPED_TIMEOUT = 2.0


class ChildReaper:
    """Reaps the supervisor's children on SIGCHLD and calls the watcher of each run."""

    def __init__(self, loop: EventLoop):
        self._loop = loop
        self._watchers: dict[int, tuple[JobProcess, OnExit | None]] = {}
        self._ended_unwatched: dict[int, int] = {}  # pid -> status, for `watch` to take
        loop.on_signal(signal.SIGCHLD, lambda _s: self.reap())

    def expect(self, process: JobProcess) -> None:
        """A child whose watcher comes later: a run whose setup (child_setup) reports
        first. If it ends before then, its status is kept for `watch`, not reaped unseen."""
        self._watchers[process.pid] = (process, None)

    def watch(self, process: JobProcess, on_exit: OnExit) -> None:
        """Call `on_exit(status)` when the run ends; on the next turn of the loop if it
        has ended already."""
        if process.pid in self._ended_unwatched:
            status = self._ended_unwatched.pop(process.pid)
            self._loop.call_later(0, lambda: on_exit(status))
            return
        self._watchers[process.pid] = (process, on_exit)

    def forget(self, pid: int) -> None:
        """An expected child that is no run after all (its setup failed or was ended),
        reaped by its own Popen, or here if it ended first."""
        self._watchers.pop(pid, None)
        self._ended_unwatched.pop(pid, None)

    @property
    def runs(self) -> frozenset[int]:
        """The pids of the runs we spawned that have not exited yet."""
        return frozenset(self._watchers)

    def reap(self) -> None:
        # Every exited child first, then their handlers: fifty jobs stopped at once
        # leave no zombie waiting while the ones before it are recorded.
        for pid, status in list(exited_children()):
            watched = self._watchers.pop(pid, None)
            if watched is None:
                continue
            process, on_exit = watched
            if process.popen is not None:
                process.popen.returncode = status  # reaped here, not by Popen
            if on_exit is None:
                self._ended_unwatched[pid] = status
            else:
                on_exit(status)


class RunExits:
    """Calls `on_exit(status)` when the run of one job ends."""

    def __init__(
        self,
        loop: EventLoop,
        calls: AsyncCalls,
        reaper: ChildReaper,
        on_exit: OnExit,
    ):
        self._loop = loop
        self._calls = calls
        self._reaper = reaper
        self._on_exit = on_exit
        self._watch: ExitWatch | None = None

    def spawned(self, process: JobProcess) -> None:
        """Watch a run we just spawned (our child)."""
        self._reaper.watch(process, self._on_exit)

    def adopt(self, process: JobProcess) -> bool:
        """Watch an adopted run; False when it had ended already (`on_exit` was called)."""
        if is_same_process(process.pid, process.start_time):
            self._watch = current().watch_exit(process.pid)
            if self._watch is not None:
                self._loop.add_reader(self._watch.fd, lambda: self._adopted_exited(process))
                return True
        self._adopted_exited(process)  # gone already: root may hold its exit status
        return False

    def close(self) -> None:
        if self._watch is not None:
            self._loop.remove_reader(self._watch.fd)
            self._watch.close()
            self._watch = None

    def _adopted_exited(self, process: JobProcess) -> None:
        self.close()
        self._calls.call(
            "daemon",
            "reaped",
            {"pid": process.pid},
            lambda reply: self._on_exit(reply.get("status")),
            lambda _code, _message: self._on_exit(None),  # root is gone: init reaped it
            REAPED_TIMEOUT,
        )
