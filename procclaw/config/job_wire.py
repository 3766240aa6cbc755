"""A JobConfig as plain data for the wire (msgpack) and back, with no pickle.

`job_to_wire` is `JobConfig.to_dict()`; `job_from_wire` rebuilds the frozen model from
it, nested sections included. The data was validated when the config was loaded, so
this only restores shapes (lists to tuples, maps to models); a key it does not know
is an error rather than silently dropped, since it means the two sides disagree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any

from procclaw.config.models import (
    Dependency,
    ExportConfig,
    HealthCheckConfig,
    JobAlerts,
    JobConfig,
    LimitsConfig,
    LogConfig,
    RetryConfig,
    ShutdownConfig,
)

_SECTIONS = {
    "health_check": HealthCheckConfig,
    "retry": RetryConfig,
    "shutdown": ShutdownConfig,
    "log": LogConfig,
    "limits": LimitsConfig,
    "export": ExportConfig,
}
_TUPLES = ("tags",)
# The keys of a job's config on the wire.
JOB_CONFIG_KEYS = frozenset(item.name for item in fields(JobConfig))


class WireError(ValueError):
    """Data that is not a job's config as `job_to_wire` writes it."""


def job_to_wire(job: JobConfig) -> dict[str, Any]:
    """The job's config as plain data; kept per config (a frozen model), since every
    start of a job sends it. Not to be changed by whoever gets it."""
    return _wire(job, job.alerts)


@functools.lru_cache(maxsize=4096)
def _wire(job: JobConfig, _alerts: JobAlerts | None) -> dict[str, Any]:
    # A job's alerts are not part of its equality (a change of them restarts nothing),
    # so they are part of the key: a job that differs in them alone gets its own data.
    return job.to_dict()


def job_from_wire(data: Any) -> JobConfig:
    if not isinstance(data, dict):
        raise WireError("a job's config must be a map")
    unknown = set(data) - JOB_CONFIG_KEYS
    if unknown:
        raise WireError(f"unknown job config keys: {', '.join(sorted(unknown))}")
    values = dict(data)
    try:
        for key, model in _SECTIONS.items():
            if key in values:
                values[key] = _section(model, values[key])
        if isinstance(values.get("cmd"), list):
            values["cmd"] = tuple(values["cmd"])
        if "env" in values:
            values["env"] = tuple((str(k), str(v)) for k, v in dict(values["env"]).items())
        if values.get("alerts") is not None:
            values["alerts"] = _alerts(values["alerts"])
        if "depends_on" in values:
            values["depends_on"] = tuple(Dependency(**dep) for dep in values["depends_on"])
        for key in _TUPLES:
            if key in values:
                values[key] = tuple(values[key])
        return JobConfig(**values)
    except (TypeError, ValueError) as exc:
        raise WireError(f"malformed job config: {exc}") from None


@dataclass(frozen=True, slots=True)
class AlertedJob:
    """What judging a job's events for alerts takes of its config (the alerter keeps
    this much of each job, not the whole config)."""

    type: str
    restart: str
    alerts: JobAlerts | None

    PARTS = ("type", "restart", "alerts")  # the config keys it is made of

    @classmethod
    def from_wire(cls, data: Any) -> AlertedJob:
        """From a job's config, or those keys of it, as `job_to_wire` writes them."""
        try:
            alerts = data.get("alerts")
            alerts = None if alerts is None else _alerts(alerts)
            return cls(str(data["type"]), str(data["restart"]), alerts)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise WireError(f"malformed job config: {exc!r}") from None


def _alerts(data: Any) -> JobAlerts:
    values = dict(data)
    return JobAlerts(
        on=None if values.get("on") is None else tuple(values["on"]),
        channels=None if values.get("channels") is None else tuple(values["channels"]),
        targets=tuple((str(k), str(v)) for k, v in dict(values.get("targets") or {}).items()),
    )


def _section(model: type, data: Any) -> Any:
    values = dict(data)
    if model is RetryConfig and "delays" in values:
        values["delays"] = tuple(values["delays"])
    return model(**values)
