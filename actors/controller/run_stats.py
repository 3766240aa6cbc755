"""Finished runs: in numbers, for `/metrics` (counts per job and result, and
durations), and one by one, for `runs` (a job's history, the latest first).

The numbers are computed by SQLite from the `runs` table at scrape time, so the answer
is one small map however many runs there are.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from procclaw.protocol import CommandError, ErrorCode
from procclaw.store import Store

# Upper bounds (seconds) of the run-duration histogram's buckets: from a quick job to a
# long nightly one.
DURATION_BUCKETS: tuple[float, ...] = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
MAX_RUNS_LISTED = 10_000


def run_history(store: Store, job_id: str, limit: int) -> list[dict[str, Any]]:
    """The job's last `limit` finished runs, the latest first: when each started, how
    long it took, how it ended and how it was started (its last lines are left out:
    `status` and `logs` show output)."""
    if not 1 <= limit <= MAX_RUNS_LISTED:
        raise CommandError(
            ErrorCode.BAD_REQUEST, f"limit must be from 1 to {MAX_RUNS_LISTED}, not {limit}"
        )
    return [
        {
            "run_id": run.run_id,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "duration": run.duration,
            "result": run.result,
            "exit_code": run.exit_code,
            "signal": run.signal,
            "cause": run.cause or None,
        }
        for run in store.runs(job_id, limit)
    ]


def runs_summary(db: sqlite3.Connection) -> dict[str, Any]:
    """`{job: {"results": {result: n}, "count", "sum", "buckets": [[le, n], ...]}}`.

    Bucket counts are cumulative, as Prometheus histograms expect; +Inf is `count`.
    """
    summary: dict[str, Any] = {}
    for job, result, count in db.execute(
        "SELECT job, result, COUNT(*) FROM runs GROUP BY job, result"
    ):
        entry = summary.setdefault(job, {"results": {}})
        entry["results"][result] = count
    bucket_columns = ", ".join(
        f"SUM(ended_at - started_at <= {bound})" for bound in DURATION_BUCKETS
    )
    for job, count, total, *buckets in db.execute(
        f"SELECT job, COUNT(*), SUM(ended_at - started_at), {bucket_columns} FROM runs GROUP BY job"
    ):
        summary[job].update(
            count=count,
            sum=total or 0.0,
            buckets=[[bound, n or 0] for bound, n in zip(DURATION_BUCKETS, buckets, strict=True)],
        )
    return summary
