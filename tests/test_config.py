"""Loading procclaw.yaml and jobs.yaml: defaults, merging, and the exact error messages."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
from textwrap import dedent, indent

import pytest

from procclaw.config import (
    JOBS_TEMPLATE,
    SETTINGS_TEMPLATE,
    Config,
    ConfigError,
    Dependency,
    JobConfig,
    Problem,
    RetryConfig,
    load_config,
    parse_config,
)
from procclaw.home import Home


def parse(settings: str | None = None, jobs: str | None = None) -> Config:
    return parse_config(
        dedent(settings) if settings is not None else None,
        dedent(jobs) if jobs is not None else None,
    )


def problems(settings: str | None = None, jobs: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(settings, jobs)
    return [str(problem) for problem in caught.value.problems]


def one_job(body: str, settings: str | None = None) -> JobConfig:
    """Parse a file holding the single job `j` with the given (indented) body."""
    config = parse(settings, "jobs:\n  j:\n" + indent(dedent(body), "    "))
    [job] = config.jobs
    return job


# --- Good configs -------------------------------------------------------------------


def test_absent_files_give_the_documented_defaults():
    config = parse_config(None, None)
    settings = config.settings
    assert (settings.daemon.host, settings.daemon.port, settings.daemon.log_level) == (
        "127.0.0.1",
        9876,
        "INFO",
    )
    assert settings.api.auth.enabled is False and settings.api.auth.token is None
    assert settings.defaults.retry == RetryConfig()
    assert settings.defaults.shutdown.grace_period == 60.0
    assert settings.defaults.shutdown.signal == "SIGTERM"
    assert settings.defaults.health_check.type == "process"
    assert settings.defaults.health_check.interval == 60.0
    assert settings.defaults.timezone is None
    assert settings.openclaw.enabled and settings.openclaw.memory_logging
    assert settings.openclaw.alerts.enabled and settings.openclaw.alerts.channels == ()
    assert config.jobs == () and config.job_ids == ()


def test_empty_and_comment_only_files_are_empty_mappings():
    assert parse_config("", "# nothing yet\n") == parse_config(None, None)
    assert parse("daemon:\n", "jobs:\n").jobs == ()


def test_a_minimal_job_gets_every_default():
    job = one_job("cmd: echo hi")
    assert job == JobConfig(id="j", cmd="echo hi")
    assert job.name == "j"
    assert job.type == "manual" and job.shell is False and job.enabled is True
    assert job.on_overlap == "skip"
    assert job.retry.delays == (0, 30, 300, 900, 3600) and job.retry.max_attempts == 5
    assert job.health_check.type == "process" and job.health_check.timeout == 10.0
    assert job.log.max_bytes == 10 * 1024 * 1024 and job.log.backups == 5


def test_jobs_keep_file_order_and_can_be_looked_up_by_id():
    config = parse(jobs="jobs:\n  b: {cmd: x}\n  a: {cmd: y}\n  c: {cmd: z}\n")
    assert config.job_ids == ("b", "a", "c")
    assert config.job("a").cmd == "y"
    assert config.job("missing") is None


def test_settings_are_read_and_log_level_is_stored_upper_case():
    settings = parse(
        """\
        daemon: {host: 0.0.0.0, port: 8080, log_level: debug}
        api:
          auth: {enabled: true, token: s3cret}
        openclaw:
          memory_logging: false
          alerts:
            channels: [whatsapp, telegram]
            targets: {whatsapp: "+15555550123", telegram: "@ops"}
        """
    ).settings
    assert (settings.daemon.host, settings.daemon.port, settings.daemon.log_level) == (
        "0.0.0.0",
        8080,
        "DEBUG",
    )
    assert settings.api.auth.token == "s3cret"
    assert "s3cret" not in repr(settings) and "s3cret" not in json.dumps(settings.to_dict())
    assert settings.openclaw.memory_logging is False
    assert settings.openclaw.alerts.channels == ("whatsapp", "telegram")


def test_a_command_may_be_a_string_or_an_argv_list():
    assert one_job("cmd: [python, -m, http.server, '8000']").cmd == (
        "python",
        "-m",
        "http.server",
        "8000",
    )
    assert one_job("cmd: echo $HOME\nshell: true").cmd == "echo $HOME"


def test_cwd_expands_the_home_directory_without_checking_it_exists():
    assert one_job("cmd: x\ncwd: ~/nowhere/at/all").cwd == os.path.expanduser("~/nowhere/at/all")


def test_env_values_are_stored_as_strings_with_references_kept_as_text():
    job = one_job(
        """\
        cmd: x
        env:
          PORT: 8000
          RATIO: 0.5
          DEBUG: true
          QUIET: false
          TOKEN: ${secret:API_TOKEN}
          DATA: ${HOME}/data
        """
    )
    assert job.env == (
        ("PORT", "8000"),
        ("RATIO", "0.5"),
        ("DEBUG", "true"),
        ("QUIET", "false"),
        ("TOKEN", "${secret:API_TOKEN}"),
        ("DATA", "${HOME}/data"),
    )
    assert job.to_dict()["env"] == dict(job.env)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("30", 30.0),
        ("2.5", 2.5),
        ("'30'", 30.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("2d", 172800.0),
        ("'1m 30s'", 90.0),
    ],
)
def test_durations_are_seconds_or_strings_with_units(written, seconds):
    assert (
        one_job(f"cmd: x\nshutdown: {{grace_period: {written}}}").shutdown.grace_period == seconds
    )


@pytest.mark.parametrize(
    ("written", "size"),
    [
        ("2048", 2048),
        ("10MB", 10 * 1024**2),
        ("512KiB", 512 * 1024),
        ("1G", 1024**3),
        ("64k", 64 * 1024),
        ("1.5MB", int(1.5 * 1024**2)),
    ],
)
def test_log_sizes_are_bytes_or_strings_with_units(written, size):
    assert one_job(f"cmd: x\nlog: {{max_bytes: {written}}}").log.max_bytes == size


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("SIGTERM", "SIGTERM"), ("TERM", "SIGTERM"), ("sigint", "SIGINT"), ("hup", "SIGHUP")],
)
def test_signals_are_stored_by_their_canonical_name(written, canonical):
    assert one_job(f"cmd: x\nshutdown: {{signal: {written}}}").shutdown.signal == canonical


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


def test_retry_presets_expand_to_their_policies():
    webhook = one_job("cmd: x\nretry: {preset: webhook}").retry
    assert (webhook.kind, webhook.delays, webhook.max_attempts) == (
        "delays",
        (0.0, 30.0, 300.0, 900.0, 3600.0),
        5,
    )
    fixed = one_job("cmd: x\nretry: {preset: fixed, delay: 10s}").retry
    assert (fixed.kind, fixed.delay, fixed.max_attempts, fixed.jitter) == ("fixed", 10.0, None, 0)
    exponential = one_job("cmd: x\nretry: {preset: exponential, max_delay: 10m}").retry
    assert exponential.kind == "exponential"
    assert (exponential.initial, exponential.factor, exponential.max_delay) == (1.0, 2.0, 600.0)
    assert (exponential.jitter, exponential.max_attempts) == (0.1, None)
    never = one_job("cmd: x\nretry: {preset: none}").retry
    assert (never.kind, never.max_attempts) == ("none", 0)


def test_a_custom_delays_list_gives_up_after_its_last_delay():
    retry = one_job("cmd: x\nretry: {delays: [1, 10s, 1m], reset_after: 5m}").retry
    assert (retry.kind, retry.delays, retry.max_attempts) == ("delays", (1.0, 10.0, 60.0), 3)
    assert retry.reset_after == 300.0


def test_job_sections_merge_key_by_key_over_the_defaults():
    settings = """\
        defaults:
          retry: {preset: exponential, factor: 3}
          shutdown: {grace_period: 5, signal: SIGINT}
          health_check: {interval: 15, retries: 5}
          log: {backups: 2, timestamps: true}
        """
    job = one_job(
        """\
        cmd: x
        retry: {max_attempts: 4}
        shutdown: {grace_period: 20}
        health_check: {type: http, url: 'http://localhost:8000/health', timeout: 2}
        log: {max_bytes: 1MB}
        """,
        settings,
    )
    assert (job.retry.kind, job.retry.factor, job.retry.max_attempts) == ("exponential", 3.0, 4)
    assert (job.shutdown.grace_period, job.shutdown.signal) == (20.0, "SIGINT")
    check = job.health_check
    assert (check.type, check.interval, check.timeout, check.retries) == ("http", 15.0, 2.0, 5)
    assert (check.url, check.expected_status, check.expected_body) == (
        "http://localhost:8000/health",
        200,
        None,
    )
    assert (job.log.max_bytes, job.log.backups, job.log.timestamps) == (1024 * 1024, 2, True)


def test_a_job_retry_preset_replaces_the_default_retry_entirely():
    settings = "defaults: {retry: {preset: fixed, delay: 7, max_attempts: 9}}\n"
    retry = one_job("cmd: x\nretry: {preset: webhook}", settings).retry
    assert retry == RetryConfig()
    inherited = one_job("cmd: x", settings).retry
    assert (inherited.kind, inherited.delay, inherited.max_attempts) == ("fixed", 7.0, 9)


def test_a_job_without_health_check_gets_the_default_one():
    job = one_job("cmd: x", "defaults: {health_check: {interval: 5m}}\n")
    assert (job.health_check.type, job.health_check.interval) == ("process", 300.0)


def test_file_health_checks_take_a_path_and_a_maximum_age():
    job = one_job("cmd: x\nhealth_check: {type: file, path: ~/beat, max_age: 2m}")
    assert job.health_check.path == os.path.expanduser("~/beat")
    assert job.health_check.max_age == 120.0


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


def test_yaml_anchors_and_merge_keys_can_share_job_settings():
    config = parse(
        jobs="""\
        jobs:
          first: &worker {cmd: work, type: continuous, tags: [pool]}
          second: {<<: *worker, cmd: work --fast}
        """
    )
    second = config.job("second")
    assert (second.cmd, second.type, second.tags) == ("work --fast", "continuous", ("pool",))


def test_models_are_frozen_hashable_and_convert_to_plain_data():
    config = parse(
        jobs="jobs:\n  a: {cmd: [x, y], env: {A: 1}, depends_on: [{job: b}]}\n  b: {cmd: z}\n"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.jobs[0].cmd = "other"  # type: ignore[misc]
    assert hash(config)
    data = config.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["jobs"][0]["cmd"] == ["x", "y"]
    assert data["jobs"][0]["depends_on"] == [
        {"job": "b", "condition": "after_start", "timeout": 60.0}
    ]
    assert data["settings"]["defaults"]["retry"]["kind"] == "delays"


def test_the_templates_parse_without_problems():
    config = parse_config(SETTINGS_TEMPLATE, JOBS_TEMPLATE)
    assert config.settings == parse_config(None, None).settings
    assert config.job_ids == ("hello", "clock")
    hello, clock = config.jobs
    assert (hello.type, hello.cmd) == ("manual", 'echo "hello from procclaw"')
    assert (clock.type, clock.shell, clock.tags) == ("continuous", True, ("sample",))


def test_the_commented_examples_in_the_jobs_template_are_valid_when_uncommented():
    lines = []
    for line in JOBS_TEMPLATE.splitlines():
        line = re.sub(r"^  # ([A-Za-z0-9_-]+:)$", r"  \1", line)
        lines.append(re.sub(r"^  #   ", "    ", line))
    config = parse_config(SETTINGS_TEMPLATE, "\n".join(lines))
    assert config.job_ids == ("hello", "clock", "report", "notifier", "api")
    assert config.job("report").schedule == "0 */12 * * *"
    assert ("API_KEY", "${secret:NOTIFY_API_KEY}") in config.job("notifier").env
    assert config.job("api").health_check.type == "http"


def test_load_config_with_missing_files_gives_the_defaults(tmp_path):
    assert load_config(Home(tmp_path)) == parse_config(None, None)


def test_load_config_reads_both_files_and_names_them_by_full_path(tmp_path):
    home = Home(tmp_path)
    home.config_file.write_text("daemon: {port: 7000}\n")
    home.jobs_file.write_text("jobs:\n  a: {cmd: x, enabld: false}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(home)
    assert str(caught.value) == (
        f"{home.jobs_file}:2: job 'a': unknown key 'enabld' (did you mean 'enabled'?)"
    )
    home.jobs_file.write_text("jobs:\n  a: {cmd: x}\n")
    config = load_config(home)
    assert config.settings.daemon.port == 7000 and config.job_ids == ("a",)


# --- Bad configs: each message exactly as the user sees it ---------------------------


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


def test_invalid_yaml_is_one_problem_with_its_line():
    jobs = "jobs:\n  a:\n    cmd: x\n    name: a: b\n"
    assert problems(jobs=jobs) == ["jobs.yaml:4: invalid YAML: mapping values are not allowed here"]


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
        "jobs.yaml:5: job 'api': retry.delays[2]: expected a duration like 30 or '5m', got 'soon'"
    ]


def test_bad_sizes_are_refused():
    assert problems(jobs="jobs:\n  a:\n    cmd: x\n    log: {max_bytes: 10 parsecs}\n") == [
        "jobs.yaml:4: job 'a': log.max_bytes: expected a size of at least 1KiB like 1048576 "
        "or '10MB', got '10 parsecs'"
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
            "procclaw.yaml:2: defaults.shutdown.grace_period: expected a duration like 30 or "
            "'5m', got 'soon'",
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


def test_a_dependency_written_as_a_bare_name_gets_a_hint():
    jobs = "jobs:\n  db: {cmd: x}\n  a:\n    cmd: x\n    depends_on: [db]\n"
    assert problems(jobs=jobs) == [
        "jobs.yaml:5: job 'a': depends_on[0]: expected a mapping like {job: db}, got 'db'"
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
