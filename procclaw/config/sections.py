"""Readers for the sections that both `defaults:` and a job may hold: retry, shutdown,
health_check and log (and limits, in procclaw/config/limits.py).

Each reader starts from a base (the defaults, or the built-in defaults when reading
`defaults:` itself) and lets the keys given override it one by one, so the merge
rules live here once for both files.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Any

from procclaw.config.fields import Fields
from procclaw.config.models import (
    HEALTH_CHECK_TYPES,
    OUTPUT_STREAMS,
    RETRY_PRESETS,
    HealthCheckConfig,
    LogConfig,
    RetryConfig,
    ShutdownConfig,
)
from procclaw.config.values import (
    Invalid,
    Reader,
    T,
    boolean,
    choice,
    duration,
    expected,
    integer,
    log_size,
    number,
    optional,
    positive_duration,
    signal_name,
    string,
    text,
)

RETRY_KEYS = (
    "preset",
    "delays",
    "delay",
    "initial",
    "factor",
    "max_delay",
    "jitter",
    "max_attempts",
    "reset_after",
)
_RETRY_KEYS_BY_KIND = {
    "delays": {"delays", "jitter", "max_attempts", "reset_after"},
    "fixed": {"delay", "jitter", "max_attempts", "reset_after"},
    "exponential": {"initial", "factor", "max_delay", "jitter", "max_attempts", "reset_after"},
    "none": set(),
}
_PRESET_OF_KEY = {
    "delay": "fixed",
    "initial": "exponential",
    "factor": "exponential",
    "max_delay": "exponential",
}
_PRESETS = {
    "webhook": RetryConfig(),
    "fixed": RetryConfig(kind="fixed", delays=(), max_attempts=None),
    "exponential": RetryConfig(kind="exponential", delays=(), jitter=0.1, max_attempts=None),
    "none": RetryConfig(kind="none", delays=(), max_attempts=0),
}
_CUSTOM_DELAYS = RetryConfig(kind="delays", delays=(), max_attempts=None)
_FACTOR = number("a number above 1 and at most 100", lambda value: 1 < value <= 100)
_JITTER = number("a fraction from 0 to 1", lambda value: 0 <= value <= 1)

SHUTDOWN_KEYS = ("grace_period", "signal")
LOG_KEYS = ("max_bytes", "backups", "timestamps")
HEALTH_CHECK_KEYS = (
    "type",
    "interval",
    "timeout",
    "retries",
    "start_period",
    "url",
    "expected_status",
    "expected_body",
    "path",
    "max_age",
    "pattern",
    "stream",
)
_HEALTH_CHECK_TYPES_OF_KEY = {
    "url": ("http",),
    "expected_status": ("http",),
    "expected_body": ("http",),
    "path": ("file",),
    "max_age": ("file", "output"),
    "pattern": ("output",),
    "stream": ("output",),
}


def read_retry(parent: Fields, base: RetryConfig) -> RetryConfig:
    """`retry:` over `base`; a preset or a delays list replaces `base` instead."""
    fields = parent.nested("retry", RETRY_KEYS)
    preset = fields.get("preset", choice(RETRY_PRESETS), None)
    if "preset" in fields and preset is None:
        return base  # the bad preset is reported; guessing the rest would only add noise
    if preset is not None and "delays" in fields:
        fields.reject("delays", "cannot be combined with preset: give one or the other")
        return _PRESETS[preset]
    if preset is not None:
        start = _PRESETS[preset]
    elif "delays" in fields:
        start = _CUSTOM_DELAYS
    else:
        start = base
    allowed = _RETRY_KEYS_BY_KIND[start.kind]
    for key in fields.given():
        if key == "preset" or key in allowed:
            continue
        if key in _PRESET_OF_KEY:
            fields.reject(key, f"is only used by preset: {_PRESET_OF_KEY[key]}")
        else:
            fields.reject(key, f"is not used by preset: {preset or start.kind}")

    def take(key: str, read: Reader[T], default: T) -> T:
        return fields.get(key, read, default) if key in allowed else default

    delays = start.delays
    max_attempts = start.max_attempts
    if start is _CUSTOM_DELAYS:
        delays = _read_delays(fields)
        max_attempts = len(delays)  # after the last delay, give up
    return RetryConfig(
        kind=start.kind,
        delays=delays,
        delay=take("delay", duration, start.delay),
        initial=take("initial", positive_duration, start.initial),
        factor=take("factor", _FACTOR, start.factor),
        max_delay=take("max_delay", positive_duration, start.max_delay),
        jitter=take("jitter", _JITTER, start.jitter),
        max_attempts=take("max_attempts", optional(integer(1, 1_000_000)), max_attempts),
        reset_after=take("reset_after", duration, start.reset_after),
    )


def _read_delays(fields: Fields) -> tuple[float, ...]:
    raw = fields.raw("delays")
    if raw is None or raw == []:
        fields.reject("delays", "must list at least one delay")
        return ()
    return fields.list("delays", duration, "a list of durations like [0, 30, '5m']")


def read_shutdown(parent: Fields, base: ShutdownConfig) -> ShutdownConfig:
    fields = parent.nested("shutdown", SHUTDOWN_KEYS)
    return ShutdownConfig(
        grace_period=fields.get("grace_period", duration, base.grace_period),
        signal=fields.get("signal", signal_name, base.signal),
    )


def read_log(parent: Fields, base: LogConfig) -> LogConfig:
    fields = parent.nested("log", LOG_KEYS)
    return LogConfig(
        max_bytes=fields.get("max_bytes", log_size, base.max_bytes),
        backups=fields.get("backups", integer(0, 100), base.backups),
        timestamps=fields.get("timestamps", boolean, base.timestamps),
    )


def read_health_check(
    parent: Fields, base: HealthCheckConfig, *, in_defaults: bool = False
) -> HealthCheckConfig:
    """`health_check:` over `base`; only the type and the type-independent keys inherit.

    In `defaults:` the type-specific keys are refused: a URL or a heartbeat file
    belongs to one job.
    """
    fields = parent.nested("health_check", HEALTH_CHECK_KEYS)
    kind = fields.get("type", choice(HEALTH_CHECK_TYPES), None)
    type_is_known = kind is not None or "type" not in fields
    kind = kind or base.type
    for key in fields.given():
        owners = _HEALTH_CHECK_TYPES_OF_KEY.get(key)
        if owners is None:
            continue
        if in_defaults:
            fields.reject(key, "cannot be a default: set it in each job's health_check")
        elif type_is_known and kind not in owners:
            fields.reject(key, f"is only used by type: {' or '.join(owners)}")
    common = HealthCheckConfig(
        type=kind,
        interval=fields.get("interval", positive_duration, base.interval),
        timeout=fields.get("timeout", positive_duration, base.timeout),
        retries=fields.get("retries", integer(1, 1000), base.retries),
        start_period=fields.get("start_period", duration, base.start_period),
    )
    if in_defaults or not type_is_known or kind in ("process", "watchdog"):
        return common
    condition = f" for type: {kind}"
    if kind == "http":
        return replace(
            common,
            url=fields.require("url", _http_url, condition),
            expected_status=fields.get("expected_status", integer(100, 599), 200),
            expected_body=fields.get("expected_body", optional(string), None),
        )
    if kind == "output":
        return replace(
            common,
            pattern=fields.require("pattern", _regular_expression, condition),
            max_age=fields.require("max_age", positive_duration, condition),
            stream=fields.get("stream", choice(OUTPUT_STREAMS), "stdout"),
        )
    path = fields.require("path", _absolute_path, condition)
    return replace(
        common,
        path=path,
        max_age=fields.require("max_age", positive_duration, condition),
    )


def _regular_expression(value: Any) -> str:
    """A Python regular expression, matched against each line's bytes."""
    pattern = string(value)
    try:
        re.compile(pattern.encode())
    except re.error as exc:
        raise Invalid(f"not a regular expression: {exc}") from None
    if not pattern:
        raise Invalid("an empty pattern matches every line: say what a heartbeat line says")
    return pattern


def _absolute_path(value: Any) -> str:
    """An absolute path, or one under ~: the check does not run in the job's cwd."""
    path = os.path.expanduser(text(value))
    if not os.path.isabs(path):
        raise Invalid(f"expected an absolute path (or ~/...), got {value!r}")
    return path


def _http_url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise expected("an http:// or https:// URL", value)
    return value
