"""Finished runs: in numbers, for `/metrics` (counts per job and result, and
durations), and one by one, for `runs` (a job's history, the latest first).

The numbers come from `run_totals`, where procclaw.db counts each run as it is recorded
(procclaw/store.py): a scrape reads one small table however many runs there were, and
the counts outlive the old runs that are deleted.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from procclaw.protocol import CommandError, ErrorCode
from procclaw.run import DURATION_BUCKETS
from procclaw.store import RUNS_KEPT, Store

MAX_RUNS_LISTED = RUNS_KEPT


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
    rows = db.execute("SELECT job, result, bucket, count, duration_sum FROM run_totals")
    for job, result, bucket, count, duration_sum in rows:
        entry = summary.setdefault(
            job,
            {"results": {}, "count": 0, "sum": 0.0, "buckets": [[b, 0] for b in DURATION_BUCKETS]},
        )
        entry["results"][result] = entry["results"].get(result, 0) + count
        entry["count"] += count
        entry["sum"] += duration_sum
        for le_count in entry["buckets"]:
            if bucket <= le_count[0]:
                le_count[1] += count
    return summary
