"""Dependencies and readiness in the config: defaults, unknown jobs, cycles, and the
order they give the jobs."""

from __future__ import annotations

import pytest
from config_samples import one_job, parse, problems

from procclaw.config import Dependency
from procclaw.dependency_graph import COMPLETED, READY, DependencyGraph, Requirement


def test_dependencies_are_read_with_their_defaults():
    config = parse(
        jobs="""\
        jobs:
          db: {cmd: x}
          migrate: {cmd: y}
          api:
            cmd: z
            depends_on:
              - job: db
              - {job: migrate, condition: after_complete, timeout: 2m}
        """
    )
    assert config.job("api").depends_on == (
        Dependency("db", "after_start", 60.0),
        Dependency("migrate", "after_complete", 120.0),
    )


def test_a_before_complete_chain_without_a_loop_is_accepted():
    config = parse(
        jobs="""\
        jobs:
          a: {cmd: x, depends_on: [{job: b, condition: before_complete}]}
          b: {cmd: x, depends_on: [{job: c}]}
          c: {cmd: x}
        """
    )
    assert config.job_ids == ("a", "b", "c")


def test_a_dependency_on_an_unknown_job_suggests_a_known_one():
    jobs = """\
        jobs:
          db: {cmd: x}
          api:
            cmd: y
            depends_on:
              - job: dbb
        """
    assert problems(jobs=jobs) == [
        "jobs.yaml:6: job 'api': depends_on[0].job: no job 'dbb' (did you mean 'db'?)"
    ]


def test_a_job_cannot_depend_on_itself():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    depends_on:\n      - job: a\n") == [
        "jobs.yaml:5: job 'a': depends_on[0].job: a job cannot depend on itself"
    ]


def test_a_two_job_cycle_is_reported_once():
    jobs = """\
        jobs:
          a:
            cmd: x
            depends_on: [{job: b}]
          b:
            cmd: x
            depends_on: [{job: a, condition: after_complete}]
        """
    assert problems(jobs=jobs) == ["jobs.yaml:4: job 'a': dependency cycle: a -> b -> a"]


def test_a_three_job_cycle_is_reported_as_its_path():
    jobs = """\
        jobs:
          c: {cmd: x, depends_on: [{job: a}]}
          a: {cmd: x, depends_on: [{job: b}]}
          b: {cmd: x, depends_on: [{job: c}]}
          d: {cmd: x, depends_on: [{job: a}]}
        """
    assert problems(jobs=jobs) == ["jobs.yaml:2: job 'c': dependency cycle: c -> a -> b -> c"]


def test_a_three_job_cycle_starts_from_the_first_job_in_the_file():
    jobs = """\
        jobs:
          a: {cmd: x, depends_on: [{job: b}]}
          b: {cmd: x, depends_on: [{job: c}]}
          c: {cmd: x, depends_on: [{job: a}]}
        """
    assert problems(jobs=jobs) == ["jobs.yaml:2: job 'a': dependency cycle: a -> b -> c -> a"]


def test_before_complete_reverses_the_edge_and_can_close_a_cycle():
    # a waits for b to start, yet b may only start once a has completed.
    jobs = """\
        jobs:
          a:
            cmd: x
            depends_on:
              - job: b
              - {job: b, condition: before_complete}
          b: {cmd: x}
        """
    assert problems(jobs=jobs) == ["jobs.yaml:5: job 'a': dependency cycle: a -> b -> a"]


def test_a_dependency_written_as_a_bare_name_gets_a_hint():
    jobs = "jobs:\n  db: {cmd: x}\n  a:\n    cmd: x\n    depends_on: [db]\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': depends_on[0]: expected a mapping like {job: db}, got 'db'"
    ]


def test_a_dependency_timeout_of_zero_is_refused():
    """It could only fail at once: the start of a job at rest failed straight away,
    which crashed the controller at daemon start."""
    jobs = "jobs:\n  db: {cmd: x}\n  a:\n    cmd: x\n    depends_on: [{job: db, timeout: 0}]\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': depends_on[0].timeout: expected a duration above zero like 30"
        " or '5m', got 0"
    ]


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
            "health_check.type: expected one of process, http, file, watchdog, output, "
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
