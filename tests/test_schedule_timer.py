"""JobTimer on an injected clock: what a wake owes a job after gaps and clock jumps."""

from __future__ import annotations

from datetime import UTC, datetime

from procclaw.cron import CronSchedule
from procclaw.rules.schedule_timer import Due, JobTimer

START = datetime(2024, 3, 10, 6, 0, tzinfo=UTC).timestamp()  # 01:00 EST, New York
MINUTE = 60.0


def every_15_minutes(catchup: str = "skip", last_due: float = START) -> JobTimer:
    schedule = CronSchedule("*/15 * * * *", "America/New_York")
    return JobTimer.starting("job", schedule, catchup, last_due)


def test_a_wake_on_time_hands_over_the_one_due_time():
    timer = every_15_minutes()
    assert timer.due(START + 14 * MINUTE) is None
    assert timer.due(START + 15 * MINUTE + 0.01) == Due(START + 15 * MINUTE, "run")
    timer.advance(START + 15 * MINUTE)
    assert timer.due(START + 15 * MINUTE + 0.02) is None


def test_a_clock_jump_ahead_gives_one_late_run_not_a_burst():
    timer = every_15_minutes()
    # The clock jumps two hours (through New York's spring-forward change, at 07:00 UTC).
    due = timer.due(START + 120 * MINUTE + 30)
    assert due == Due(START + 120 * MINUTE, "late", missed=7, latest=START + 120 * MINUTE)
    timer.advance(due.due)
    assert timer.due(START + 120 * MINUTE + 31) is None
    assert timer.next_due == START + 135 * MINUTE


def test_a_clock_set_back_runs_nothing_twice():
    timer = every_15_minutes()
    timer.advance(START + 15 * MINUTE)
    # The clock goes back an hour: due times before the last one handled never return.
    for minutes in (-60, -45, 0, 14, 15):
        assert timer.due(START + minutes * MINUTE) is None
    assert timer.due(START + 30 * MINUTE) == Due(START + 30 * MINUTE, "run")


def test_catch_up_once_runs_the_latest_missed_and_counts_the_rest():
    timer = every_15_minutes(catchup="once")
    due = timer.catch_up(START + 61 * MINUTE)
    assert due == Due(START + 60 * MINUTE, "catchup", missed=3, latest=START + 60 * MINUTE)


def test_catch_up_skip_only_records_the_missed_runs():
    now = START + 61 * MINUTE
    due = every_15_minutes().catch_up(now)
    assert due == Due(now, "mark", missed=4, latest=START + 60 * MINUTE)


def test_catch_up_with_nothing_missed_records_now():
    now = START + 5 * MINUTE
    assert every_15_minutes(catchup="once").catch_up(now) == Due(now, "mark")
