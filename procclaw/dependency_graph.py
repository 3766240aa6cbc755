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


class DependencyGraph:
    """Every job's requirements and waiters, worked out once per config: asking about one
    job then costs nothing, however many jobs there are."""

    def __init__(self, config: Config):
        self._requirements: dict[str, list[Requirement]] = {job.id: [] for job in config.jobs}
        self._waiters: dict[str, list[str]] = {job.id: [] for job in config.jobs}
        for job in config.jobs:
            for dependency in job.depends_on:
                waiting, target = dependency.edge(job.id)
                needs = READY if dependency.condition == "after_start" else COMPLETED
                requirement = Requirement(target, needs, dependency.timeout)
                self._requirements.setdefault(waiting, []).append(requirement)
        for job in config.jobs:  # waiters in file order, each once
            for target in dict.fromkeys(req.target for req in self._requirements[job.id]):
                self._waiters.setdefault(target, []).append(job.id)

    def requirements(self, job_id: str) -> list[Requirement]:
        """What `job_id` waits for before it starts."""
        return self._requirements.get(job_id, [])

    def waiters(self, job_id: str) -> list[str]:
        """The jobs with a requirement on `job_id`: they start after it and stop before it."""
        return self._waiters.get(job_id, [])
