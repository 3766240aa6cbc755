"""Read the `openclaw:` section of procclaw.yaml: alerts, memory logging, the gateway.

The alert keys a job may also give (`on`, `channels`, `targets`) are read by
procclaw/config/alert_fields.py, the same way here and in jobs.yaml.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from procclaw.config.alert_fields import (
    NOT_IN_CHANNELS,
    read_channels,
    read_events,
    read_targets,
    report_untargeted,
)
from procclaw.config.fields import Fields
from procclaw.config.models import AlertSettings, GatewaySettings, OpenClawSettings
from procclaw.config.values import (
    boolean,
    duration,
    expected,
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
    channels = read_channels(fields) or ()
    targets = read_targets(fields, channels, NOT_IN_CHANNELS)
    report_untargeted(fields)
    on = read_events(fields)
    return AlertSettings(
        enabled=fields.get("enabled", boolean, default.enabled),
        channels=channels,
        targets=targets,
        on=default.on if on is None else on,
        window=fields.get("window", duration, default.window),
        retry_delays=fields.list("retry_delays", positive_duration, "a list of durations")
        if "retry_delays" in fields
        else default.retry_delays,
        wake=fields.get("wake", boolean, default.wake),
    )


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
