"""`procclaw export kubernetes`: a manifest per job, `<job>.yaml`.

A continuous job is a Deployment with one replica (none when `enabled: false`), a
scheduled job a CronJob, a manual job a Job. Secrets are `secretKeyRef`s into one
Secret named `procclaw` (as the keyring's service is), keyed by the secret's name;
a value with a secret inside it (`Bearer ${secret:T}`) reads it through `$(VAR)`.
The image is --image or the job's `export.image`: a job without one is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from procclaw.config.models import LogConfig
from procclaw.exporters.export_plan import (
    Export,
    JobConfig,
    argv,
    env_parts,
    file_check_command,
    http_target,
    image_for,
    seconds,
    warn_common,
    warn_expansions,
    warn_unchecked,
    yaml_text,
)

SECRET_OBJECT = "procclaw"
_OVERLAP = {"skip": "Forbid", "queue": "Forbid", "kill_restart": "Replace"}
_NICKNAMES = {"@midnight": "@daily", "@annually": "@yearly"}


def export(jobs: Sequence[JobConfig], image: str | None = None) -> Export:
    """A manifest per job, each run in `image` or its own `export.image`."""
    result = Export()
    for job in jobs:
        container_image = image_for(job, image, "kubernetes")
        warn_common(result, job)
        warn_expansions(result, job, "Kubernetes")
        manifest = _manifest(job, _container(job, container_image, result), result)
        header = f"# {job.id}: exported from jobs.yaml by `procclaw export kubernetes`\n"
        result.files[f"{job.id}.yaml"] = header + yaml_text(manifest)
    return result


def resource_name(job_id: str) -> str:
    """The job id as a Kubernetes object name (lower case, '-' for '_')."""
    return re.sub(r"[^a-z0-9-]", "-", job_id.lower()).strip("-") or "job"


def _manifest(job: JobConfig, container: dict[str, Any], result: Export) -> dict[str, Any]:
    name = resource_name(job.id)
    labels = {"app.kubernetes.io/name": name}
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if job.tags:
        metadata["annotations"] = {"procclaw/tags": ",".join(job.tags)}
    pod: dict[str, Any] = {"terminationGracePeriodSeconds": seconds(job.shutdown.grace_period)}
    if job.depends_on:
        others = ", ".join(dependency.job for dependency in job.depends_on)
        result.warn(job, "depends_on", f"Kubernetes does not order workloads ({others})")
    if job.type == "continuous":
        return _deployment(job, metadata, labels, {**pod, "containers": [container]}, result)
    pod = {**pod, "restartPolicy": "Never", "containers": [container]}
    run: dict[str, Any] = {"backoffLimit": 0}
    if job.max_runtime is not None:
        run["activeDeadlineSeconds"] = seconds(job.max_runtime)
    run["template"] = {"metadata": {"labels": labels}, "spec": pod}
    if job.type == "manual":
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": run}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata,
        "spec": _cron_spec(job, run, result),
    }


def _deployment(
    job: JobConfig,
    metadata: dict[str, Any],
    labels: dict[str, str],
    pod: dict[str, Any],
    result: Export,
) -> dict[str, Any]:
    if job.restart != "always":
        result.warn(job, f"restart: {job.restart}", "a Deployment restarts its pod always")
    result.warn(job, "retry", "Kubernetes restarts with its own back-off (10 s up to 5 min)")
    if job.max_runtime is not None:
        result.warn(job, "max_runtime", "a Deployment's pod runs without a time limit")
    spec = {
        "replicas": 1 if job.enabled else 0,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": pod},
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def _cron_spec(job: JobConfig, run: dict[str, Any], result: Export) -> dict[str, Any]:
    schedule = _NICKNAMES.get(str(job.schedule), str(job.schedule))
    if len(schedule.split()) == 6:
        schedule = " ".join(schedule.split()[:5])
        result.warn(job, "schedule seconds", f"Kubernetes runs by the minute: {schedule!r}")
    spec: dict[str, Any] = {"schedule": schedule}
    if job.timezone:
        spec["timeZone"] = job.timezone
    spec["concurrencyPolicy"] = _OVERLAP[job.on_overlap]
    if job.on_overlap == "queue":
        result.warn(job, "on_overlap: queue", "a CronJob has no queue: it skips the run")
    if job.catchup == "skip":
        # Without a deadline the controller starts the latest missed run: catchup: once.
        spec["startingDeadlineSeconds"] = 60
    if not job.enabled:
        spec["suspend"] = True
    spec["jobTemplate"] = {"spec": run}
    return spec


def _container(job: JobConfig, image: str, result: Export) -> dict[str, Any]:
    container: dict[str, Any] = {"name": resource_name(job.id), "image": image}
    container["command"] = argv(job)
    if job.cwd:
        container["workingDir"] = job.cwd
    if job.env:
        container["env"] = _env(job)
    resources = _resources(job, result)
    if resources:
        container["resources"] = {"limits": resources}
    probe = _probe(job, result)
    if probe is not None:
        container["livenessProbe"] = probe
        container["readinessProbe"] = probe
    if job.shutdown.signal != "SIGTERM":
        result.warn(job, "shutdown.signal", "Kubernetes stops a container with SIGTERM")
    if job.log != LogConfig():
        result.warn(job, "log", "the node's kubelet rotates container logs by its own rules")
    return container


def _env(job: JobConfig) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for name, value in job.env:
        parts = env_parts(value)
        if len(parts) == 1 and parts[0][1]:
            entries.append({"name": name, "valueFrom": _secret_ref(parts[0][0])})
            continue
        text = ""
        for part, secret in parts:
            if secret:
                variable = "PROCCLAW_SECRET_" + re.sub(r"\W", "_", part)
                if all(entry["name"] != variable for entry in entries):
                    entries.append({"name": variable, "valueFrom": _secret_ref(part)})
                text += f"$({variable})"
            else:
                text += part.replace("$(", "$$(")
        entries.append({"name": name, "value": text})
    return entries


def _secret_ref(name: str) -> dict[str, Any]:
    return {"secretKeyRef": {"name": SECRET_OBJECT, "key": name}}


def _resources(job: JobConfig, result: Export) -> dict[str, str]:
    limits = job.limits
    found = {}
    if limits.memory is not None:
        mib, rest = divmod(limits.memory, 1024**2)
        found["memory"] = f"{mib}Mi" if rest == 0 else str(limits.memory)
    if limits.cpu is not None:
        found["cpu"] = f"{round(limits.cpu * 10)}m"
    for key in ("nofile", "nproc", "core"):
        if getattr(limits, key) is not None:
            result.warn(job, f"limits.{key}", "a pod's rlimits come from its container runtime")
    return found


def _probe(job: JobConfig, result: Export) -> dict[str, Any] | None:
    check = job.health_check
    warn_unchecked(result, job, "Kubernetes", ("http", "file"))
    if check.type == "http":
        where = http_target(str(check.url))
        if not 200 <= check.expected_status < 400:
            result.warn(job, "health_check.expected_status", "a probe passes on 200 to 399")
        action: dict[str, Any] = {
            "httpGet": {"path": where.path, "port": where.port, "scheme": where.scheme.upper()}
        }
    elif check.type == "file":
        action = {"exec": {"command": ["/bin/sh", "-c", file_check_command(check)]}}
    else:
        return None
    return {
        **action,
        "initialDelaySeconds": round(check.start_period),
        "periodSeconds": seconds(check.interval),
        "timeoutSeconds": seconds(check.timeout),
        "failureThreshold": check.retries,
    }
