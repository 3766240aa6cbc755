"""Read procclaw.yaml into `Settings`: the daemon, the API, the job defaults, OpenClaw."""

from __future__ import annotations

from typing import Any

from procclaw.config.fields import Fields
from procclaw.config.models import (
    LOG_LEVELS,
    ApiSettings,
    AuthSettings,
    DaemonSettings,
    Defaults,
    HealthCheckConfig,
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
DAEMON_KEYS = ("host", "port", "log_level")
DEFAULTS_KEYS = ("retry", "shutdown", "health_check", "log", "timezone")


def settings_scope(log: ProblemLog, path: tuple[PathSegment, ...] = ()) -> Scope:
    """Settings problems name the key path in `where`: `daemon.port: ...`."""
    return Scope(log, "", path)


def read_settings(root: Any, log: ProblemLog) -> Settings:
    """The settings in `root` (the parsed file, None when empty), reporting into `log`."""
    top = Fields(settings_scope(log), root, 1, SETTINGS_KEYS)
    return Settings(
        daemon=_read_daemon(top.nested("daemon", DAEMON_KEYS)),
        api=ApiSettings(auth=_read_auth(top.nested("api", ("auth",)))),
        defaults=_read_defaults(top.nested("defaults", DEFAULTS_KEYS)),
        openclaw=read_openclaw(top.nested("openclaw", OPENCLAW_KEYS)),
    )


def _read_daemon(fields: Fields) -> DaemonSettings:
    default = DaemonSettings()
    return DaemonSettings(
        host=fields.get("host", text, default.host),
        port=fields.get("port", integer(1, 65535), default.port),
        log_level=fields.get("log_level", choice(LOG_LEVELS, ignore_case=True), default.log_level),
    )


def _read_auth(api: Fields) -> AuthSettings:
    fields = api.nested("auth", ("enabled", "token"))
    enabled = fields.get("enabled", boolean, False)
    token = fields.get("token", optional(secret_text), None)
    if enabled and fields.raw("token") is None:
        fields.scope.sentence(
            fields.key_line("enabled"), "api.auth.enabled is true but no api.auth.token is set"
        )
    return AuthSettings(enabled=enabled, token=token)


def _read_defaults(fields: Fields) -> Defaults:
    return Defaults(
        retry=read_retry(fields, RetryConfig()),
        shutdown=read_shutdown(fields, ShutdownConfig()),
        health_check=read_health_check(fields, HealthCheckConfig(), in_defaults=True),
        log=read_log(fields, LogConfig()),
        timezone=fields.get("timezone", optional(time_zone), None),
    )
