"""The config keys of dependencies and readiness, and the order they give the jobs."""

import pytest
from test_config import one_job, parse, problems

from procclaw.dependency_graph import COMPLETED, READY, DependencyGraph, Requirement


def test_ready_notify_and_on_dependency_failure_are_read():
    job = one_job("cmd: x\nready: notify\non_dependency_failure: stop")
    assert (job.ready, job.on_dependency_failure) == ("notify", "stop")
    plain = one_job("cmd: x")
    assert (plain.ready, plain.on_dependency_failure) == (None, "keep_running")


def test_a_watchdog_check_takes_only_the_common_keys():
    job = one_job("cmd: x\nhealth_check: {type: watchdog, interval: 2, retries: 1}")
    assert (job.health_check.type, job.health_check.interval) == ("watchdog", 2.0)
    assert problems(
        jobs="jobs:\n  j:\n    cmd: x\n    health_check: {type: watchdog, url: x}\n"
    ) == ["jobs.yaml:4: job 'j': health_check.url is only used by type: http"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ready: systemd", "ready: expected one of notify, got 'systemd'"),
        (
            "health_check: {type: file, path: beat, max_age: 5}",
            "health_check.path: expected an absolute path (or ~/...), got 'beat'",
        ),
        (
            "on_dependency_failure: halt",
            "on_dependency_failure: expected one of keep_running, stop, got 'halt'",
        ),
        (
            "health_check: {type: watchdg}",
            "health_check.type: expected one of process, http, file, watchdog, "
            "got 'watchdg' (did you mean 'watchdog'?)",
        ),
    ],
)
def test_bad_readiness_and_failure_policies_name_their_line(line, message):
    assert problems(jobs=f"jobs:\n  j:\n    cmd: x\n    {line}\n") == [
        f"jobs.yaml:4: job 'j': {message}"
    ]


def test_a_cycle_is_refused_with_the_cycle_printed():
    jobs = """\
        jobs:
          web: {cmd: x, depends_on: [{job: api}]}
          api: {cmd: x, depends_on: [{job: db, condition: after_complete}]}
          db: {cmd: x, depends_on: [{job: web}]}
        """
    assert problems(jobs=jobs) == [
        "jobs.yaml:2: job 'web': dependency cycle: web -> api -> db -> web"
    ]


def test_every_edge_becomes_a_requirement_of_the_job_that_waits():
    config = parse(
        jobs="""\
        jobs:
          db: {cmd: x}
          migrate: {cmd: x, depends_on: [{job: db, timeout: 5}]}
          api:
            cmd: x
            depends_on:
              - {job: migrate, condition: after_complete}
              - {job: cleanup, condition: before_complete, timeout: 9}
          cleanup: {cmd: x}
        """
    )
    graph = DependencyGraph(config)
    assert graph.requirements("api") == [Requirement("migrate", COMPLETED, 60.0)]
    assert graph.requirements("cleanup") == [Requirement("api", COMPLETED, 9.0)]
    assert graph.requirements("migrate") == [Requirement("db", READY, 5.0)]
    assert graph.waiters("db") == ["migrate"]
    assert graph.waiters("api") == ["cleanup"]
    assert graph.waiters("cleanup") == []
