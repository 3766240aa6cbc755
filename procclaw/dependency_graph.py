"""Who waits for whom: the jobs' `depends_on` entries turned into start and stop order.

`X depends_on Y` with after_start makes X wait until Y is ready; with after_complete,
until Y's latest run exited 0. `X depends_on Y` with before_complete is the reverse
edge: Y waits until X completed. Every edge, whichever way it was written, becomes a
`Requirement` of the waiting job. Stopping goes the other way: a job is stopped only
after every job waiting on it. The config check has already refused cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from procclaw.config import Config

READY = "ready"
COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Requirement:
    """The waiting job needs `target` to be READY or COMPLETED within `timeout` seconds."""

    target: str
    needs: str
    timeout: float

    def describe(self) -> str:
        return f"'{self.target}' to be {self.needs}"


def requirements(config: Config, job_id: str) -> list[Requirement]:
    """What `job_id` waits for before it starts, in file order."""
    found = []
    for job in config.jobs:
        for dependency in job.depends_on:
            if job.id == job_id and dependency.condition != "before_complete":
                needs = READY if dependency.condition == "after_start" else COMPLETED
                found.append(Requirement(dependency.job, needs, dependency.timeout))
            elif dependency.job == job_id and dependency.condition == "before_complete":
                found.append(Requirement(job.id, COMPLETED, dependency.timeout))
    return found


def waiters(config: Config, job_id: str) -> list[str]:
    """The jobs with a requirement on `job_id`: they start after it and stop before it."""
    return [
        job.id
        for job in config.jobs
        if any(req.target == job_id for req in requirements(config, job.id))
    ]
