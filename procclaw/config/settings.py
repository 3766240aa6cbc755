"""Read procclaw.yaml into `Settings`: the daemon, the API, the job defaults, OpenClaw."""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from procclaw.config.export_settings import read_export
from procclaw.config.fields import Fields
from procclaw.config.limits import read_limits
from procclaw.config.models import (
    LOG_LEVELS,
    ApiSettings,
    AuthSettings,
    DaemonSettings,
    Defaults,
    ExportConfig,
    HealthCheckConfig,
    LimitsConfig,
    LogConfig,
    RetryConfig,
    Settings,
    ShutdownConfig,
)
from procclaw.config.openclaw_settings import OPENCLAW_KEYS, read_openclaw
from procclaw.config.problems import PathSegment, ProblemLog, Scope
from procclaw.config.sections import read_health_check, read_log, read_retry, read_shutdown
from procclaw.config.timing import time_zone
from procclaw.config.values import boolean, choice, integer, optional, secret_text, text

SETTINGS_KEYS = ("daemon", "api", "defaults", "openclaw")
DAEMON_KEYS = ("host", "port", "log_level", "supervisors")
DEFAULTS_KEYS = ("retry", "shutdown", "health_check", "log", "limits", "timezone", "export")
AUTH_KEYS = ("enabled", "token", "token_file", "metrics")


def settings_scope(log: ProblemLog, path: tuple[PathSegment, ...] = ()) -> Scope:
    """Settings problems name the key path in `where`: `daemon.port: ...`."""
    return Scope(log, "", path)


def read_settings(root: Any, log: ProblemLog, cpu_refusal: str | None = None) -> Settings:
    """The settings in `root` (the parsed file, None when empty), reporting into `log`;
    `cpu_refusal` as in `read_limits`."""
    top = Fields(settings_scope(log), root, 1, SETTINGS_KEYS)
    daemon_fields = top.nested("daemon", DAEMON_KEYS)
    daemon = _read_daemon(daemon_fields)
    auth = _read_auth(top.nested("api", ("auth",)))
    if not auth.enabled and not is_loopback(daemon.host):
        daemon_fields.scope.sentence(
            daemon_fields.key_line("host"),
            f"daemon.host {daemon.host} is reachable from other machines: set"
            " api.auth.enabled: true with a token, or use 127.0.0.1",
        )
    return Settings(
        daemon=daemon,
        api=ApiSettings(auth=auth),
        defaults=_read_defaults(top.nested("defaults", DEFAULTS_KEYS), cpu_refusal),
        openclaw=read_openclaw(top.nested("openclaw", OPENCLAW_KEYS)),
    )


def _read_daemon(fields: Fields) -> DaemonSettings:
    default = DaemonSettings()
    return DaemonSettings(
        host=fields.get("host", text, default.host),
        port=fields.get("port", integer(1, 65535), default.port),
        log_level=fields.get("log_level", choice(LOG_LEVELS, ignore_case=True), default.log_level),
        supervisors=fields.get("supervisors", optional(integer(1, 64)), None),
    )


def _read_auth(api: Fields) -> AuthSettings:
    fields = api.nested("auth", AUTH_KEYS)
    enabled = fields.get("enabled", boolean, False)
    token = fields.get("token", optional(secret_text), None)
    token_file = fields.get("token_file", optional(text), None)
    if enabled and fields.raw("token") is None and fields.raw("token_file") is None:
        fields.scope.sentence(
            fields.key_line("enabled"),
            "api.auth.enabled is true but no api.auth.token or api.auth.token_file is set",
        )
    if token is not None and token_file is not None:
        fields.reject("token_file", "cannot be combined with api.auth.token: give one")
    return AuthSettings(
        enabled=enabled,
        token=token,
        token_file=None if token_file is None else os.path.expanduser(token_file),
        metrics=fields.get("metrics", boolean, True),
    )


def _read_defaults(fields: Fields, cpu_refusal: str | None) -> Defaults:
    return Defaults(
        retry=read_retry(fields, RetryConfig()),
        shutdown=read_shutdown(fields, ShutdownConfig()),
        health_check=read_health_check(fields, HealthCheckConfig(), in_defaults=True),
        log=read_log(fields, LogConfig()),
        limits=read_limits(fields, LimitsConfig(), cpu_refusal),
        timezone=fields.get("timezone", optional(time_zone), None),
        export=read_export(fields, ExportConfig()),
    )


def is_loopback(host: str) -> bool:
    """True when only this machine can reach `host`: localhost or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything
