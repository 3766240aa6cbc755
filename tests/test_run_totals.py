"""Finished runs as /metrics counts them (run_totals in procclaw.db): each run counted
once, the counts kept when old runs are deleted, and those of a database from before
counted on upgrade."""

from __future__ import annotations

import random

import pytest
from conftest import database_at

from actors.controller.run_stats import runs_summary
from procclaw.run import DURATION_BUCKETS, Run
from procclaw.store import MIGRATIONS, Store

pytestmark = pytest.mark.timeout(30)

RESULTS = ("completed", "failed", "stopped", "timeout")
# The schema version of the release before run_totals.
BEFORE_RUN_TOTALS = next(i for i, steps in enumerate(MIGRATIONS) if "run_totals" in steps[0])


def _runs(job: str, count: int, seed: int) -> list[Run]:
    rng = random.Random(seed)
    runs, start = [], 1_000.0
    for number in range(count):
        duration = rng.choice([0.2, 1.0, 3.0, 59.0, 61.0, 4000.0, 100_000.0])
        result = rng.choice(RESULTS)
        runs.append(Run(f"{job}-{number}", job, start, start + duration, 0, None, result, ()))
        start += duration + 1
    return runs


def _expected(runs: list[Run]) -> dict:
    """What a full scan of every run gives: the summary as /metrics had it."""
    summary: dict = {}
    for run in runs:
        entry = summary.setdefault(
            run.job,
            {"results": {}, "count": 0, "sum": 0.0, "buckets": [[b, 0] for b in DURATION_BUCKETS]},
        )
        entry["results"][run.result] = entry["results"].get(run.result, 0) + 1
        entry["count"] += 1
        entry["sum"] += run.duration
        for le_count in entry["buckets"]:
            le_count[1] += run.duration <= le_count[0]
    return summary


def _rounded(summary: dict) -> dict:
    """Durations are summed in another order: the same to a microsecond."""
    return {job: {**entry, "sum": round(entry["sum"], 6)} for job, entry in summary.items()}


def test_runs_are_counted_once_and_their_counts_outlive_the_runs_deleted(tmp_path):
    store = Store(tmp_path / "procclaw.db", runs_kept=10)
    web, cron = _runs("web", 35, 1), _runs("cron", 4, 2)
    for run in web + cron:
        store.record_run(run)
    store.record_run(web[-1])  # a batch sent again, unacknowledged the first time
    assert [run.run_id for run in store.runs("web", 100)] == [r.run_id for r in web[::-1][:10]]
    assert len(store.runs("cron", 100)) == 4
    assert _rounded(runs_summary(store.db)) == _rounded(_expected(web + cron))
    store.close()


def test_a_database_from_before_counts_the_runs_it_holds(tmp_path):
    path = tmp_path / "procclaw.db"
    db = database_at(path, BEFORE_RUN_TOTALS)
    runs = _runs("web", 50, 3)
    db.executemany(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, '', '')",
        [(r.run_id, r.job, r.started_at, r.ended_at, 0, None, r.result) for r in runs],
    )
    db.close()
    store = Store(path)
    assert _rounded(runs_summary(store.db)) == _rounded(_expected(runs))
    store.record_run(Run("late", "web", 9e6, 9e6 + 2, 0, None, "completed", ()))
    assert runs_summary(store.db)["web"]["count"] == 51
    store.close()


def test_a_repair_keeps_the_counts_and_recounts_a_database_that_had_none(tmp_path):
    from procclaw.db_repair import repair

    path = tmp_path / "procclaw.db"
    store = Store(path, runs_kept=10)
    web = _runs("web", 25, 4)
    for run in web:
        store.record_run(run)
    store.close()
    report = repair(path)
    assert report.lost == {}
    assert _rounded(runs_summary(Store(path).db)) == _rounded(_expected(web))

    older = tmp_path / "older.db"  # from the release before run_totals: counted afresh
    db = database_at(older, BEFORE_RUN_TOTALS)
    db.executemany(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, '', '')",
        [(r.run_id, r.job, r.started_at, r.ended_at, 0, None, r.result) for r in web],
    )
    db.close()
    report = repair(older)
    assert report.lost == {}  # the tables it never had are not lost
    assert report.kept["runs"] == 25
    assert _rounded(runs_summary(Store(older).db)) == _rounded(_expected(web))
