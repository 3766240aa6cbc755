"""`usage`: the CPU and memory of running jobs, gathered from their supervisors.

Only a job's supervisor can measure it (it holds the process), so the controller asks
each supervisor holding some of the jobs, once, and answers `{job: usage}` when all
have answered, each answer checked as it arrives (procclaw/usage_record.py). A
supervisor that does not answer in time, or answers what is not usage, leaves its jobs
out rather than hold up or break the view: usage is for looking, never for deciding.
"""

from __future__ import annotations

import logging
from typing import Any

from actors.controller.job_registry import JobRegistry
from actors.runtime.async_calls import AsyncCalls
from actors.runtime.command_server import Deferred
from procclaw.config import JobConfig
from procclaw.states import RUNNING_STATES
from procclaw.usage_record import checked_usage
from procclaw.wire_record import RecordError

log = logging.getLogger("procclaw.controller")

USAGE_TIMEOUT = 2.0  # a supervisor measures in milliseconds


def gather_usage(
    calls: AsyncCalls, registry: JobRegistry, jobs: list[JobConfig]
) -> dict[str, Any] | Deferred:
    by_supervisor: dict[str, list[str]] = {}
    for job in jobs:
        facts = registry.facts(job.id)
        if facts.state in RUNNING_STATES and facts.pid and facts.supervisor:
            by_supervisor.setdefault(facts.supervisor, []).append(job.id)
    if not by_supervisor:
        return {}
    gathered: dict[str, Any] = {}
    waiting = set(by_supervisor)
    reply = Deferred()

    def answered(supervisor: str, usage: Any) -> None:
        try:
            gathered.update(checked_usage(usage or {}))
        except RecordError as exc:
            log.warning("bad usage from %s: %s", supervisor, exc.message)
        done(supervisor)

    def failed(supervisor: str, message: str) -> None:
        log.info("no usage from %s: %s", supervisor, message)
        done(supervisor)

    def done(supervisor: str) -> None:
        waiting.discard(supervisor)
        if not waiting:
            reply.resolve(gathered)

    for supervisor, job_ids in by_supervisor.items():
        calls.call(
            supervisor,
            "usage",
            {"jobs": job_ids},
            lambda usage, s=supervisor: answered(s, usage),
            lambda _code, message, s=supervisor: failed(s, message),
            USAGE_TIMEOUT,
        )
    return reply
