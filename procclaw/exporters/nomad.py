"""`procclaw export nomad`: a Nomad job spec per job, `<job>.nomad.json`.

JSON, not HCL: it is the job as Nomad's HTTP API and `nomad job run -json` take it,
so it is written with the json module and checked against a schema of the documented
job structure without a Nomad binary; `nomad job run -json api.nomad.json` runs it.
Durations are nanoseconds, as that format wants.

A continuous job is of type `service`, a manual one `batch`, a scheduled one `batch`
with a `periodic` cron launch. The task runs in Docker with an image (--image or
`export.image`), else with `raw_exec` on the client as the job's command. Secrets come
from the Nomad Variable `nomad/jobs/<job>` through a template; only names are written.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import Any

from procclaw.exporters.export_plan import (
    Export,
    JobConfig,
    argv,
    env_parts,
    file_check_command,
    has_secret,
    http_target,
    retry_delays,
    warn_common,
    warn_expansions,
    warn_unchecked,
)

SECOND = 1_000_000_000  # Nomad's JSON durations are nanoseconds
_CHECKS = ("http", "file")


def export(jobs: Sequence[JobConfig], image: str | None = None) -> Export:
    """A job spec per job; each runs in `image` or its own `export.image` when it has one."""
    result = Export()
    for job in jobs:
        warn_common(result, job)
        warn_expansions(result, job, "Nomad")
        spec = _job(job, image or job.export.image, result)
        result.files[f"{job.id}.nomad.json"] = json.dumps({"Job": spec}, indent=2) + "\n"
    return result


def _job(job: JobConfig, image: str | None, result: Export) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "ID": job.id,
        "Name": job.name,
        "Type": "service" if job.type == "continuous" else "batch",
        "Datacenters": ["*"],
    }
    if job.tags:
        spec["Meta"] = {"procclaw_tags": ",".join(job.tags)}
    if job.type == "scheduled":
        spec["Periodic"] = _periodic(job, result)
    if job.depends_on:
        others = ", ".join(dependency.job for dependency in job.depends_on)
        result.warn(job, "depends_on", f"Nomad does not order jobs ({others})")
    if job.max_runtime is not None:
        result.warn(job, "max_runtime", "a Nomad task runs without a time limit")
    group: dict[str, Any] = {
        "Name": job.id,
        "Count": 1 if job.enabled or job.type != "continuous" else 0,
        "RestartPolicy": _restart(job, result),
        # ProcClaw gives up where the restarts end: so does Nomad, rather than move it.
        "ReschedulePolicy": {"Attempts": 0, "Unlimited": False},
    }
    service = _service(job, result)
    if service is not None:
        group["Services"] = [service]
    if job.health_check.type == "http":
        port = http_target(str(job.health_check.url)).port
        group["Networks"] = [{"ReservedPorts": [{"Label": "health", "Value": port}]}]
    group["Tasks"] = [_task(job, image, result)]
    spec["TaskGroups"] = [group]
    return spec


def _periodic(job: JobConfig, result: Export) -> dict[str, Any]:
    fields = str(job.schedule).split()
    if len(fields) == 6:  # ours has seconds last; Nomad's seven fields, seconds first
        fields = [fields[5], *fields[:5], "*"]
    periodic: dict[str, Any] = {
        "Enabled": job.enabled,
        "SpecType": "cron",
        "Spec": " ".join(fields),
        "ProhibitOverlap": job.on_overlap != "kill_restart",
    }
    if job.timezone:
        periodic["TimeZone"] = job.timezone
    if job.on_overlap != "skip":
        result.warn(
            job,
            f"on_overlap: {job.on_overlap}",
            "Nomad either skips a launch while one runs or lets them overlap",
        )
    if job.catchup == "once":
        result.warn(job, "catchup: once", "Nomad does not run a launch it missed")
    return periodic


def _restart(job: JobConfig, result: Export) -> dict[str, Any]:
    """Restarts in place on the same client, as ours are."""
    if job.type != "continuous" or job.restart == "never" or job.retry.kind == "none":
        return {"Attempts": 0, "Mode": "fail"}
    if job.restart == "on-failure":
        result.warn(job, "restart: on-failure", "Nomad restarts a service task after any exit")
    delays = retry_delays(job.retry) or [0.0]
    if job.retry.jitter:
        result.warn(job, "retry.jitter", "Nomad restarts without jitter")
    if len(set(delays)) > 1:
        result.warn(
            job, "retry delays", f"Nomad waits the same delay before each restart: {delays[0]:g}s"
        )
    attempts = job.retry.max_attempts
    window = sum(delays) + (attempts or len(delays)) * (job.retry.reset_after + 1)
    return {
        "Attempts": attempts if attempts is not None else 1_000_000,
        "Interval": round(window * SECOND),
        "Delay": round(delays[0] * SECOND),
        "Mode": "fail" if attempts is not None else "delay",
    }


def _service(job: JobConfig, result: Export) -> dict[str, Any] | None:
    check = job.health_check
    warn_unchecked(result, job, "Nomad", _CHECKS)
    timing = {"Interval": round(check.interval * SECOND), "Timeout": round(check.timeout * SECOND)}
    if check.type == "http":
        path = http_target(str(check.url)).path
        found = {"Name": "health", "Type": "http", "Path": path, "PortLabel": "health", **timing}
        provider = "nomad"
    elif check.type == "file":  # a script check needs Consul
        command = ["-c", file_check_command(check)]
        found = {"Name": "health", "Type": "script", "Command": "/bin/sh", "Args": command}
        found = {**found, "TaskName": job.id, **timing}
        provider = "consul"
    else:
        return None
    found["CheckRestart"] = {"Limit": check.retries, "Grace": round(check.start_period * SECOND)}
    return {"Name": job.id.replace("_", "-"), "Provider": provider, "Checks": [found]}


def _task(job: JobConfig, image: str | None, result: Export) -> dict[str, Any]:
    words = argv(job)
    if image is not None:
        config: dict[str, Any] = {"image": image, "command": words[0], "args": words[1:]}
        if job.cwd:
            config["work_dir"] = job.cwd
        driver = "docker"
    else:
        if job.cwd:  # raw_exec starts in the task's directory: change to ours first
            words = ["/bin/sh", "-c", f'cd {shlex.quote(job.cwd)} && exec "$@"', "sh", *words]
        config, driver = {"command": words[0], "args": words[1:]}, "raw_exec"
    task: dict[str, Any] = {"Name": job.id, "Driver": driver, "Config": config}
    plain = {name: value for name, value in job.env if not has_secret(value)}
    if plain:
        task["Env"] = plain
    secret = [(name, value) for name, value in job.env if has_secret(value)]
    if secret:
        task["Templates"] = [_secrets_template(job, secret)]
    task["KillSignal"] = job.shutdown.signal
    task["KillTimeout"] = round(job.shutdown.grace_period * SECOND)
    task["LogConfig"] = {
        "MaxFiles": max(1, job.log.backups),
        "MaxFileSizeMB": max(1, job.log.max_bytes // 1024**2),
    }
    resources = _resources(job, result)
    if resources:
        task["Resources"] = resources
    return task


def _secrets_template(job: JobConfig, secret: list[tuple[str, str]]) -> dict[str, Any]:
    lines = []
    for name, value in secret:
        text = "".join(
            f'{{{{ index . "{part}" }}}}' if is_secret else part
            for part, is_secret in env_parts(value)
        )
        lines.append(f"{name}={text}")
    body = "\n".join(lines)
    return {
        "EmbeddedTmpl": f'{{{{ with nomadVar "nomad/jobs/{job.id}" }}}}\n{body}\n{{{{ end }}}}\n',
        "DestPath": "secrets/procclaw.env",
        "Envvars": True,
        "ChangeMode": "restart",
    }


def _resources(job: JobConfig, result: Export) -> dict[str, Any]:
    limits = job.limits
    found = {}
    if limits.memory is not None:
        found["MemoryMB"] = max(1, limits.memory // 1024**2)
    if limits.cpu is not None:
        result.warn(job, "limits.cpu", "Nomad reserves CPU in MHz, not as a share of a core")
    for key in ("nofile", "nproc", "core"):
        if getattr(limits, key) is not None:
            result.warn(job, f"limits.{key}", "a Nomad task's rlimits come from its driver")
    return found
