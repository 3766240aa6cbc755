"""`procclaw schedule`: the scheduler's own arithmetic, at the terminal, without a daemon."""

from __future__ import annotations

import pytest


def test_schedule_lists_the_fires_across_spring_forward(sandbox):
    result = sandbox.cli(
        "schedule",
        "30 2 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2024-03-09T12:00",
        "-n",
        "2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "  Sun 2024-03-10 03:00:00 EDT (UTC-0400)",
        "  Mon 2024-03-11 02:30:00 EDT (UTC-0400)",
    ]


def test_schedule_fires_a_repeated_time_once(sandbox):
    result = sandbox.cli(
        "schedule",
        "30 1 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2024-11-03T00:00-04:00",
        "-n",
        "2",
    )
    assert result.stdout.splitlines()[1:] == [
        "  Sun 2024-11-03 01:30:00 EDT (UTC-0400)",
        "  Mon 2024-11-04 01:30:00 EST (UTC-0500)",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["61 * * * *"], "'61 * * * *' is not a valid cron expression (minute must be 0-59)"),
        (["* * * * *", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["* * * * *", "--from", "soon"], "--from expects an ISO 8601 time"),
        (["* * * * *", "-n", "many"], "-n expects a number of fires from 1 to 1000, got 'many'"),
        (["* * * * *", "-n", "0"], "-n expects a number of fires from 1 to 1000, got '0'"),
        (["* * * * *", "-n", "100000000"], "from 1 to 1000, got '100000000'"),
        (["* * * * *", "-n", "²"], "from 1 to 1000, got '²'"),
    ],
)
def test_schedule_with_bad_arguments_says_why_in_one_line(sandbox, args, message):
    result = sandbox.cli("schedule", *args)
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr
