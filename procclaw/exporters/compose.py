"""`procclaw export compose`: one `compose.yaml` with a service per job.

Secrets are interpolations (`${API_TOKEN:?...}`) that Compose fills from the
environment of `docker compose up`, so the file names them and holds no value; a `$`
of the job's own is doubled, and its `${VAR}` stays an interpolation, which is what
ProcClaw makes of it too. Compose has no scheduler: a scheduled job is a service that
does not restart, to run with `docker compose run` from the host's cron.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from procclaw.config.models import LogConfig
from procclaw.exporters.export_plan import (
    ENV_VARIABLE,
    Export,
    JobConfig,
    argv,
    env_parts,
    file_check_command,
    first_delay,
    image_for,
    retry_delays,
    secret_names_of,
    warn_common,
    warn_unchecked,
    yaml_text,
)

_CHECKS = ("http", "file")  # the health checks a Compose healthcheck can run


def export(jobs: Sequence[JobConfig], image: str | None = None) -> Export:
    """`compose.yaml` with every job of `jobs` as a service."""
    result = Export()
    by_id = {job.id: job for job in jobs}
    services: dict[str, Any] = {}
    for job in jobs:
        services[job.id] = _service(job, image_for(job, image, "compose"), by_id, result)
    for job in jobs:  # `before_complete`: the other job waits for this one
        for dependency in job.depends_on:
            if dependency.condition == "before_complete" and dependency.job in services:
                waits = services[dependency.job].setdefault("depends_on", {})
                waits[job.id] = {"condition": "service_completed_successfully"}
                if not job.enabled:  # its profile is off unless asked for
                    waits[job.id]["required"] = False
    header = ["# compose.yaml: exported from jobs.yaml by `procclaw export compose`"]
    names = secret_names_of(jobs)
    if names:
        variables = ", ".join(_variable(name) for name in names)
        header.append(f"# Set these secrets in the environment of `docker compose`: {variables}")
    result.files["compose.yaml"] = "\n".join(header) + "\n" + yaml_text({"services": services})
    return result


def _service(
    job: JobConfig, image: str, by_id: dict[str, JobConfig], result: Export
) -> dict[str, Any]:
    warn_common(result, job)
    service: dict[str, Any] = {"image": image, "command": [_literal(word) for word in argv(job)]}
    if job.cwd:
        service["working_dir"] = _literal(job.cwd)
    if job.env:
        service["environment"] = {name: _env_value(value) for name, value in job.env}
    service["restart"] = _restart(job, result)
    healthcheck = _healthcheck(job, result)
    if healthcheck:
        service["healthcheck"] = healthcheck
    depends_on = _depends_on(job, by_id, result)
    if depends_on:
        service["depends_on"] = depends_on
    service["stop_signal"] = job.shutdown.signal
    service["stop_grace_period"] = _duration(job.shutdown.grace_period)
    service.update(_limits(job))
    if job.tags:
        service["labels"] = {"procclaw.tags": ",".join(job.tags)}
    if not job.enabled:
        service["profiles"] = ["disabled"]  # started only when asked for by name
    if job.max_runtime is not None:
        result.warn(job, "max_runtime", "Compose runs a service without a time limit")
    if job.log != LogConfig():
        result.warn(job, "log", "Docker's logging driver rotates the output by its own rules")
    return service


def _restart(job: JobConfig, result: Export) -> str:
    if job.type == "scheduled":
        result.warn(
            job,
            "schedule",
            "Compose has no scheduler (nor on_overlap or catchup): "
            f"run `docker compose run --rm {job.id}` from cron at {job.schedule!r}",
        )
    if job.type != "continuous" or job.restart == "never" or job.retry.kind == "none":
        return "no"
    if len(set(retry_delays(job.retry))) > 1 or first_delay(job.retry) > 0:
        result.warn(job, "retry delays", "Docker restarts after its own back-off from 100 ms")
    if job.restart == "always":
        return "always"
    attempts = job.retry.max_attempts
    return f"on-failure:{attempts}" if attempts else "on-failure"


def _healthcheck(job: JobConfig, result: Export) -> dict[str, Any] | None:
    check = job.health_check
    warn_unchecked(result, job, "Compose", _CHECKS)
    if check.type == "http":
        test = ["CMD", "curl", "-fsS", "-o", "/dev/null", _literal(str(check.url))]
    elif check.type == "file":
        test = ["CMD-SHELL", _literal(file_check_command(check))]
    else:
        return None
    return {
        "test": test,
        "interval": _duration(check.interval),
        "timeout": _duration(check.timeout),
        "retries": check.retries,
        "start_period": _duration(check.start_period),
    }


def _depends_on(job: JobConfig, by_id: dict[str, JobConfig], result: Export) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for dependency in job.depends_on:
        if dependency.condition == "before_complete":
            continue  # written in the other job's service
        if dependency.condition == "after_complete":
            condition = "service_completed_successfully"
        else:
            other = by_id.get(dependency.job)
            checked = other is not None and other.health_check.type in _CHECKS
            condition = "service_healthy" if checked else "service_started"
        found[dependency.job] = {"condition": condition}
    if job.depends_on:
        result.warn(job, "depends_on timeout", "Compose waits for a dependency without a limit")
    if job.depends_on and job.on_dependency_failure == "stop":
        result.warn(
            job,
            "on_dependency_failure: stop",
            "Compose leaves a service running when its dependency fails",
        )
    return found


def _limits(job: JobConfig) -> dict[str, Any]:
    limits = job.limits
    found: dict[str, Any] = {}
    if limits.memory is not None:
        mib, rest = divmod(limits.memory, 1024**2)
        found["mem_limit"] = f"{mib}m" if rest == 0 else str(limits.memory)
    if limits.cpu is not None:
        found["cpus"] = round(limits.cpu / 100, 2)
    ulimits = {}
    for key in ("nofile", "nproc", "core"):
        value = getattr(limits, key)
        if value is not None:
            ulimits[key] = -1 if value == "unlimited" else value
    if ulimits:
        found["ulimits"] = ulimits
    return found


def _variable(secret: str) -> str:
    """The environment variable a secret is read from: its name, with '_' for '-' and '.'."""
    return re.sub(r"[^A-Za-z0-9_]", "_", secret)


def _env_value(value: str) -> str:
    text = ""
    for part, secret in env_parts(value):
        if secret:
            variable = _variable(part)
            text += f"${{{variable}:?set the secret {variable}}}"
        else:
            pieces = re.split(f"({ENV_VARIABLE.pattern})", part)  # each ${VAR} stays one
            text += "".join(p if ENV_VARIABLE.fullmatch(p) else _literal(p) for p in pieces)
    return text


def _literal(text: str) -> str:
    """`text` as Compose reads it without interpolating: each `$` doubled."""
    return text.replace("$", "$$")


def _duration(value: float) -> str:
    return f"{value:g}s"
