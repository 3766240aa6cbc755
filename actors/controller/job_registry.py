"""The controller's cache of every job's facts, and the finished runs, in procclaw.db.

Each job's supervisor owns its facts (procclaw/job_facts.py) and reports every change;
the registry keeps the latest report of each job in memory and in the database before
acknowledging it, so a restarted controller, or the next daemon after a crash, starts
from exactly what was last reported. While no supervisor holds a job, the controller
is its one writer, through `set_state`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from procclaw import protocol
from procclaw.config import JobConfig
from procclaw.job_facts import JobFacts
from procclaw.protocol import ProtocolError
from procclaw.reports import Report
from procclaw.run import Run
from procclaw.states import LIVE_STATES, RUNNING_STATES, JobState, check_transition
from procclaw.store import Store

log = logging.getLogger("procclaw.controller")

Publish = Callable[[str, JobFacts], None]


class JobRegistry:
    def __init__(self, store: Store, publish: Publish):
        self.store = store
        self._publish = publish
        self._facts = {job: _stored(job, data) for job, data in store.job_states().items()}

    def facts(self, job_id: str) -> JobFacts:
        return self._facts.get(job_id) or JobFacts(job_id)

    def state(self, job_id: str) -> JobState:
        return self.facts(job_id).state

    def is_live(self, job_id: str) -> bool:
        return self.state(job_id) in LIVE_STATES

    def live_jobs(self) -> list[str]:
        return [job for job in self._facts if self.is_live(job)]

    def update(self, facts: JobFacts) -> None:
        self._facts[facts.job] = facts
        self.store.save_job_state(facts.job, facts.to_wire())

    def set_state(self, job_id: str, state: JobState, reason: str | None, **extra: Any) -> JobFacts:
        """The controller's one change of a job's state, made only while no supervisor
        holds the job: it waits for a dependency, or was never placed, or its supervisor
        went with the last daemon. Checked against the transition table, and published
        here, once."""
        current = self.facts(job_id)
        if state != current.state:
            check_transition(current.state, state)
        changes: dict[str, Any] = {
            "state": state,
            "reason": reason,
            "pid": None,  # no supervisor, so no process anyone watches
            # Reports still on their way from the job's last supervisor are older news.
            "generation": current.generation + 1,
            "waiting_since": None,
        }
        facts = current.but(**{**changes, **extra})
        self.update(facts)
        self._publish(protocol.job_topic(job_id, state.value), facts)
        return facts

    def hand_over(self, facts: JobFacts) -> None:
        """A new supervisor was asked for: from now on only its state reports count.

        The one before it may still be re-sending its last report, and that must not
        overwrite the new supervisor's word.
        """
        self.update(facts.but(state=JobState.STARTING, reason=None, sup_pid=None))

    def record(self, report: Report) -> None:
        """Store one report from a supervisor; a re-sent copy changes nothing."""
        if isinstance(report, Run):
            self.store.record_run(report)
            return
        if report.generation < self.facts(report.job).generation:
            return  # from a supervisor that has been succeeded
        self.update(report)

    def summary(self, job: JobConfig, facts: JobFacts | None = None) -> dict[str, Any]:
        """What `list` and `status` show of a job, from `facts` or else the cache."""
        facts = facts or self.facts(job.id)
        running = facts.state in RUNNING_STATES and facts.started_at
        held = facts.state in LIVE_STATES and facts.state != JobState.WAITING
        return {
            "id": job.id,
            "name": job.name,
            "type": job.type,
            "state": facts.state.value,
            "pid": facts.pid if running else None,
            "run_id": facts.run_id if running else None,
            "cause": facts.cause if running else None,  # who started the run (run.py)
            # What kills every process of the run at a stop (its cgroup, where it has one).
            "stops_by": facts.stops_by if running else None,
            "cgroup": facts.cgroup if running else None,
            "uptime": time.time() - facts.started_at if running else None,
            "restarts": facts.restarts,
            "last_exit": facts.last_exit,
            "reason": facts.reason,
            "tags": list(job.tags),
            "enabled": job.enabled,
            # Who holds it (a live job): `daemon status` lists the supervisors.
            "supervisor": facts.supervisor if held else None,
            "sup_pid": facts.sup_pid if held else None,
            "log_trouble": facts.log_trouble if held else None,
            # An output check's news so far: what a health actor syncing now goes by.
            "heartbeat_at": facts.heartbeat_at if running else None,
            "heartbeat_late": bool(running and facts.heartbeat_late),
        }

    def log_troubles(self) -> dict[str, str]:
        """Each live job whose logs drop its output, and why: for `daemon status`."""
        return {
            job: facts.log_trouble
            for job, facts in self._facts.items()
            if facts.log_trouble and self.is_live(job)
        }


def _stored(job_id: str, data: dict[str, Any]) -> JobFacts:
    """Facts as the database kept them; those of an earlier release keep what still
    has a meaning, and unreadable ones leave the job at rest."""
    known = {key: value for key, value in data.items() if key in JobFacts.__dataclass_fields__}
    try:
        return JobFacts.from_wire({**known, "job": job_id})
    except ProtocolError as exc:
        log.error("job %s: its recorded facts are unreadable (%s); taken as stopped", job_id, exc)
        return JobFacts(job_id, reason="its recorded facts were unreadable")
