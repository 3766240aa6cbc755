"""The controller's cache of every job's facts, and the finished runs, in procclaw.db.

Each job's supervisor owns its facts (state, pid, restarts, ...) and reports every
change; the registry keeps the latest report of each job in memory and in the
database before acknowledging it, so a restarted controller, or the next daemon after
a crash, starts from exactly what was last reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from procclaw import protocol
from procclaw.config import JobConfig
from procclaw.states import LIVE_STATES, RUNNING_STATES, JobState, check_transition
from procclaw.store import Run, Store

Publish = Callable[[str, dict[str, Any]], None]


class JobRegistry:
    def __init__(self, store: Store, publish: Publish):
        self.store = store
        self._publish = publish
        self._facts: dict[str, dict[str, Any]] = store.job_states()

    def facts(self, job_id: str) -> dict[str, Any]:
        return self._facts.get(job_id) or {"job": job_id, "state": JobState.STOPPED.value}

    def state(self, job_id: str) -> JobState:
        return JobState(self.facts(job_id)["state"])

    def is_live(self, job_id: str) -> bool:
        return self.state(job_id) in LIVE_STATES

    def live_jobs(self) -> list[str]:
        return [job for job in self._facts if self.is_live(job)]

    def update(self, job_id: str, facts: dict[str, Any]) -> None:
        self._facts[job_id] = {**facts, "job": job_id}
        self.store.save_job_state(job_id, self._facts[job_id])

    def set_state(
        self, job_id: str, state: JobState, reason: str | None, **extra: Any
    ) -> dict[str, Any]:
        """The controller's one change of a job's state, made only while no supervisor
        holds the job: it waits for a dependency, or was never placed, or its supervisor
        went with the last daemon. Checked against the transition table, and published
        here, once."""
        current = self.state(job_id)
        if state != current:
            check_transition(current, state)
        facts = {**self.facts(job_id), "state": state.value, "reason": reason, **extra}
        facts["pid"] = None  # no supervisor, so no process anyone watches
        # Reports still on their way from the job's last supervisor are older news.
        facts["generation"] = facts.get("generation", 0) + 1
        if state != JobState.WAITING:
            facts.pop("waiting_since", None)
        self.update(job_id, facts)
        self._publish(protocol.job_topic(job_id, state.value), self._facts[job_id])
        return self._facts[job_id]

    def hand_over(self, job_id: str, facts: dict[str, Any]) -> None:
        """A new supervisor was asked for: from now on only its state reports count.

        The one before it may still be re-sending its last report, and that must not
        overwrite the new supervisor's word.
        """
        self.update(
            job_id, {**facts, "state": JobState.STARTING.value, "reason": None, "sup_pid": None}
        )

    def record(self, report: dict[str, Any]) -> None:
        """Store one report from a supervisor; a re-sent copy changes nothing."""
        if report.get("kind") == "run":
            self.store.record_run(
                Run(
                    run_id=str(report["run_id"]),
                    job=str(report["job"]),
                    started_at=float(report["started_at"]),
                    ended_at=float(report["ended_at"]),
                    exit_code=report.get("exit_code"),
                    signal=report.get("signal"),
                    result=str(report["result"]),
                    output=tuple(report.get("output") or ()),
                )
            )
            return
        job_id = str(report["job"])
        if report.get("generation", 0) < self.facts(job_id).get("generation", 0):
            return  # from a supervisor that has been succeeded
        self.update(job_id, {k: v for k, v in report.items() if k != "kind"})

    def summary(self, job: JobConfig, facts: dict[str, Any] | None = None) -> dict[str, Any]:
        """What `list` and `status` show of a job, from `facts` or else the cache."""
        facts = facts or self.facts(job.id)
        state = JobState(facts["state"])
        started_at = facts.get("started_at")
        running = state in RUNNING_STATES and started_at
        held = state in LIVE_STATES and state != JobState.WAITING
        return {
            "id": job.id,
            "name": job.name,
            "type": job.type,
            "state": state.value,
            "pid": facts.get("pid") if running else None,
            "run_id": facts.get("run_id") if running else None,
            "uptime": time.time() - started_at if running else None,
            "restarts": facts.get("restarts", 0),
            "last_exit": facts.get("last_exit"),
            "reason": facts.get("reason"),
            "tags": list(job.tags),
            "enabled": job.enabled,
            # Who holds it (a live job): `daemon status` lists the supervisors.
            "supervisor": facts.get("supervisor") if held else None,
            "sup_pid": facts.get("sup_pid") if held else None,
        }
