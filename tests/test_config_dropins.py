"""Drop-in jobs in jobs.d/: read like jobs.yaml, with the same guards, each problem
naming the drop-in and its line."""

from __future__ import annotations

import os

import pytest

from procclaw.config import ConfigError, load_config, parse_config
from procclaw.config.dropins import MAX_DROPINS
from procclaw.home import Home
from procclaw.store import ConfigSnapshot, Store

JOBS = "jobs:\n  db:\n    cmd: ./db\n    type: continuous\n"


def _problems(dropins: dict[str, str], jobs: str = JOBS) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(None, jobs, dropins=dropins)
    return str(caught.value).splitlines()


def _home(tmp_path, **files: str) -> Home:
    home = Home(tmp_path)
    home.jobs_file.write_text(JOBS)
    home.jobs_dir.mkdir()
    for name, text in files.items():
        (home.jobs_dir / name).write_text(text)
    return home


def test_a_dropin_job_comes_after_jobs_yaml_and_may_depend_on_its_jobs():
    config = parse_config(None, JOBS, dropins={"api.yaml": "cmd: ./api\ndepends_on: [{job: db}]\n"})
    assert config.job_ids == ("db", "api")
    assert config.job("api").depends_on[0].job == "db"


def test_a_problem_in_a_dropin_names_the_dropin_and_its_line():
    assert _problems({"api.yaml": "cmd: ./api\ntype: scheduled\nschedule: '61 * * * *'\n"}) == [
        "jobs.d/api.yaml:3: job 'api': schedule: '61 * * * *' is not a valid cron expression"
        " (minute must be 0-59)"
    ]


def test_an_id_defined_twice_names_both_files_and_lines():
    assert _problems({"db.yaml": "cmd: ./other\n"}) == [
        "jobs.d/db.yaml:1: job 'db': already defined at jobs.yaml:2: keep one of the two"
    ]


def test_a_dropin_named_other_than_an_id_is_refused():
    (problem,) = _problems({"my job.yaml": "cmd: x\n"})
    assert problem.startswith("jobs.d/my job.yaml: the file's name is the job's id: job id")


def test_a_dependency_cycle_across_files_is_reported_where_it_starts():
    jobs = "jobs:\n  a:\n    cmd: x\n    depends_on: [{job: b}]\n"
    assert _problems({"b.yaml": "cmd: y\ndepends_on: [{job: a}]\n"}, jobs) == [
        "jobs.yaml:4: job 'a': dependency cycle: a -> b -> a"
    ]


def test_jobs_yaml_under_the_dropin_is_refused_with_a_hint():
    (first, *_) = _problems({"api.yaml": "jobs:\n  api:\n    cmd: x\n"})
    assert first == (
        "jobs.d/api.yaml:1: job 'api': unknown key 'jobs'"
        " (a drop-in holds one job's keys; the file's name is the job's id)"
    )


def test_overrides_switch_enabled_and_ignore_jobs_no_file_defines():
    config = parse_config(
        None,
        JOBS,
        dropins={".overrides.yaml": "db: {enabled: false}\ngone: {enabled: true}\n"},
    )
    assert config.job("db").enabled is False
    assert _problems({".overrides.yaml": "db: {enabled: maybe}\n"}) == [
        "jobs.d/.overrides.yaml:1: job 'db': enabled: expected true or false, got 'maybe'"
    ]


def test_load_config_reads_only_visible_yaml_files_of_jobs_d(tmp_path):
    home = _home(
        tmp_path,
        **{"api.yaml": "cmd: ./api\n", "notes.txt": "x", ".api.yaml.tmp": "x", "old.yml": "x"},
    )
    assert load_config(home).job_ids == ("db", "api")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"cmd: !!python/object/apply:os.system [ls]\n", "the tag '!!python/object/apply"),
        (b"cmd: caf\xe9\n", "not UTF-8 text: byte 0xe9 at column 9"),
        (b"cmd: " + b"x" * (1024**2), "larger than 1 MiB"),
        (b"cmd: " + b"[" * 70 + b"]" * 70 + b"\n", "nested more than 64 levels deep"),
    ],
    ids=["tag", "utf8", "size", "depth"],
)
def test_a_hostile_dropin_is_refused_as_jobs_yaml_would_be(tmp_path, content, says):
    home = _home(tmp_path)
    (home.jobs_dir / "api.yaml").write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(home)
    assert str(caught.value).startswith(f"{home.jobs_dir / 'api.yaml'}")
    assert says in str(caught.value)


def test_a_fifo_or_too_many_dropins_are_refused_without_blocking(tmp_path):
    home = _home(tmp_path)
    os.mkfifo(home.jobs_dir / "api.yaml")
    with pytest.raises(ConfigError, match="api.yaml: not a regular file"):
        load_config(home)
    (home.jobs_dir / "api.yaml").unlink()
    for index in range(MAX_DROPINS + 1):
        (home.jobs_dir / f"j{index}.yaml").write_text("cmd: x\n")
    with pytest.raises(ConfigError, match=f"more than the {MAX_DROPINS} allowed"):
        load_config(home)


def test_the_applied_dropins_are_kept_in_the_database(tmp_path):
    store = Store(tmp_path / "procclaw.db")
    store.save_config(ConfigSnapshot("daemon-1", None, JOBS, {"api.yaml": "cmd: ./api\n"}))
    assert store.load_config() == ConfigSnapshot(
        "daemon-1", None, JOBS, {"api.yaml": "cmd: ./api\n"}
    )
    store.close()
