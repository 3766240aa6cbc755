"""A job's states, their groups, and which transitions are allowed. Imports nothing."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    STOPPED = "stopped"  # not running, and not meant to be
    WAITING = "waiting"  # for a dependency
    STARTING = "starting"  # being spawned
    RUNNING = "running"
    STOPPING = "stopping"  # signalled, within its grace period
    COMPLETED = "completed"  # a manual or scheduled run that exited 0
    BACKOFF = "backoff"  # exited; restarting after a delay
    FAILED = "failed"  # exited and will not be restarted until asked


# Some process of the job may be alive: it needs a supervisor.
LIVE_STATES = frozenset(
    {JobState.WAITING, JobState.STARTING, JobState.RUNNING, JobState.STOPPING, JobState.BACKOFF}
)
# The job is at rest: nothing runs, nothing is due.
RESTING_STATES = frozenset({JobState.STOPPED, JobState.COMPLETED, JobState.FAILED})
RUNNING_STATES = frozenset({JobState.RUNNING, JobState.STOPPING})

_ALLOWED: dict[JobState, frozenset[JobState]] = {
    JobState.STOPPED: frozenset({JobState.STARTING, JobState.WAITING}),
    JobState.COMPLETED: frozenset({JobState.STARTING, JobState.WAITING}),
    JobState.FAILED: frozenset({JobState.STARTING, JobState.WAITING}),
    JobState.WAITING: frozenset({JobState.STARTING, JobState.FAILED, JobState.STOPPED}),
    # An adopted job may turn out to have ended while nobody watched it; a restart of a
    # job that runs nothing yet begins its start again.
    JobState.STARTING: frozenset(
        {
            JobState.STARTING,
            JobState.RUNNING,
            JobState.FAILED,
            JobState.STOPPED,
            JobState.BACKOFF,
            JobState.COMPLETED,
        }
    ),
    JobState.RUNNING: frozenset(
        {JobState.STOPPING, JobState.BACKOFF, JobState.COMPLETED, JobState.FAILED, JobState.STOPPED}
    ),
    # A job stopped because it was unhealthy is restarted by its retry policy.
    JobState.STOPPING: frozenset({JobState.STOPPED, JobState.FAILED, JobState.BACKOFF}),
    JobState.BACKOFF: frozenset({JobState.STARTING, JobState.STOPPED, JobState.FAILED}),
}


class TransitionError(Exception):
    """A state change that cannot happen: a bug in the caller, never the user's input."""


def check_transition(current: JobState, new: JobState) -> None:
    if new not in _ALLOWED[current]:
        raise TransitionError(f"a job cannot go from {current} to {new}")


# What `list --status` and the API's `status=` filter by: a state, or `paused` for the
# jobs that are paused, or `disabled` for those that do not start by themselves
# (whatever their run is doing).
PAUSED = "paused"
DISABLED = "disabled"
STATUS_FILTERS = (*(state.value for state in JobState), PAUSED, DISABLED)


def matches_status(job: dict, status: str) -> bool:
    """Whether a job summary (as `list` answers it) passes the `status` filter."""
    if status == PAUSED:
        return bool(job.get("paused"))
    if status == DISABLED:
        return not job.get("enabled", True)
    return job["state"] == status
