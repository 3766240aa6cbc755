"""Dependencies in the config: their defaults, unknown jobs and cycles."""

from __future__ import annotations

from config_samples import parse, problems

from procclaw.config import (
    Dependency,
)


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
