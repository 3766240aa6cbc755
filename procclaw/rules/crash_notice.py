"""Which exits are crashes and which starts are restarts: the news behind the `crash`
and `restart` alerts.

A crash is an exit nobody asked for, of a job that was meant to be running. Asked for
means the job was `stopping` when it exited: by `stop`, `restart`, a reload, `daemon
stop`, its max_runtime, or its health check giving up (which alerts `unhealthy`).
A service (`continuous`) is meant to run until stopped, so any other exit of it is a
crash, even with code 0 under `restart: always`, which restarts it as for any other
crash; under `on-failure` or `never`, exit 0 is how it says it is done, and it ends
`completed`. A manual or scheduled run is meant to run to its end: it crashed when it
ended with a code other than 0 or by a signal.

A restart is a run started by the retry policy, after a crash or a stop for being
unhealthy: the only starts that count `restarts`, which a start or restart by hand
sets back to 0.
"""

from __future__ import annotations

from procclaw.job_facts import JobExited, JobFacts
from procclaw.states import JobState


def is_crash(exited: JobExited, job_type: str, restart: str) -> bool:
    """Whether the run that `exited` (the data of `job.<id>.exited`) crashed, for a job
    of `job_type` with the `restart` policy."""
    if exited.state == JobState.STOPPING:
        return False
    if exited.exit_code != 0:  # a code, a signal, or an exit status nobody saw
        return True
    return job_type == "continuous" and restart == "always"


def is_restart(running: JobFacts) -> bool:
    """Whether a job reported `running` (the data of `job.<id>.running`) was started
    again by its retry policy."""
    return running.state == JobState.RUNNING and running.restarts > 0
