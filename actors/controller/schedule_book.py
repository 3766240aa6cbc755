"""The controller's side of scheduled jobs: what each has had, and what a due time does.

The scheduler actor owns the timers; the controller owns the database, so every due
time the scheduler reaches comes here (`fire`) and is written down before anything
runs. A due time at or before the last one written is refused as a duplicate: a
scheduler that crashed and re-sent, or was restarted and recomputed, can never run a
job twice for one due time. Here too a due time meets the job's pause
(actors/controller/job_pauses.py) and its `on_overlap` policy, since only the
controller knows whether the job is running.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from actors.controller.job_control import JobControl
from actors.runtime.command_server import Deferred, gather
from procclaw.commands import Fire
from procclaw.config import Config, JobConfig
from procclaw.cron import CronSchedule
from procclaw.protocol import CommandError, ErrorCode
from procclaw.states import LIVE_STATES, JobState
from procclaw.store import ScheduleMark, Store

log = logging.getLogger("procclaw.controller")

# What the scheduler may ask for a due time: run it (on time, late after the scheduler
# itself was down, or as the one catch-up run after the daemon was down), or only
# record it as handled.
FIRE_ACTIONS = frozenset({"run", "late", "catchup", "mark"})
NEXT_RUNS_SHOWN = 3


class ScheduleBook:
    def __init__(self, store: Store, jobs: JobControl, daemon_id: str):
        self._store = store
        self._jobs = jobs
        self._daemon_id = daemon_id
        self._marks: dict[str, ScheduleMark] = store.schedule_marks()

    def mark(self, job_id: str) -> ScheduleMark:
        return self._marks.get(job_id) or ScheduleMark()

    def _save(self, job_id: str, mark: ScheduleMark) -> None:
        self._store.save_schedule_mark(job_id, mark)
        self._marks[job_id] = mark

    # ---- for the scheduler -------------------------------------------------------------

    def scheduled(self, config: Config) -> dict[str, Any]:
        """The enabled scheduled jobs, each with the last due time handled and by whom."""
        jobs = []
        for job in config.jobs:
            if job.type == "scheduled" and job.enabled and job.schedule:
                mark = self.mark(job.id)
                jobs.append(
                    {
                        "job": job.id,
                        "schedule": job.schedule,
                        "timezone": job.timezone,
                        "catchup": job.catchup,
                        "last_due": mark.last_due,
                        "daemon_id": mark.daemon_id,
                    }
                )
        return {"daemon_id": self._daemon_id, "jobs": jobs}

    def fire(self, config: Config, fires: list[Fire]) -> list[dict[str, Any]] | Deferred:
        """Handle each due time once; answers, in order, each one's outcome and reason."""
        unknown = [fire.action for fire in fires if fire.action not in FIRE_ACTIONS]
        if unknown:
            raise CommandError(ErrorCode.BAD_REQUEST, f"fire: unknown action {unknown[0]!r}")
        return gather([self._fire_one(config, fire.job, fire.due, fire.action) for fire in fires])

    def _fire_one(
        self, config: Config, job_id: str, due: float, action: str
    ) -> dict[str, Any] | Deferred:
        job = config.job(job_id)
        if job is None or job.type != "scheduled" or not job.enabled:
            return {"outcome": "unknown", "reason": "not an enabled scheduled job"}
        mark = self.mark(job_id)
        if mark.last_due is not None and due <= mark.last_due:
            return {"outcome": "duplicate", "reason": "handled already"}
        # Written before the job starts: a crash from here on loses a run at worst, it
        # never runs one twice.
        self._save(job_id, replace(mark, last_due=due, daemon_id=self._daemon_id))
        return self._run(job, action)

    def _run(self, job: JobConfig, action: str) -> dict[str, Any] | Deferred:
        if action == "mark":
            return {"outcome": "marked"}
        if self._jobs.paused(job.id):
            return self._skipped(job, "paused")
        state = self._jobs.registry.state(job.id)
        try:
            if state not in LIVE_STATES:
                self._jobs.start(job, "schedule")
                return {"outcome": "fired"}
            if job.on_overlap == "kill_restart":
                self._jobs.restart(job, "schedule")
                return {"outcome": "restarted", "reason": f"the run before was still {state}"}
            if job.on_overlap == "queue":
                return self._queue(job, state)
        except CommandError as exc:
            return self._skipped(job, exc.message)
        return self._skipped(job, f"the run before is still {state} (on_overlap: skip)")

    def _queue(self, job: JobConfig, state: JobState) -> Deferred:
        """Ask the job's supervisor to hold one more run; the outcome comes with its answer."""
        outcome = Deferred()

        def answered(result: Any, error: CommandError | None) -> None:
            if error is not None and error.code == ErrorCode.CONFLICT:
                try:
                    self._jobs.start(job, "schedule")  # the run before ended just now
                except CommandError as exc:
                    outcome.resolve(self._skipped(job, exc.message))
                    return
                outcome.resolve({"outcome": "fired"})
            elif error is not None:
                outcome.resolve(self._skipped(job, error.message))
            elif result.get("queued"):
                outcome.resolve({"outcome": "queued", "reason": f"the run before is still {state}"})
            else:
                outcome.resolve(self._skipped(job, "a run is queued already (on_overlap: queue)"))

        self._jobs.queue(job).then(answered)
        return outcome

    def _skipped(self, job: JobConfig, reason: str) -> dict[str, Any]:
        mark = self.mark(job.id)
        self._save(job.id, replace(mark, skipped=mark.skipped + 1))
        log.info("job %s: scheduled run skipped: %s", job.id, reason)
        return {"outcome": "skipped", "reason": reason}

    # ---- for people --------------------------------------------------------------------

    def summary(self, job: JobConfig, count: int = NEXT_RUNS_SHOWN) -> dict[str, Any]:
        """What `list` and `status` add for a scheduled job: skips and next runs."""
        if job.type != "scheduled" or not job.schedule:
            return {"next_runs": []}
        mark = self.mark(job.id)
        schedule = CronSchedule(job.schedule, job.timezone)
        after = max(time.time(), mark.last_due or 0.0)
        fires = schedule.upcoming(datetime.fromtimestamp(after, schedule.zone), count)
        return {
            "skipped": mark.skipped,
            "timezone": schedule.zone_name,
            "next_runs": [fire.isoformat() for fire in fires] if job.enabled else [],
        }
