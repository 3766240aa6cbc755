"""How a supervisor ends its job's run: the stop signal, the grace period, the kill;
the watch on `max_runtime`, after which the run is to be stopped; and, once the run
exited, the killing of whatever it left behind. Where the run has a cgroup, the kill
after the grace period is its `cgroup.kill`, and the run's end empties and removes the
cgroup (run_cgroups.py): nothing of the run can be elsewhere, so the searches of /proc
(the snapshot of its descendants, the run-marker kill) are left to runs without one.

`kill_at` (wall clock: when the grace period ends) is among the facts handed to a
replacement supervisor, which resumes the grace period where it was. The supervisor
decides when to stop and what state that means; this only signals and times.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from actors.runtime.job_process import (
    JobProcess,
    descendants,
    has_strays,
    kill_everything,
    kill_marked,
    kill_processes,
    signal_group,
)
from actors.runtime.loop import EventLoop, Timer
from actors.supervisor.run_cgroups import RunCgroups
from procclaw.config import JobConfig

log = logging.getLogger("procclaw.supervisor")


class StopSequence:
    """One job's stops; `on_overrun` is called when a run has lasted max_runtime."""

    def __init__(
        self,
        loop: EventLoop,
        job: JobConfig,
        name: str,
        on_overrun: Callable[[], None],
        cgroups: RunCgroups,
    ):
        self._loop = loop
        self._cgroups = cgroups
        self._job = job
        self._name = name
        self._on_overrun = on_overrun
        self.kill_at: float | None = None
        self._grace: Timer | None = None
        self._deadline: Timer | None = None
        # The run's processes when its stop began: killed once it exited, wherever they
        # went, even with no run marker left in their environment.
        self._snapshot: list[tuple[int, str]] = []

    def watch_runtime(self, process: JobProcess) -> None:
        """Call `on_overrun` once the run has lasted max_runtime (counted from its start)."""
        if self._job.max_runtime is None:
            return
        left = process.started_at + self._job.max_runtime - time.time()
        self._deadline = self._loop.call_later(max(0.0, left), self._overrun)

    def _overrun(self) -> None:
        self._deadline = None
        self._on_overrun()

    def fix_kill_at(self, force: bool) -> None:
        """Set when the grace period of the stop about to begin ends (now, if `force`)."""
        self.kill_at = time.time() + (0.0 if force else self._job.shutdown.grace_period)

    def begin(self, process: JobProcess, force: bool) -> None:
        """Kill the run at once (`force`), or send the stop signal and kill it at kill_at."""
        self._snapshot = [] if process.cgroup else descendants(process.pid)
        if force:
            self.kill(process)
            return
        signal_group(process.pid, signal.Signals[self._job.shutdown.signal])
        self._kill_later(process, self._job.shutdown.grace_period)

    def resume(self, process: JobProcess, kill_at: float | None) -> None:
        """Carry on the grace period of a stop a dead predecessor began."""
        self.kill_at = kill_at or time.time()
        self._kill_later(process, max(0.0, self.kill_at - time.time()))

    def kill(self, process: JobProcess) -> None:
        if process.cgroup:
            signal_group(process.pid, signal.SIGKILL)
            self._cgroups.kill(process.cgroup)
        else:
            kill_everything(process.pid, process.run_id)

    def _kill_later(self, process: JobProcess, delay: float) -> None:
        def grace_expired() -> None:
            self._grace = None
            log.info("%s: grace period over; killing the job", self._name)
            self.kill(process)

        self._grace = self._loop.call_later(delay, grace_expired)

    def ended(self, process: JobProcess) -> None:
        """The run exited: nothing of its group may outlive it, nothing is left to time."""
        # The group id is only safe to signal when we reaped the leader ourselves just
        # now; an adopted job's may be reused.
        if not process.adopted:
            signal_group(process.pid, signal.SIGKILL)
        for timer in (self._grace, self._deadline):
            if timer is not None:
                timer.cancel()
        self._grace = self._deadline = None
        self.kill_at = None

    def kill_stragglers(self, process: JobProcess, runs: frozenset[int], emptied: bool) -> None:
        """Kill what left the run's group, unless its cgroup was `emptied` (it held all
        of the run): what was below it when its stop began, and what carries the run's
        marker. The marker search is skipped when no child but the live `runs` of our
        jobs is ours (we are a subreaper)."""
        kill_processes(self._snapshot)
        self._snapshot = []
        if not emptied and (process.adopted or has_strays(runs)):
            kill_marked(process.run_id)
