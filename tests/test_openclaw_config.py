"""The `openclaw:` block of procclaw.yaml: what it accepts, and the errors it gives."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest

from procclaw.config import ConfigError, parse_config
from procclaw.config.models import ALERT_EVENTS, DEFAULT_ALERT_EVENTS


def openclaw(text: str):
    return parse_config(dedent(text), None).settings.openclaw


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(dedent(text), None)
    return [str(problem) for problem in caught.value.problems]


def test_defaults_alert_on_every_event_but_crashes_through_the_local_gateway():
    settings = parse_config(None, None).settings.openclaw
    assert settings.enabled and settings.memory_logging and settings.workspace is None
    assert settings.alerts.on == DEFAULT_ALERT_EVENTS
    assert set(ALERT_EVENTS) - set(DEFAULT_ALERT_EVENTS) == {"crash", "restart"}
    assert settings.alerts.window == 300 and settings.alerts.wake is False
    assert settings.gateway.url == "http://127.0.0.1:18789" and settings.gateway.token is None


def test_the_full_block_is_read_with_targets_per_channel():
    settings = openclaw(
        """\
        openclaw:
          workspace: ~/agent
          alerts:
            channels: [whatsapp, telegram]
            targets:
              whatsapp: "+15555550123"
              telegram: "-100123"
            on: [failed, missed]
            window: 1m
            retry_delays: [1s, 5s]
            wake: true
          gateway:
            url: http://127.0.0.1:19000/
            token: ${secret:OPENCLAW_TOKEN}
            hooks_token: ${secret:OPENCLAW_HOOKS_TOKEN}
        """
    )
    assert settings.workspace.endswith("/agent") and not settings.workspace.startswith("~")
    assert settings.alerts.target("whatsapp") == "+15555550123"
    assert settings.alerts.target("telegram") == "-100123"
    assert settings.alerts.on == ("failed", "missed")
    assert (settings.alerts.window, settings.alerts.retry_delays) == (60, (1, 5))
    assert settings.gateway.url == "http://127.0.0.1:19000"  # paths are appended to it
    assert settings.gateway.token == "${secret:OPENCLAW_TOKEN}"


def test_wake_needs_the_hooks_token():
    assert problems("openclaw:\n  alerts:\n    wake: true\n") == [
        "procclaw.yaml:3: openclaw.alerts.wake: needs openclaw.gateway.hooks_token:"
        " OpenClaw's /hooks/wake takes its hooks.token, not the gateway token"
    ]


def test_a_literal_gateway_token_never_shows():
    settings = openclaw("openclaw:\n  gateway: {token: hunter2-token}\n")
    assert settings.gateway.token == "hunter2-token"
    assert "hunter2" not in repr(settings) and "hunter2" not in json.dumps(settings.to_dict())


def test_a_channel_without_a_target_is_an_error_not_a_silent_no_op():
    assert problems("openclaw:\n  alerts:\n    channels:\n      - whatsapp\n") == [
        "procclaw.yaml:4: openclaw.alerts.channels[0]: channel 'whatsapp' has no target:"
        " add alerts.targets.whatsapp (the number, chat or channel id to send to)"
    ]


def test_a_target_for_an_unlisted_channel_is_an_error():
    assert problems(
        """\
        openclaw:
          alerts:
            channels: [whatsapp]
            targets:
              whatsapp: "+1555"
              discord: "#ops"
        """
    ) == [
        "procclaw.yaml:6: openclaw.alerts.targets: 'discord' is not in alerts.channels:"
        " add it there, or remove this target"
    ]


def test_an_unquoted_phone_number_is_refused_before_it_loses_its_plus():
    assert problems(
        "openclaw:\n  alerts:\n    channels: [whatsapp]\n    targets: {whatsapp: +15555550123}\n"
    ) == [
        "procclaw.yaml:4: openclaw.alerts.targets.whatsapp: write the target in quotes,"
        ' like "+15555550123": YAML reads 15555550123 as a number, which loses a leading + or 0'
    ]


def test_the_nested_alerts_block_is_checked_key_by_key():
    assert problems(
        """\
        openclaw:
          alerts:
            enabled: sure
            chanels: [whatsapp]
            on: [failed, crashed]
            window: soon
            retry_delays: 5
        """
    ) == [
        "procclaw.yaml:3: openclaw.alerts.enabled: expected true or false, got 'sure'",
        "procclaw.yaml:4: openclaw.alerts: unknown key 'chanels' (did you mean 'channels'?)",
        "procclaw.yaml:5: openclaw.alerts.on[1]: expected one of failed, unhealthy,"
        " recovered, dependency_timeout, missed, limit, crash, restart, got 'crashed'"
        " (did you mean 'crash'?)",
        "procclaw.yaml:6: openclaw.alerts.window: expected a duration of at most 365d,"
        " like 30 or '5m', got 'soon'",
        "procclaw.yaml:7: openclaw.alerts.retry_delays: expected a list of durations, got 5",
    ]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://127.0.0.1", "a URL like http://127.0.0.1:18789"),
        ("127.0.0.1:18789", "a URL like http://127.0.0.1:18789"),
        ("http://127.0.0.1:99999", "a URL with a port from 1 to 65535"),
        ("http://127.0.0.1:18789/?x=1", "a base URL without ?query or #fragment"),
    ],
)
def test_a_bad_gateway_url_names_what_is_expected(url, why):
    assert problems(f"openclaw:\n  gateway:\n    url: '{url}'\n") == [
        f"procclaw.yaml:3: openclaw.gateway.url: expected {why}, got '{url}'"
    ]


def test_gateway_token_and_unknown_keys_are_reported_with_their_lines():
    assert problems(
        "openclaw:\n  gateway:\n    token: ${secret:no good}\n    tokn: x\n  memory: true\n"
    ) == [
        "procclaw.yaml:3: openclaw.gateway.token: in ${secret:no good}: 'no good' is not a"
        " valid secret name: use letters, digits, '_', '-' and '.' (at most 128, not"
        " starting with '-' or '.')",
        "procclaw.yaml:4: openclaw.gateway: unknown key 'tokn' (did you mean 'token'?)",
        "procclaw.yaml:5: openclaw: unknown key 'memory' (did you mean 'memory_logging'?)",
    ]
