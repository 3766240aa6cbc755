"""A job's facts: one record for a supervisor's state report, a job event's data, root's
copy for a replacement supervisor, and the controller's cache.

Its holder (the supervisor, or the controller while no supervisor holds the job) is the
one writer; everyone else reads a copy. It travels as a flat map of these fields
(procclaw/wire_record.py), the same names in every layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Self, TypeVar

from procclaw.run import Run
from procclaw.states import JobState
from procclaw.wire_record import WireRecord


@dataclass(frozen=True, slots=True)
class JobFacts(WireRecord):
    job: str
    state: JobState = JobState.STOPPED
    # The current run, if any: its process is known by pid and kernel start time together.
    pid: int | None = None
    job_start: str | None = None  # the kernel's start time of pid (job_process.py)
    run_id: str | None = None
    started_at: float | None = None  # wall clock
    # What ends the run at a stop: "cgroup" (its own, `cgroup`, killed whole by
    # cgroup.kill) or "process group + run marker" (where the daemon has no cgroups).
    stops_by: str | None = None
    cgroup: str | None = None
    cause: str | None = None  # how the current (or last) run was started (procclaw/run.py)
    restarts: int = 0
    attempt: int = 0  # of the retry policy, since the job last ran long enough
    last_exit: str | None = None
    reason: str | None = None
    retry_in: float | None = None  # in backoff: seconds until the next start
    # Who holds it: a supervisor, named, and its process (pid and start time).
    supervisor: str | None = None
    sup_pid: int | None = None
    sup_start: str | None = None
    generation: int = 0  # which placement reported this: older ones are ignored
    # What the run said on its NOTIFY_SOCKET.
    ready: bool = False
    status_text: str | None = None
    watchdog_at: float | None = None
    # The last line matching an output check's pattern (wall clock), and whether it is
    # older than the check's max_age.
    heartbeat_at: float | None = None
    heartbeat_late: bool = False
    waiting_since: float | None = None  # waiting for a dependency since (wall clock)
    # Output its logs cannot take, dropped: `stdout: disk full since 12:03:04, 1.2 MB dropped`.
    log_trouble: str | None = None

    def but(self, **changes: Any) -> Self:
        """These facts with `changes`."""
        return replace(self, **changes)

    def extended(self, record: type[Facts], **more: Any) -> Facts:
        """These facts as a `record` that carries `more` besides."""
        return record(**{name: getattr(self, name) for name in _FACTS}, **more)


@dataclass(frozen=True, slots=True)
class JobExited(JobFacts):
    """The data of `job.<id>.exited`: the facts as the run ended, and how it ended."""

    exit_code: int | None = None
    signal: str | None = None
    uptime: float = 0.0


@dataclass(frozen=True, slots=True)
class HeldFacts(JobFacts):
    """What a supervisor tells root of a job it holds: its facts, and all a replacement
    needs to carry on exactly where it was (root hands it back in the placement)."""

    kill_at: float | None = None  # stopping: when the grace period ends (wall clock)
    retry_at: float | None = None  # in backoff: when the next start is due (wall clock)
    then_start: bool = False  # start again once the stop under way is done (restart)
    restart_cause: str = ""  # ... and how that restart was asked for (procclaw/run.py)
    then_retry: str | None = None  # found unhealthy (why): retried as if it had crashed
    queued: bool = False  # run again when this run ends
    timed_out: bool = False  # stopping for max_runtime
    last_run: Run | None = None  # the run that ended, if its report may not be on record


_FACTS = tuple(JobFacts.__dataclass_fields__)
Facts = TypeVar("Facts", bound=JobFacts)
