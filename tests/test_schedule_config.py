"""Config of scheduled jobs: seconds in cron, catchup, max_runtime, and their errors."""

from __future__ import annotations

from test_config import one_job, problems


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
        "jobs.yaml:9: job 'a': max_runtime: expected a duration like 30 or '5m', got 'soon'",
    ]


def test_a_zero_max_runtime_is_refused():
    assert problems(jobs=scheduled("    max_runtime: 0\n")) == [
        "jobs.yaml:6: job 'a': max_runtime: expected a duration above zero like 30 or '5m', got 0"
    ]
