"""What a supervisor does for a command about one held job, each answered with its facts.

`start` (from backoff), `stop {force}`, `restart`, `unhealthy {reason}` (from the
controller: stop the job and restart it through its retry policy, as if it had crashed),
`queue` (a scheduled run that found this one still going: run once more after it) and
`state`. The job's state changes are its JobSupervision's (job_supervision.py).
"""

from __future__ import annotations

from typing import Any

from actors.supervisor.job_supervision import JobSupervision
from procclaw.commands import HeldJobsArgs, JobArgs, StartArgs, UnhealthyArgs
from procclaw.protocol import CommandError, ErrorCode
from procclaw.states import RESTING_STATES, JobState


def start(held: JobSupervision, args: StartArgs | HeldJobsArgs) -> dict[str, Any]:
    if held.state != JobState.BACKOFF:
        raise CommandError(ErrorCode.CONFLICT, f"job '{held.job.id}' is already {held.state}")
    held.start_afresh(args.cause)
    return held.facts().to_wire()


def stop(held: JobSupervision, args: HeldJobsArgs) -> dict[str, Any]:
    held.after_exit.forget_wishes()
    held.stop(force=args.force)
    return held.facts().to_wire()


def restart(held: JobSupervision, args: HeldJobsArgs) -> dict[str, Any]:
    # In backoff, ended a moment ago, or nothing runs yet (its secrets or child_setup
    # are awaited): restarting is starting, afresh.
    if held.state == JobState.BACKOFF or held.state in RESTING_STATES or held.starts.waiting:
        held.start_afresh(args.cause)
    else:
        held.restart_after_stop(args.cause)
    return held.facts().to_wire()


def unhealthy(held: JobSupervision, args: UnhealthyArgs) -> dict[str, Any]:
    """Restart a running job its health check gave up on, counted like a crash."""
    if held.state == JobState.RUNNING:
        held.after_exit.retry_as_unhealthy(args.reason)
        held.stop(force=False)
    return held.facts().to_wire()


def queue(held: JobSupervision, _args: JobArgs) -> dict[str, Any]:
    """Hold one more run for when this one ends; `queued` is false if one is held."""
    if held.state in RESTING_STATES or held.done:
        raise CommandError(ErrorCode.CONFLICT, f"job '{held.job.id}' is not running")
    if not held.after_exit.queue():
        return {"queued": False}
    held.host.tell_root(held.job.id, None)  # a replacement keeps the queued run
    return {"queued": True}


def state(held: JobSupervision, _args: JobArgs) -> dict[str, Any]:
    last_run = held.last_run.to_wire() if held.last_run else None
    return {**held.facts().to_wire(), "last_run": last_run}
