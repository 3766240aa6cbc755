"""Scheduled jobs in the config: cron expressions (with seconds), nicknames, time zones,
catchup and max_runtime."""

from __future__ import annotations

import pytest
from config_samples import one_job, problems


def test_scheduled_jobs_keep_their_cron_expression_and_time_zone():
    job = one_job(
        """\
        cmd: x
        type: scheduled
        schedule: "0  */12 * * *"
        timezone: America/Sao_Paulo
        on_overlap: kill_restart
        """
    )
    assert job.schedule == "0 */12 * * *"
    assert job.timezone == "America/Sao_Paulo"
    assert job.on_overlap == "kill_restart"


@pytest.mark.parametrize("nickname", ["@hourly", "@daily", "@weekly", "@monthly", "@yearly"])
def test_cron_nicknames_are_accepted(nickname):
    assert one_job(f"cmd: x\ntype: scheduled\nschedule: '{nickname}'").schedule == nickname


def test_a_job_without_time_zone_takes_the_default_one():
    settings = "defaults: {timezone: Europe/Berlin}\n"
    assert one_job("cmd: x", settings).timezone == "Europe/Berlin"
    assert one_job("cmd: x\ntimezone: UTC", settings).timezone == "UTC"


def test_cron_expression_names_the_bad_field():
    jobs = "jobs:\n  a:\n    cmd: x\n    type: scheduled\n    schedule: '61 * * * *'\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': schedule: '61 * * * *' is not a valid cron expression "
        "(minute must be 0-59)"
    ]


def test_seven_field_cron_expressions_are_refused():
    jobs = "jobs:\n  a:\n    cmd: x\n    type: scheduled\n    schedule: '0 0 12 * * * 2030'\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': schedule: '0 0 12 * * * 2030' is not a valid cron expression "
        "(7 fields: use 5, minute hour day-of-month month day-of-week, or 6 with seconds last)"
    ]


def test_a_cron_expression_that_never_fires_is_refused():
    jobs = "jobs:\n  a:\n    cmd: x\n    type: scheduled\n    schedule: '0 0 30 2 *'\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': schedule: '0 0 30 2 *' never matches a date "
        "(check day of month and month)"
    ]


def test_schedule_on_a_manual_job_is_refused():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    schedule: '@daily'\n") == [
        "jobs.yaml:4: job 'a': schedule is only used by type: scheduled"
    ]


def test_a_scheduled_job_needs_a_schedule():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    type: scheduled\n") == [
        "jobs.yaml:2: job 'a': schedule is required for type: scheduled"
    ]


def test_unknown_time_zones_are_refused():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    timezone: Mars/Olympus\n") == [
        "jobs.yaml:4: job 'a': timezone: unknown time zone 'Mars/Olympus'"
    ]
    assert problems("defaults:\n  timezone: America/Sao_Paolo\n") == [
        "procclaw.yaml:2: defaults.timezone: unknown time zone 'America/Sao_Paolo' "
        "(did you mean 'America/Sao_Paulo'?)"
    ]


def scheduled(extra: str) -> str:
    return "jobs:\n  a:\n    cmd: x\n    type: scheduled\n    schedule: '* * * * *'\n" + extra


def test_a_six_field_expression_has_seconds_last():
    job = one_job("cmd: x\ntype: scheduled\nschedule: '* * * * * */5'\n")
    assert job.schedule == "* * * * * */5"


def test_catchup_and_max_runtime_have_defaults_and_take_durations():
    job = one_job("cmd: x\ntype: scheduled\nschedule: '@daily'\n")
    assert (job.catchup, job.max_runtime, job.on_overlap) == ("skip", None, "skip")
    job = one_job("cmd: x\ntype: scheduled\nschedule: '@daily'\ncatchup: once\nmax_runtime: 5m\n")
    assert (job.catchup, job.max_runtime) == ("once", 300.0)


def test_bad_scheduling_values_are_reported_with_their_lines():
    jobs = scheduled(
        "    timezone: Europe/Berln\n"
        "    on_overlap: wait\n"
        "    catchup: all\n"
        "    max_runtime: soon\n"
    )
    assert problems(jobs=jobs) == [
        "jobs.yaml:6: job 'a': timezone: unknown time zone 'Europe/Berln'"
        " (did you mean 'Europe/Berlin'?)",
        "jobs.yaml:7: job 'a': on_overlap: expected one of skip, queue, kill_restart, got 'wait'",
        "jobs.yaml:8: job 'a': catchup: expected one of skip, once, got 'all'",
        "jobs.yaml:9: job 'a': max_runtime: expected a duration of at most 365d,"
        " like 30 or '5m', got 'soon'",
    ]


def test_a_zero_max_runtime_is_refused():
    assert problems(jobs=scheduled("    max_runtime: 0\n")) == [
        "jobs.yaml:6: job 'a': max_runtime: expected a duration above zero like 30 or '5m', got 0"
    ]
