"""Read the `openclaw:` section of procclaw.yaml: alerts, memory logging, the gateway.

Every alert channel needs a target: a channel that names nobody to send to would
otherwise be counted as alerted while nothing reached anyone.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from procclaw.config.fields import Fields
from procclaw.config.models import ALERT_EVENTS, AlertSettings, GatewaySettings, OpenClawSettings
from procclaw.config.values import (
    Invalid,
    boolean,
    choice,
    duration,
    expected,
    is_number,
    optional,
    positive_duration,
    secret_text,
    text,
)

OPENCLAW_KEYS = ("enabled", "memory_logging", "alerts", "workspace", "gateway")
ALERT_KEYS = ("enabled", "channels", "targets", "on", "window", "retry_delays", "wake")
GATEWAY_KEYS = ("url", "token", "hooks_token")


def read_openclaw(fields: Fields) -> OpenClawSettings:
    workspace = fields.get("workspace", optional(text), None)
    alert_fields = fields.nested("alerts", ALERT_KEYS)
    alerts = _read_alerts(alert_fields)
    gateway = _read_gateway(fields.nested("gateway", GATEWAY_KEYS))
    if alerts.wake and gateway.hooks_token is None:
        alert_fields.scope.at("wake").error(
            alert_fields.value_line("wake"),
            "needs openclaw.gateway.hooks_token: OpenClaw's /hooks/wake takes its"
            " hooks.token, not the gateway token",
        )
    return OpenClawSettings(
        enabled=fields.get("enabled", boolean, True),
        memory_logging=fields.get("memory_logging", boolean, True),
        alerts=alerts,
        workspace=None if workspace is None else os.path.expanduser(workspace),
        gateway=gateway,
    )


def _read_alerts(fields: Fields) -> AlertSettings:
    default = AlertSettings()
    channels = tuple(dict.fromkeys(fields.list("channels", text, "a list of channel names")))
    targets = _read_targets(fields, channels)
    given = fields.raw("targets") if isinstance(fields.raw("targets"), dict) else {}
    for index, channel in enumerate(fields.raw("channels") or ()):
        if channel in channels and channel not in given:
            fields.scope.at("channels", index).error(
                _item_line(fields, "channels", index),
                f"channel '{channel}' has no target: add alerts.targets.{channel}"
                " (the number, chat or channel id to send to)",
            )
    on = fields.list("on", choice(ALERT_EVENTS), "a list of events") if "on" in fields else None
    return AlertSettings(
        enabled=fields.get("enabled", boolean, default.enabled),
        channels=channels,
        targets=targets,
        on=default.on if on is None else tuple(dict.fromkeys(on)),
        window=fields.get("window", duration, default.window),
        retry_delays=fields.list("retry_delays", positive_duration, "a list of durations")
        if "retry_delays" in fields
        else default.retry_delays,
        wake=fields.get("wake", boolean, default.wake),
    )


def _read_targets(fields: Fields, channels: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """`targets: {channel: recipient}`; a target for a channel not listed is a mistake."""
    targets = []
    scope = fields.scope.at("targets")
    for channel, value, name_line, value_line in fields.pairs("targets", "a mapping"):
        if channel not in channels:
            scope.error(
                name_line,
                f"'{channel}' is not in alerts.channels: add it there, or remove this target",
            )
            continue
        if is_number(value):
            scope.at(channel).error(
                value_line,
                f'write the target in quotes, like "+15555550123": YAML reads {value}'
                " as a number, which loses a leading + or 0",
            )
            continue
        try:
            targets.append((channel, text(value)))
        except Invalid as err:
            scope.at(channel).error(value_line, str(err))
    return tuple(targets)


def _item_line(fields: Fields, key: str, index: int) -> int | None:
    items = fields.raw(key)
    lines = getattr(items, "item_lines", None)
    return lines[index] if lines else fields.value_line(key)


def _read_gateway(fields: Fields) -> GatewaySettings:
    default = GatewaySettings()
    return GatewaySettings(
        url=fields.get("url", _gateway_url, default.url),
        token=fields.get("token", optional(secret_text), None),
        hooks_token=fields.get("hooks_token", optional(secret_text), None),
    )


def _gateway_url(value: Any) -> str:
    """The gateway's base URL, without a trailing slash (paths are appended to it)."""
    if not isinstance(value, str):
        raise expected("a URL like http://127.0.0.1:18789", value)
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise expected("a URL like http://127.0.0.1:18789", value)
    try:
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError:
        raise expected("a URL with a port from 1 to 65535", value) from None
    if parts.query or parts.fragment:
        raise expected("a base URL without ?query or #fragment", value)
    return value.strip().rstrip("/")
