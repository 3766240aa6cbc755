"""Bad configs: each problem exactly as the user sees it, with file, line and field."""

from __future__ import annotations

import os
import pickle

import pytest
from config_samples import parse, problems

from procclaw.config import (
    ConfigError,
    Problem,
    parse_config,
)


def test_problem_renders_without_line_or_where_when_absent():
    assert str(Problem("jobs.yaml", None, "", "cannot read")) == "jobs.yaml: cannot read"
    assert str(Problem("jobs.yaml", 3, "job 'a'", "bad")) == "jobs.yaml:3: job 'a': bad"


def test_unknown_job_key_suggests_the_right_one():
    assert (
        problems(jobs="jobs:\n  api:\n    comand: python main.py\n")
        == [
            "jobs.yaml:3: job 'api': unknown key 'comand' (did you mean 'cmd'?)",
            "jobs.yaml:2: job 'api': cmd is required",
        ][::-1]
    )


def test_unknown_settings_keys_suggest_the_right_one():
    assert problems("deamon: {}\ndaemon:\n  prot: 80\n") == [
        "procclaw.yaml:1: unknown key 'deamon' (did you mean 'daemon'?)",
        "procclaw.yaml:3: daemon: unknown key 'prot' (did you mean 'port'?)",
    ]


def test_unknown_nested_job_key_names_its_section():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    retry:\n      max_attempt: 3\n") == [
        "jobs.yaml:5: job 'a': retry: unknown key 'max_attempt' (did you mean 'max_attempts'?)"
    ]


@pytest.mark.parametrize(
    ("port", "found"), [("abc", "'abc'"), ("true", "true"), ("0", "0"), ("70000", "70000")]
)
def test_port_must_be_an_integer_in_range(port, found):
    assert problems(f"daemon:\n  port: {port}\n") == [
        f"procclaw.yaml:2: daemon.port: expected an integer from 1 to 65535, got {found}"
    ]


def test_enabled_must_be_a_boolean():
    assert problems(jobs="jobs:\n  api:\n    cmd: x\n    enabled: yes please\n") == [
        "jobs.yaml:4: job 'api': enabled: expected true or false, got 'yes please'"
    ]


def test_tags_must_be_a_list():
    assert problems(jobs="jobs:\n  api:\n    cmd: x\n    tags: web\n") == [
        "jobs.yaml:4: job 'api': tags: expected a list of strings, got 'web'"
    ]


def test_log_level_must_be_a_known_level():
    assert problems("daemon: {log_level: verbose}\n") == [
        "procclaw.yaml:1: daemon.log_level: expected one of DEBUG, INFO, WARNING, ERROR, "
        "got 'verbose'"
    ]


def test_the_pool_size_and_isolate_are_read():
    config = parse(
        "daemon: {supervisors: 3}\n", "jobs:\n  a: {cmd: x, isolate: true}\n  b: {cmd: y}\n"
    )
    assert config.settings.daemon.supervisors == 3
    assert [job.isolate for job in config.jobs] == [True, False]
    assert parse().settings.daemon.supervisors is None  # one per core, at least two


@pytest.mark.parametrize("size", ["0", "65", "many", "1.5"])
def test_a_pool_size_out_of_range_is_refused(size):
    [problem] = problems(f"daemon: {{supervisors: {size}}}\n")
    assert problem.startswith("procclaw.yaml:1: daemon.supervisors: ")


def test_isolate_must_be_true_or_false():
    [problem] = problems(jobs="jobs:\n  a:\n    cmd: x\n    isolate: 3\n")
    assert problem.startswith("jobs.yaml:4: job 'a': isolate: ")


def test_a_job_without_cmd_is_reported_at_its_id():
    assert problems(jobs="jobs:\n  a:\n    type: continuous\n") == [
        "jobs.yaml:2: job 'a': cmd is required"
    ]


def test_cmd_must_be_a_string_when_shell_is_true():
    assert problems(jobs="jobs:\n  a:\n    shell: true\n    cmd: [echo, hi]\n") == [
        "jobs.yaml:4: job 'a': cmd: expected a string when shell is true, got a list"
    ]


def test_argv_items_must_be_strings():
    assert problems(jobs="jobs:\n  a:\n    cmd: [sleep, 10]\n") == [
        "jobs.yaml:3: job 'a': cmd[1]: expected a string, got 10 (put it in quotes)"
    ]


def test_secrets_are_refused_in_cmd():
    jobs = """\
        jobs:
          a:
            cmd: deploy --token ${secret:KEY}
          b:
            cmd: [curl, --user, "me:${secret:PASSWORD}", example.org]
        """
    assert problems(jobs=jobs) == [
        "jobs.yaml:3: job 'a': cmd: secrets are not allowed in cmd (every local user can read "
        "a command line): move ${secret:KEY} into env",
        "jobs.yaml:5: job 'b': cmd: secrets are not allowed in cmd (every local user can read "
        "a command line): move ${secret:PASSWORD} into env",
    ]


def test_invalid_yaml_is_one_problem_with_its_line():
    jobs = "jobs:\n  a:\n    cmd: x\n    name: a: b\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:4: invalid YAML: mapping values are not allowed in this context"
    ]


def test_duplicate_keys_are_refused():
    jobs = "jobs:\n  a:\n    cmd: x\n    type: manual\n    cmd: y\n"
    assert problems(jobs=jobs) == ["jobs.yaml:5: job 'a': duplicate key 'cmd' (first at line 3)"]


def test_duplicate_job_ids_are_refused():
    assert problems(jobs="jobs:\n  a: {cmd: x}\n  a: {cmd: y}\n") == [
        "jobs.yaml:3: jobs: duplicate key 'a' (first at line 2)"
    ]


def test_job_ids_must_be_safe_for_topics_and_file_names():
    assert problems(jobs="jobs:\n  a.b:\n    cmd: x\n") == [
        "jobs.yaml:2: job id 'a.b' is invalid: use letters, digits, '-' and '_' "
        "(at most 63, starting with a letter or digit)"
    ]


def test_bad_durations_name_their_place_in_a_list():
    jobs = "jobs:\n  api:\n    cmd: x\n    retry:\n      delays: [0, 30s, soon]\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'api': retry.delays[2]: expected a duration of at most 365d,"
        " like 30 or '5m', got 'soon'"
    ]


def test_bad_sizes_are_refused():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    log: {max_bytes: 10 parsecs}\n") == [
        "jobs.yaml:4: job 'a': log.max_bytes: expected a size from 1KiB to 1TiB, like 1048576 "
        "or '10MB', got '10 parsecs'"
    ]


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            "memory: lots",
            "memory: expected a size from 1MiB to 1TiB, like '512M' or '2G', got 'lots'",
        ),
        (
            "memory: -512",
            "memory: expected a size from 1MiB to 1TiB, like '512M' or '2G', got -512",
        ),
        ("memory: 512", "memory: expected a size from 1MiB to 1TiB, like '512M' or '2G', got 512"),
        ("memory: 2T", "memory: expected a size from 1MiB to 1TiB, like '512M' or '2G', got '2T'"),
        ("nofile: -1", "nofile: expected an integer from 16 to 1073741824, got -1"),
        ("nofile: 8", "nofile: expected an integer from 16 to 1073741824, got 8"),
        ("nofile: unlimited", "nofile: expected an integer from 16 to 1073741824, got 'unlimited'"),
        ("nproc: 0", "nproc: expected an integer from 1 to 4194304, or 'unlimited', got 0"),
        ("nproc: 2.5", "nproc: expected an integer from 1 to 4194304, or 'unlimited', got 2.5"),
        (
            "core: -1",
            "core: expected a size from 0 to 1TiB, like 0 or '1G', or 'unlimited', got -1",
        ),
        (
            "core: infinity",
            "core: expected a size from 0 to 1TiB, like 0 or '1G', or 'unlimited', got 'infinity'",
        ),
    ],
)
def test_bad_limits_are_refused_with_their_field(written, problem):
    assert problems(jobs=f"jobs:\n  a:\n    cmd: x\n    limits:\n      {written}\n") == [
        f"jobs.yaml:5: job 'a': limits.{problem}"
    ]


def _cpu_range() -> str:
    cores = os.cpu_count() or 1
    plural = "s" if cores != 1 else ""
    return (
        f"a percentage of one core from 1% to {cores * 100}% "
        f"(this machine has {cores} core{plural}), like '50%'"
    )


def test_a_cpu_share_beyond_the_machines_cores_names_the_core_count():
    too_much = f"{((os.cpu_count() or 1) + 1) * 100}%"
    assert problems(jobs=f"jobs:\n  a:\n    cmd: x\n    limits: {{cpu: {too_much}}}\n") == [
        f"jobs.yaml:4: job 'a': limits.cpu: expected {_cpu_range()}, got '{too_much}'"
    ]


@pytest.mark.parametrize(
    ("written", "got"),
    [
        ("50", "50 (write 50%)"),
        ("0.5", "0.5"),
        ("0%", "'0%'"),
        ("-50%", "'-50%'"),
        ("half", "'half'"),
    ],
)
def test_cpu_is_a_percentage_of_one_core_and_nothing_else(written, got):
    assert problems(jobs=f"jobs:\n  a:\n    cmd: x\n    limits: {{cpu: {written}}}\n") == [
        f"jobs.yaml:4: job 'a': limits.cpu: expected {_cpu_range()}, got {got}"
    ]


def test_unknown_limits_and_a_limits_that_is_not_a_mapping_are_refused():
    jobs = """\
        jobs:
          a:
            cmd: x
            limits:
              nofiles: 64
          b:
            cmd: x
            limits: 4096
        """
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': limits: unknown key 'nofiles' (did you mean 'nofile'?)",
        "jobs.yaml:8: job 'b': limits: expected a mapping, got 4096",
    ]


def test_bad_default_limits_are_refused_in_procclaw_yaml():
    assert problems("defaults:\n  limits:\n    memory: lots\n    open_files: 10\n") == [
        "procclaw.yaml:3: defaults.limits.memory: expected a size from 1MiB to 1TiB, like '512M'"
        " or '2G', got 'lots'",
        "procclaw.yaml:4: defaults.limits: unknown key 'open_files' (did you mean 'nofile'?)",
    ]


def test_unknown_signals_and_sigkill_are_refused():
    jobs = """\
        jobs:
          a:
            cmd: x
            shutdown: {signal: SIGTREM}
          b:
            cmd: x
            shutdown: {signal: KILL}
        """
    assert problems(jobs=jobs) == [
        "jobs.yaml:4: job 'a': shutdown.signal: unknown signal 'SIGTREM' (did you mean 'SIGTERM'?)",
        "jobs.yaml:7: job 'b': shutdown.signal: SIGKILL cannot be caught, so the job gets no "
        "chance to shut down: use SIGTERM or SIGINT (SIGKILL is sent anyway after grace_period)",
    ]


def test_health_check_keys_of_another_type_are_refused():
    jobs = "jobs:\n  a:\n    cmd: x\n    health_check:\n      url: http://localhost/\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': health_check.url is only used by type: http"
    ]


def test_http_health_checks_need_a_url():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    health_check: {type: http}\n") == [
        "jobs.yaml:4: job 'a': health_check.url is required for type: http"
    ]


def test_type_specific_health_check_keys_cannot_be_defaults():
    assert problems("defaults:\n  health_check:\n    path: /tmp/beat\n") == [
        "procclaw.yaml:3: defaults.health_check.path cannot be a default: "
        "set it in each job's health_check"
    ]


def test_retry_keys_of_another_preset_are_refused():
    jobs = "jobs:\n  a:\n    cmd: x\n    retry: {preset: fixed, factor: 3}\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:4: job 'a': retry.factor is only used by preset: exponential"
    ]


def test_retry_preset_and_delays_together_are_refused():
    jobs = "jobs:\n  a:\n    cmd: x\n    retry:\n      preset: fixed\n      delays: [1]\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:6: job 'a': retry.delays cannot be combined with preset: give one or the other"
    ]


def test_job_problems_that_depend_on_the_defaults_are_reported_at_the_job():
    settings = "defaults:\n  retry: {preset: fixed}\n"
    jobs = "jobs:\n  a:\n    cmd: x\n    retry: {max_delay: 1h}\n"
    assert problems(settings, jobs) == [
        "jobs.yaml:4: job 'a': retry.max_delay is only used by preset: exponential"
    ]


def test_env_names_and_null_values_are_refused():
    jobs = "jobs:\n  a:\n    cmd: x\n    env:\n      1ST: a\n      EMPTY:\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': env: '1ST' is not a valid variable name: use letters, digits "
        "and '_', not starting with a digit",
        "jobs.yaml:6: job 'a': env.EMPTY: expected a string, number or true/false, got null "
        "(write '' for an empty value)",
    ]


def test_auth_enabled_without_a_token_is_refused():
    assert problems("api:\n  auth:\n    enabled: true\n") == [
        "procclaw.yaml:3: api.auth.enabled is true but no api.auth.token or api.auth.token_file"
        " is set"
    ]


def test_all_problems_of_both_files_are_reported_together_and_sorted():
    settings = """\
        defaults:
          shutdown: {grace_period: soon}
        daemon:
          port: abc
        """
    jobs = """\
        jobs:
          web:
            cmd: x
            type: sometimes
            enabled: maybe
          bad.id:
            cmd: y
          worker:
            comand: z
        """
    with pytest.raises(ConfigError) as caught:
        parse(settings, jobs)
    assert str(caught.value) == "\n".join(
        [
            "procclaw.yaml:2: defaults.shutdown.grace_period: expected a duration of at most "
            "365d, like 30 or '5m', got 'soon'",
            "procclaw.yaml:4: daemon.port: expected an integer from 1 to 65535, got 'abc'",
            "jobs.yaml:4: job 'web': type: expected one of manual, continuous, scheduled, "
            "got 'sometimes'",
            "jobs.yaml:5: job 'web': enabled: expected true or false, got 'maybe'",
            "jobs.yaml:6: job id 'bad.id' is invalid: use letters, digits, '-' and '_' "
            "(at most 63, starting with a letter or digit)",
            "jobs.yaml:8: job 'worker': cmd is required",
            "jobs.yaml:9: job 'worker': unknown key 'comand' (did you mean 'cmd'?)",
        ]
    )
    assert len(caught.value.problems) == 7


def test_jobs_written_without_the_jobs_key_get_a_hint():
    assert problems(jobs="hello:\n  cmd: x\n") == [
        "jobs.yaml:1: unknown key 'hello' (jobs go under the top-level key 'jobs')"
    ]


def test_config_errors_survive_pickling_with_their_problems():
    error = ConfigError((Problem("jobs.yaml", 2, "job 'a'", "cmd is required"),))
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)


def test_a_job_that_is_not_a_mapping_is_reported_once():
    assert problems(jobs="jobs:\n  a: python main.py\n") == [
        "jobs.yaml:2: job 'a': expected a mapping, got 'python main.py'"
    ]


def test_a_cmd_with_unbalanced_quotes_is_refused_unless_a_shell_reads_it():
    with pytest.raises(ConfigError) as caught:
        parse_config(None, 'jobs:\n  a:\n    cmd: echo "unclosed\n')
    assert str(caught.value) == (
        "jobs.yaml:3: job 'a': cmd: cannot be split into arguments: no closing quotation"
    )
    shell = parse_config(None, 'jobs:\n  a:\n    shell: true\n    cmd: echo "it\'s"\n')
    assert shell.jobs[0].cmd == 'echo "it\'s"'


def test_restart_is_a_policy_of_continuous_jobs_only():
    jobs = (
        "jobs:\n"
        "  a:\n    cmd: x\n    type: continuous\n    restart: on-falure\n"
        "  b:\n    cmd: x\n    restart: never\n"
    )
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': restart: expected one of always, on-failure, never,"
        " got 'on-falure' (did you mean 'on-failure'?)",
        "jobs.yaml:8: job 'b': restart is only used by type: continuous",
    ]
