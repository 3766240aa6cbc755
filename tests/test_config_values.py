"""Reading procclaw.yaml and jobs.yaml: defaults, merging and every value's forms."""

from __future__ import annotations

import dataclasses
import json
import os
import re

import pytest
from config_samples import one_job, parse

from procclaw.config import (
    JOBS_TEMPLATE,
    SETTINGS_TEMPLATE,
    ConfigError,
    JobConfig,
    LimitsConfig,
    RetryConfig,
    load_config,
    parse_config,
)
from procclaw.home import Home


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


def test_a_job_has_no_limits_unless_it_or_the_defaults_set_them():
    assert one_job("cmd: x").limits == LimitsConfig()
    assert parse_config(None, None).settings.defaults.limits == LimitsConfig()
    assert LimitsConfig().rlimits() == ()


def test_limits_are_read_in_their_units():
    cores = os.cpu_count() or 1
    limits = one_job(
        f"cmd: x\nlimits: {{memory: 512M, cpu: {cores * 100}%, nofile: 4096, nproc: 256, core: 0}}"
    ).limits
    assert limits == LimitsConfig(
        memory=512 * 1024**2, cpu=cores * 100.0, nofile=4096, nproc=256, core=0
    )
    assert limits.rlimits() == (("nofile", 4096), ("nproc", 256), ("core", 0))
    other = one_job("cmd: x\nlimits: {memory: 1073741824, cpu: '12.5%', core: 1G}").limits
    assert (other.memory, other.cpu, other.core) == (1024**3, 12.5, 1024**3)
    unlimited = one_job("cmd: x\nlimits: {nproc: unlimited, core: unlimited}").limits
    assert unlimited.rlimits() == (("nproc", "unlimited"), ("core", "unlimited"))


def test_limits_merge_key_by_key_over_the_defaults_and_null_lifts_one():
    settings = "defaults:\n  limits: {memory: 1G, nofile: 1024, core: 0}\n"
    config = parse(
        settings,
        """\
        jobs:
          inherits: {cmd: x}
          overrides:
            cmd: x
            limits: {nofile: 256, nproc: 64, memory: null}
        """,
    )
    inherits, overrides = config.jobs
    assert inherits.limits == LimitsConfig(memory=1024**3, nofile=1024, core=0)
    assert overrides.limits == LimitsConfig(nofile=256, nproc=64, core=0)
    assert config.settings.defaults.to_dict()["limits"] == {
        "memory": 1024**3,
        "cpu": None,
        "nofile": 1024,
        "nproc": None,
        "core": 0,
    }
    assert overrides.to_dict()["limits"]["nofile"] == 256


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
    assert config.job("api").limits.nofile == 4096


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
