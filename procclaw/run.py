"""`Run`: one finished run of a job, as its supervisor reports it and procclaw.db keeps it."""

from __future__ import annotations

from dataclasses import dataclass

from procclaw.wire_record import WireRecord

# How a run came to be started (its `cause`): `daemon` (at daemon start), `cli` or `api`
# (a request's caller: start, restart, resume), `schedule` (a cron fire, or a run queued
# behind one), `dependency` (a job being started needs it), `retry` (the retry policy
# restarted it: after an exit, an unhealthy verdict or a limit), `reload`. Runs recorded
# before causes were kept have none ("").
CAUSES = ("daemon", "cli", "api", "schedule", "dependency", "retry", "reload")
# Upper bounds (seconds) of the run-duration histogram's buckets: from a quick job to a
# long nightly one. procclaw.db counts each run under the first bound it fits (`bucket`).
DURATION_BUCKETS: tuple[float, ...] = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
INFINITY = float("inf")


@dataclass(frozen=True, slots=True)
class Run(WireRecord):
    """One run of a job: a process from start to exit."""

    run_id: str
    job: str
    started_at: float
    ended_at: float
    exit_code: int | None
    signal: str | None
    result: str  # completed | failed | stopped | timeout
    output: tuple[str, ...]  # its last lines
    cause: str = ""  # how it was started: one of CAUSES

    @property
    def duration(self) -> float:
        return self.ended_at - self.started_at

    @property
    def bucket(self) -> float:
        """The first of DURATION_BUCKETS its duration fits, or infinity."""
        return next((bound for bound in DURATION_BUCKETS if self.duration <= bound), INFINITY)
