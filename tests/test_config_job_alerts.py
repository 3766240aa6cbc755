"""A job's own `alerts:` in jobs.yaml: how it sits over openclaw.alerts, and its errors."""

from __future__ import annotations

from config_samples import parse, problems

from procclaw.config.job_wire import job_from_wire, job_to_wire
from procclaw.config.models import JobAlerts

SETTINGS = """\
openclaw:
  alerts:
    channels: [whatsapp, telegram]
    targets: {whatsapp: "+15555550123", telegram: "@ops"}
    on: [failed, crash]
"""


def jobs(alerts: str) -> str:
    return f"jobs:\n  api:\n    cmd: serve\n    type: continuous\n    alerts: {alerts}\n"


def effective(alerts: str):
    config = parse(SETTINGS, jobs(alerts))
    return config.settings.openclaw.alerts.for_job(config.job("api").alerts)


def test_a_job_without_alerts_follows_openclaw_alerts():
    config = parse(SETTINGS, "jobs:\n  api:\n    cmd: serve\n")
    job = config.job("api")
    assert job.alerts is None and job.to_dict()["alerts"] is None
    assert config.settings.openclaw.alerts.for_job(job.alerts) == config.settings.openclaw.alerts


def test_each_key_a_job_gives_replaces_the_global_one_and_targets_add_up():
    own = effective(
        "{on: [crash, restart], channels: [discord, telegram], targets: {discord: '#api'}}"
    )
    assert own.on == ("crash", "restart")
    assert own.channels == ("discord", "telegram")
    assert (own.target("discord"), own.target("telegram")) == ("#api", "@ops")
    assert effective("{on: [restart]}").channels == ("whatsapp", "telegram")
    assert effective("{targets: {telegram: '@api-team'}}").target("telegram") == "@api-team"


def test_on_empty_silences_the_job():
    assert effective("{on: []}").on == ()


def test_the_override_shows_as_written_in_the_config_view():
    job = parse(SETTINGS, jobs("{on: [crash], targets: {telegram: '@api'}}")).job("api")
    assert job.to_dict()["alerts"] == {
        "on": ["crash"],
        "channels": None,
        "targets": {"telegram": "@api"},
    }


def test_the_override_crosses_the_wire_whole():
    job = parse(SETTINGS, jobs("{on: [], channels: [discord], targets: {discord: '#x'}}")).job(
        "api"
    )
    assert job_from_wire(job_to_wire(job)).alerts == JobAlerts(
        (), ("discord",), (("discord", "#x"),)
    )


def test_a_change_of_alerts_alone_leaves_the_job_unchanged_for_a_reload():
    """A reload restarts a job whose config changed: who hears of it is no such change."""
    quiet = parse(SETTINGS, jobs("{on: []}")).job("api")
    loud = parse(SETTINGS, jobs("{on: [crash]}")).job("api")
    assert quiet == loud
    assert job_to_wire(quiet)["alerts"]["on"] == [] and job_to_wire(loud)["alerts"]["on"] == [
        "crash"
    ]


def test_unknown_keys_and_wrong_types_are_named_with_their_line():
    assert problems(
        SETTINGS,
        """\
        jobs:
          api:
            cmd: serve
            alerts:
              on: crash
              chanels: [telegram]
              window: 1m
          web:
            cmd: serve
            alerts: false
          db:
            cmd: serve
            alerts: {channels: telegram, targets: [telegram]}
        """,
    ) == [
        "jobs.yaml:5: job 'api': alerts.on: expected a list of events, got 'crash'",
        "jobs.yaml:6: job 'api': alerts: unknown key 'chanels' (did you mean 'channels'?)",
        "jobs.yaml:7: job 'api': alerts: unknown key 'window'",
        "jobs.yaml:10: job 'web': alerts: expected a mapping, got false",
        "jobs.yaml:13: job 'db': alerts.channels: expected a list of channel names, got 'telegram'",
        "jobs.yaml:13: job 'db': alerts.targets: expected a mapping, got a list",
    ]


def test_an_event_that_does_not_exist_is_refused_with_a_suggestion():
    assert problems(SETTINGS, jobs("{on: [crashed]}")) == [
        "jobs.yaml:5: job 'api': alerts.on[0]: expected one of failed, unhealthy, recovered,"
        " dependency_timeout, missed, limit, crash, restart, got 'crashed' (did you mean 'crash'?)"
    ]


def test_a_channel_with_no_target_anywhere_is_refused():
    assert problems(SETTINGS, jobs("{channels: [telegram, telegarm, discord]}")) == [
        "jobs.yaml:5: job 'api': alerts.channels[1]: channel 'telegarm' has no target"
        " (did you mean 'telegram'?): add alerts.targets.telegarm (the number, chat or"
        " channel id to send to)",
        "jobs.yaml:5: job 'api': alerts.channels[2]: channel 'discord' has no target:"
        " add alerts.targets.discord (the number, chat or channel id to send to)",
    ]


def test_a_target_for_a_channel_the_job_does_not_alert_is_refused():
    assert problems(SETTINGS, jobs("{channels: [telegram], targets: {discord: '#x'}}")) == [
        "jobs.yaml:5: job 'api': alerts.targets: 'discord' is not in alerts.channels:"
        " add it there, or remove this target"
    ]
    assert problems(SETTINGS, jobs("{targets: {discord: '#x'}}")) == [
        "jobs.yaml:5: job 'api': alerts.targets: 'discord' is not in openclaw.alerts.channels,"
        " where this job's alerts go: list the job's channels in its alerts.channels,"
        " or remove this target"
    ]


def test_an_unquoted_phone_number_is_refused_in_a_job_too():
    assert problems(SETTINGS, jobs("{targets: {whatsapp: +15555550199}}")) == [
        "jobs.yaml:5: job 'api': alerts.targets.whatsapp: write the target in quotes, like"
        ' "+15555550123": YAML reads 15555550199 as a number, which loses a leading + or 0'
    ]
