"""`pause` and `resume`: a job held down until a person lets it go, whatever its type.

Pause is not stop. A stopped continuous job is started again by the next daemon start;
a paused one stays down across daemon restarts and reloads, and `start` of it is
refused (`job 'x' is paused: procclaw resume x`), until `resume`. Pausing a running
continuous or manual job stops it gracefully; a scheduled job's run under way is left
to finish, and its later due times are skipped (counted, reason `paused`), as a
suspended Kubernetes CronJob does.

The pause is written to the database before it is answered or announced: one that was
not written is refused, since the next daemon start would silently undo it. Each one
is published as `job.<id>.paused|resumed`; the alerter notes it in the agent's memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from actors.controller.job_control import JobControl, Reply
from actors.runtime.command_server import Deferred
from procclaw import protocol
from procclaw.bus_events import JobPause
from procclaw.config import Config, JobConfig
from procclaw.protocol import CommandError, ErrorCode
from procclaw.states import LIVE_STATES
from procclaw.store import Store

log = logging.getLogger("procclaw.controller")


class JobPauses:
    def __init__(self, store: Store, jobs: JobControl, publish: Callable[[str, Any], None]):
        self._store = store
        self._jobs = jobs
        self._publish = publish
        self._since: dict[str, float] = store.pauses()
        jobs.paused = self.is_paused

    def is_paused(self, job_id: str) -> bool:
        return job_id in self._since

    def summary(self, job: JobConfig) -> dict[str, Any]:
        """What `list` and `status` show of a job's pause."""
        return {"paused": job.id in self._since, "paused_since": self._since.get(job.id)}

    def forget_removed(self, config: Config) -> None:
        """A job gone from the config takes its pause with it: added again, it is new."""
        for job_id in [job_id for job_id in self._since if config.job(job_id) is None]:
            if self._store.save_pause(job_id, None):
                del self._since[job_id]

    def pause(self, job: JobConfig) -> Reply:
        if job.id in self._since:
            return {**self._answer(job), "note": "already paused"}
        self._save(job.id, time.time())
        log.info("job %s: paused", job.id)
        self._announce(job, "paused")
        if job.type == "scheduled" or self._jobs.registry.state(job.id) not in LIVE_STATES:
            return self._answer(job)
        return _with(self._jobs.stop(job, force=False), self.summary(job))

    def resume(self, job: JobConfig, cause: str) -> Reply:
        if job.id not in self._since:
            return {**self._answer(job), "note": "not paused"}
        self._save(job.id, None)
        log.info("job %s: resumed", job.id)
        self._announce(job, "resumed")
        if not self._jobs.starts_by_itself(job):
            return self._answer(job)
        return _with(self._jobs.start(job, cause), self.summary(job))

    def _save(self, job_id: str, since: float | None) -> None:
        if not self._store.save_pause(job_id, since):
            what = "pause" if since is not None else "resume"
            raise CommandError(
                ErrorCode.UNAVAILABLE,
                f"cannot record the {what} of '{job_id}': {self._store.problem}",
            )
        if since is None:
            self._since.pop(job_id, None)
        else:
            self._since[job_id] = since

    def _announce(self, job: JobConfig, event: str) -> None:
        pause = JobPause(job.id, job.id in self._since, self._since.get(job.id))
        self._publish(protocol.job_topic(job.id, event), pause)

    def _answer(self, job: JobConfig) -> dict[str, Any]:
        facts = self._jobs.registry.facts(job.id)
        return {"state": facts.state.value, "pid": facts.pid, **self.summary(job)}


def _with(reply: Reply, pause: dict[str, Any]) -> Reply:
    """What a stop or start answered, and the pause as it now stands."""
    if not isinstance(reply, Deferred):
        return {**reply, **pause}
    merged = Deferred()

    def settled(result: Any, error: CommandError | None) -> None:
        if error is not None:
            merged.fail(error.code, error.message)
        else:
            merged.resolve({**result, **pause})

    reply.then(settled)
    return merged
