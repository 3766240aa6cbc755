"""What every export target shares: choosing the jobs, the warnings, and the secrets.

A target module has one function, `export(jobs, image) -> Export`. It never reads a
secret: a `${secret:NAME}` in a job's env is split out here into the name, and each
target writes a reference to it in its own words (an EnvironmentFile, a secretKeyRef,
a template, an interpolation). So no export can carry a value, whatever the keyring holds.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from procclaw.config.models import Config, HealthCheckConfig, JobConfig, RetryConfig
from procclaw.job_tags import UnknownTag, tagged
from procclaw.suggest import did_you_mean

TARGETS = ("systemd", "kubernetes", "nomad", "compose")
_SECRET = re.compile(r"\$\{secret:([^}]*)\}")
# `${VAR}` in a job's env, filled from ProcClaw's own environment at spawn.
ENV_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


class ExportRefused(Exception):
    """The export cannot be made (an unknown job, no image, --strict with warnings)."""


@dataclass(frozen=True, slots=True)
class ExportWarning:
    """A feature of a job that the target cannot express, and what happens instead."""

    job: str
    feature: str
    why: str

    def __str__(self) -> str:
        return f"job '{self.job}': {self.feature}: {self.why}"


@dataclass
class Export:
    """The files of one target (name -> text, in order) and what they leave out."""

    files: dict[str, str] = field(default_factory=dict)
    warnings: list[ExportWarning] = field(default_factory=list)

    def warn(self, job: JobConfig, feature: str, why: str) -> None:
        self.warnings.append(ExportWarning(job.id, feature, why))


def select_jobs(config: Config, job_ids: Sequence[str], tags: Sequence[str]) -> list[JobConfig]:
    """The jobs named or tagged, in config order; every job when neither is given."""
    if not job_ids and not tags:
        return list(config.jobs)
    for job_id in job_ids:
        if config.job(job_id) is None:
            raise ExportRefused(f"no job '{job_id}'{did_you_mean(job_id, config.job_ids)}")
    summaries = [{"id": job.id, "tags": job.tags} for job in config.jobs]
    try:
        chosen = set(job_ids) | set(tagged(summaries, tags) if tags else ())
    except UnknownTag as err:
        raise ExportRefused(str(err)) from None
    return [job for job in config.jobs if job.id in chosen]


def image_for(job: JobConfig, image: str | None, target: str) -> str:
    """The container image the job runs in: --image, else its `export.image`."""
    found = image or job.export.image
    if found is None:
        raise ExportRefused(
            f"job '{job.id}' has no container image for {target}: "
            "give --image, or set export.image in the job (or in defaults)"
        )
    return found


def env_parts(value: str) -> list[tuple[str, bool]]:
    """`value` as pieces (text, is_secret_name): 'Bearer ${secret:T}' is
    [('Bearer ', False), ('T', True)]."""
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _SECRET.finditer(value):
        if match.start() > position:
            parts.append((value[position : match.start()], False))
        parts.append((match.group(1), True))
        position = match.end()
    if position < len(value) or not parts:
        parts.append((value[position:], False))
    return parts


def has_secret(value: str) -> bool:
    return any(is_secret for _, is_secret in env_parts(value))


def secret_names_of(jobs: Iterable[JobConfig]) -> list[str]:
    """Every secret the jobs' env refers to, each once, in order."""
    names = (
        name for job in jobs for _, value in job.env for name, secret in env_parts(value) if secret
    )
    return list(dict.fromkeys(names))


def argv(job: JobConfig) -> list[str]:
    """The job's command as an argument list, `/bin/sh -c` for `shell: true`."""
    if job.shell:
        return ["/bin/sh", "-c", str(job.cmd)]
    return list(job.cmd) if isinstance(job.cmd, tuple) else shlex.split(job.cmd)


def retry_delays(retry: RetryConfig) -> list[float]:
    """The first few waits before a restart, as the policy gives them (no jitter)."""
    if retry.kind == "fixed":
        return [retry.delay]
    if retry.kind == "exponential":
        return [min(retry.initial * retry.factor**n, retry.max_delay) for n in range(5)]
    return list(retry.delays)


def first_delay(retry: RetryConfig) -> float:
    delays = retry_delays(retry)
    return delays[0] if delays else 0.0


def seconds(value: float) -> int:
    """Whole seconds, at least 1 where a target takes no fraction."""
    return max(1, round(value))


def warn_common(result: Export, job: JobConfig) -> None:
    """What no target carries: ProcClaw's own alerts."""
    if job.alerts is not None:
        result.warn(job, "alerts", "ProcClaw's alerts do not travel; use the target's own")


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """Where an http health check asks: the parts a probe or a check is built from."""

    scheme: str
    port: int
    path: str


def http_target(url: str) -> HttpTarget:
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return HttpTarget(scheme, port, path)


def file_check_command(check: HealthCheckConfig) -> str:
    """A shell test that the check's file was modified within its max_age, for targets
    that run a command as a check."""
    path = shlex.quote(str(check.path))
    age = seconds(check.max_age or check.interval)
    return f"test $(( $(date +%s) - $(stat -c %Y {path}) )) -le {age}"


def warn_expansions(result: Export, job: JobConfig, target: str) -> None:
    """A `${VAR}` in env, which ProcClaw fills from its own environment: `target` would
    pass it on as written."""
    for name, value in job.env:
        if ENV_VARIABLE.search(value):
            why = f"{target} passes ${{VAR}} on as written; ProcClaw fills it in"
            result.warn(job, f"env {name}", why)


def warn_unchecked(result: Export, job: JobConfig, target: str, checks: Sequence[str]) -> None:
    """A health check type the target has no way to run, and readiness by sd_notify."""
    check = job.health_check
    if check.type not in ("process", *checks):
        result.warn(job, f"health_check ({check.type})", f"{target} has no such check")
    if check.type == "http" and check.expected_body is not None:
        result.warn(job, "health_check.expected_body", f"{target} checks the status alone")
    if job.ready == "notify":
        result.warn(job, "ready: notify", f"{target} has no sd_notify readiness")


def yaml_text(data: Any) -> str:
    """`data` as block YAML in the order given, each value written out where it is used
    (no anchors and aliases, which some readers of these files do not take)."""
    import yaml

    class _Plain(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(data, Dumper=_Plain, sort_keys=False, allow_unicode=True, width=100)
