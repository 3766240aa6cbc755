"""Read jobs.yaml into `JobConfig`s, applying the defaults from procclaw.yaml.

Job ids become event topic names and log file names, so they are restricted to
letters, digits, '-' and '_'. Checks that span jobs (dependency cycles) live in
`procclaw.config.dependencies`.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from procclaw.config.export_settings import read_export
from procclaw.config.fields import Fields
from procclaw.config.job_alerts import read_job_alerts
from procclaw.config.limits import read_limits
from procclaw.config.models import (
    CATCHUP_POLICIES,
    DEPENDENCY_CONDITIONS,
    DEPENDENCY_FAILURE_POLICIES,
    JOB_TYPES,
    OVERLAP_POLICIES,
    READY_PROTOCOLS,
    RESTART_POLICIES,
    AlertSettings,
    Defaults,
    Dependency,
    JobConfig,
)
from procclaw.config.problems import PathSegment, ProblemLog, Scope
from procclaw.config.sections import read_health_check, read_log, read_retry, read_shutdown
from procclaw.config.timing import cron_schedule, time_zone
from procclaw.config.values import (
    Invalid,
    boolean,
    choice,
    describe,
    expected,
    is_number,
    optional,
    positive_duration,
    text,
)
from procclaw.secrets.references import reference_problem, secret_names
from procclaw.suggest import did_you_mean

JOB_KEYS = (
    "name",
    "cmd",
    "cwd",
    "type",
    "shell",
    "schedule",
    "timezone",
    "on_overlap",
    "catchup",
    "max_runtime",
    "health_check",
    "depends_on",
    "env",
    "retry",
    "shutdown",
    "log",
    "limits",
    "tags",
    "enabled",
    "ready",
    "on_dependency_failure",
    "isolate",
    "restart",
    "alerts",
    "export",
)
DEPENDENCY_KEYS = ("job", "condition", "timeout")
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class ReadJob:
    """A job as read, with the line of each of its dependencies for later checks, and
    the log of the file it came from (a cycle is reported where it is written)."""

    config: JobConfig
    dependency_lines: tuple[int, ...]
    log: ProblemLog


@dataclass(frozen=True, slots=True)
class JobSource:
    """One job's mapping as found in a file, before it is read: its id, its value, the
    line to report a missing key at, and the scope its problems go to."""

    job_id: str
    value: Any
    line: int
    scope: Scope
    unknown_hint: str = ""  # ends the message about an unknown key

    @property
    def place(self) -> str:
        """`file:line`, for a message that points at where the job is defined."""
        return f"{self.scope.log.file}:{self.line}"


def job_scope(log: ProblemLog, path: tuple[PathSegment, ...]) -> Scope:
    """The scope for a path in jobs.yaml: `job 'api'` once the path is inside a job."""
    if len(path) >= 2 and path[0] == "jobs":
        return Scope(log, f"job '{path[1]}'", path[2:])
    return Scope(log, "", path)


def job_id_problem(job_id: str) -> str | None:
    """Why `job_id` cannot be a job's id, or None when it can."""
    if JOB_ID.fullmatch(job_id):
        return None
    return (
        f"job id '{job_id}' is invalid: use letters, digits, '-' and '_' "
        "(at most 63, starting with a letter or digit)"
    )


def job_sources(root: Any, log: ProblemLog) -> list[JobSource]:
    """The jobs under `jobs:` in `root` (jobs.yaml parsed, None when empty), in file order."""
    top = Fields(Scope(log), root, 1, ("jobs",), " (jobs go under the top-level key 'jobs')")
    sources = []
    for job_id, value, key_line, _ in top.pairs("jobs", "a mapping of job ids to jobs"):
        if problem := job_id_problem(job_id):
            log.add(key_line, "", problem)
        sources.append(JobSource(job_id, value, key_line, job_scope(log, ("jobs", job_id))))
    return sources


def read_jobs(
    sources: Sequence[JobSource],
    defaults: Defaults,
    alerts: AlertSettings,
    cpu_refusal: str | None = None,
) -> list[ReadJob]:
    """The jobs of `sources` (from every file, so a dependency may name a job of
    another), in order; `alerts` (openclaw.alerts) is what a job's own alerts are
    checked against, `cpu_refusal` as in `read_limits`."""
    ids = [source.job_id for source in sources]
    jobs = []
    for source in sources:
        fields = Fields(source.scope, source.value, source.line, JOB_KEYS, source.unknown_hint)
        if fields.valid:
            jobs.append(_read_job(source.job_id, fields, defaults, alerts, ids, cpu_refusal))
    return jobs


def _read_job(
    job_id: str,
    fields: Fields,
    defaults: Defaults,
    alerts: AlertSettings,
    ids: Sequence[str],
    cpu_refusal: str | None,
) -> ReadJob:
    shell = fields.get("shell", boolean, False)
    kind = fields.get("type", choice(JOB_TYPES), None)
    dependencies = _read_dependencies(job_id, fields, ids)
    cwd = fields.get("cwd", optional(text), None)
    config = JobConfig(
        id=job_id,
        cmd=_read_cmd(fields, shell),
        name=fields.get("name", text, job_id),
        cwd=None if cwd is None else os.path.expanduser(cwd),
        type=kind or "manual",
        shell=shell,
        schedule=_read_schedule(fields, kind),
        timezone=fields.get("timezone", optional(time_zone), None) or defaults.timezone,
        on_overlap=fields.get("on_overlap", choice(OVERLAP_POLICIES), "skip"),
        catchup=fields.get("catchup", choice(CATCHUP_POLICIES), "skip"),
        max_runtime=fields.get("max_runtime", optional(positive_duration), None),
        health_check=read_health_check(fields, defaults.health_check),
        depends_on=tuple(dependency for dependency, _ in dependencies),
        env=_read_env(fields),
        retry=read_retry(fields, defaults.retry),
        shutdown=read_shutdown(fields, defaults.shutdown),
        log=read_log(fields, defaults.log),
        limits=read_limits(fields, defaults.limits, cpu_refusal),
        tags=fields.list("tags", text, "a list of strings"),
        enabled=fields.get("enabled", boolean, True),
        ready=fields.get("ready", optional(choice(READY_PROTOCOLS)), None),
        on_dependency_failure=fields.get(
            "on_dependency_failure", choice(DEPENDENCY_FAILURE_POLICIES), "keep_running"
        ),
        isolate=fields.get("isolate", boolean, False),
        restart=_read_restart(fields, kind),
        alerts=read_job_alerts(fields, alerts),
        export=read_export(fields, defaults.export),
    )
    return ReadJob(config, tuple(line for _, line in dependencies), fields.scope.log)


def _read_restart(fields: Fields, kind: str | None) -> str:
    if kind == "continuous" or "restart" not in fields:
        return fields.get("restart", choice(RESTART_POLICIES), "always")
    if kind is not None or "type" not in fields:  # a wrong type is reported already
        fields.reject("restart", "is only used by type: continuous")
    return "always"


def _read_cmd(fields: Fields, shell: bool) -> str | tuple[str, ...]:
    if "cmd" not in fields:
        fields.require("cmd", text)
        return ""
    raw = fields.raw("cmd")
    scope, line = fields.scope.at("cmd"), fields.value_line("cmd")
    if not isinstance(raw, list):
        cmd: str | tuple[str, ...] = fields.get("cmd", _command_line, "")
    elif shell:
        scope.error(line, "expected a string when shell is true, got a list")
        return ""
    elif not raw:
        scope.error(line, "expected a command (a string or a list of strings), got an empty list")
        return ""
    else:
        cmd = fields.list("cmd", _argument, "a list of strings")
    if isinstance(cmd, str) and cmd and not shell:
        try:
            shlex.split(cmd)
        except ValueError as exc:  # shlex says "No closing quotation"
            scope.error(line, f"cannot be split into arguments: {str(exc).lower()}")
    for part in (cmd,) if isinstance(cmd, str) else cmd:
        if names := secret_names(part):
            scope.error(
                line,
                "secrets are not allowed in cmd (every local user can read a command line): "
                f"move ${{secret:{names[0]}}} into env",
            )
            break
    return cmd


def _command_line(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise expected("a command (a string or a list of strings)", value)
    return value


def _argument(value: Any) -> str:
    if isinstance(value, str):
        return value
    if is_number(value) or isinstance(value, bool):
        raise Invalid(f"expected a string, got {describe(value)} (put it in quotes)")
    raise expected("a string", value)


def _read_schedule(fields: Fields, kind: str | None) -> str | None:
    if kind == "scheduled":
        return fields.require("schedule", cron_schedule, " for type: scheduled")
    if "schedule" not in fields:
        return None
    if kind is None and "type" in fields:
        # The type itself is wrong and reported; the expression may still be checked.
        fields.get("schedule", cron_schedule, None)
    else:
        fields.reject("schedule", "is only used by type: scheduled")
    return None


def _read_dependencies(
    job_id: str, fields: Fields, ids: Sequence[str]
) -> list[tuple[Dependency, int]]:
    """The usable dependencies, each with its line; the others are reported."""
    found = []
    for scope, line, value in fields.entries("depends_on", "a list like [{job: db}]"):
        dependency = _read_dependency(job_id, scope, line, value, ids)
        if dependency is not None:
            found.append((dependency, line))
    return found


def _read_dependency(
    job_id: str, scope: Scope, line: int, value: Any, ids: Sequence[str]
) -> Dependency | None:
    if isinstance(value, str):
        scope.error(line, f"expected a mapping like {{job: {value}}}, got {value!r}")
        return None
    fields = Fields(scope, value, line, DEPENDENCY_KEYS)
    target = fields.require("job", text) if fields.valid else None
    condition = fields.get("condition", choice(DEPENDENCY_CONDITIONS), "after_start")
    timeout = fields.get("timeout", positive_duration, 60.0)
    if target is None:
        return None
    target_scope, target_line = scope.at("job"), fields.value_line("job")
    if target == job_id:
        target_scope.error(target_line, "a job cannot depend on itself")
        return None
    if target not in ids:
        others = [other for other in ids if other != job_id]
        target_scope.error(target_line, f"no job '{target}'{did_you_mean(target, others)}")
        return None
    return Dependency(job=target, condition=condition, timeout=timeout)


def _read_env(fields: Fields) -> tuple[tuple[str, str], ...]:
    env = []
    scope = fields.scope.at("env")
    for name, value, name_line, value_line in fields.pairs("env", "a mapping of names to values"):
        if not ENV_NAME.fullmatch(name):
            scope.error(
                name_line,
                f"'{name}' is not a valid variable name: "
                "use letters, digits and '_', not starting with a digit",
            )
            continue
        try:
            text = _env_value(value)
        except Invalid as err:
            scope.at(name).error(value_line, str(err))
            continue
        if problem := reference_problem(text):
            scope.at(name).error(value_line, problem)
            continue
        env.append((name, text))
    return tuple(env)


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) or is_number(value):
        return str(value)
    hint = " (write '' for an empty value)" if value is None else ""
    raise Invalid(f"expected a string, number or true/false, got {describe(value)}{hint}")
