"""The controller's copy of each job's health, as the health actor last reported it.

The health actor owns health (it runs the checks); it reports every transition, and
sends all it knows again when a new controller comes up, so this cache is rebuilt
after a controller restart without asking. A `process` check's verdict is recorded by
the controller itself from the job's own reports: running is healthy. A report is
about one run (`run_id`): a report about an earlier run of the job says nothing about
the current one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from procclaw.config import Config, JobConfig
from procclaw.job_facts import JobFacts
from procclaw.reports import HealthReport
from procclaw.states import JobState

# Health checks that say more than "the process is alive": a job having one of these
# is ready for its dependents only once it passed it.
READINESS_CHECKS = frozenset({"http", "file", "watchdog", "output"})


@dataclass
class HealthRecord:
    run_id: str | None
    healthy: bool
    reason: str | None
    unhealthy_count: int = 0
    recovered_count: int = 0


class JobHealth:
    def __init__(self) -> None:
        self._records: dict[str, HealthRecord] = {}

    def record(self, report: HealthReport) -> bool:
        """Keep one report; True if it changed the job's health."""
        job_id, healthy, run_id = report.job, report.healthy, report.run_id
        previous = self._records.get(job_id)
        if previous is not None and previous.run_id == run_id and previous.healthy == healthy:
            return False
        record = HealthRecord(run_id, healthy, report.reason)
        if previous is not None:
            record.unhealthy_count = previous.unhealthy_count
            record.recovered_count = previous.recovered_count
        if not healthy:
            record.unhealthy_count += 1
        elif previous is not None and previous.run_id == run_id and not previous.healthy:
            record.recovered_count += 1
        self._records[job_id] = record
        return True

    def judge_process_checks(self, config: Config, facts_of: Callable[[str], JobFacts]) -> None:
        """The verdict of every running job whose check is `process`."""
        for job in config.jobs:
            self.judge_process_check(job, facts_of(job.id))

    def judge_process_check(self, job: JobConfig | None, facts: JobFacts) -> None:
        """A `process` check's verdict, the controller's own: a running run is healthy
        (its exit, when it comes, ends the run)."""
        if job is None or job.health_check.type != "process":
            return
        if facts.state == JobState.RUNNING and facts.run_id is not None:
            self.record(HealthReport(job=job.id, run_id=facts.run_id, healthy=True))

    def is_healthy(self, job_id: str, run_id: str | None) -> bool:
        record = self._records.get(job_id)
        return record is not None and record.run_id == run_id and record.healthy

    def label(self, job_id: str, state: str, run_id: str | None) -> str | None:
        """`healthy`, `unhealthy`, `starting` (no verdict yet on this run), or None when
        the job is not running and so has nothing to check."""
        if state != JobState.RUNNING.value:
            return None
        record = self._records.get(job_id)
        if record is None or record.run_id != run_id:
            return "starting"
        return "healthy" if record.healthy else "unhealthy"

    def details(self, job_id: str) -> dict[str, Any]:
        """For `status`: the last reason and how often the job went unhealthy and back."""
        record = self._records.get(job_id)
        if record is None:
            return {"reason": None, "unhealthy_count": 0, "recovered_count": 0}
        return {
            "reason": record.reason,
            "unhealthy_count": record.unhealthy_count,
            "recovered_count": record.recovered_count,
        }
