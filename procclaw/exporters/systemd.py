"""`procclaw export systemd`: a `<job>.service` per job, and a `<job>.timer` per
scheduled job.

The units work as user units (`~/.config/systemd/user/`) or system units alike: the
secrets file is `%E/procclaw/<job>.env`, which is /etc for the system manager and
$XDG_CONFIG_HOME for a user's. A manual or scheduled job is `Type=oneshot`, so a job
that depends on it `after_complete` starts once it has exited, as here. Each secret is
named in a comment beside the EnvironmentFile= line; no value is ever written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from procclaw.config.models import LogConfig
from procclaw.cron_library import croniter
from procclaw.exporters.export_plan import (
    Export,
    JobConfig,
    argv,
    env_parts,
    first_delay,
    has_secret,
    retry_delays,
    warn_common,
    warn_expansions,
)

_RESTART = {"always": "always", "on-failure": "on-failure", "never": "no"}
_NICKNAMES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_BARE = re.compile(r"[A-Za-z0-9_./:=@,+-]+")


def export(jobs: Sequence[JobConfig], image: str | None = None) -> Export:
    """The units of `jobs`; `image` is not used (units run the command on the host)."""
    result = Export()
    for job in jobs:
        warn_common(result, job)
        warn_expansions(result, job, "systemd")
        timer = _timer(job, result) if job.type == "scheduled" else None
        result.files[f"{job.id}.service"] = _service(job, result)
        if timer is not None:
            result.files[f"{job.id}.timer"] = timer
    return result


def _service(job: JobConfig, result: Export) -> str:
    unit = [f"Description={job.name} (exported from ProcClaw)"]
    for dependency in job.depends_on:
        if dependency.condition == "before_complete":  # this job completes first
            unit.append(f"Before={dependency.job}.service")
            continue
        unit.append(f"After={dependency.job}.service")
        wants = "Requires" if job.on_dependency_failure == "stop" else "Wants"
        unit.append(f"{wants}={dependency.job}.service")
    if job.depends_on:
        result.warn(job, "depends_on timeout", "systemd waits for a dependency without a limit")
    unit += _start_limit(job)
    service = [f"Type={_type(job, result)}", f"ExecStart={_command_line(argv(job))}"]
    if job.cwd:
        service.append(f"WorkingDirectory={_escape(job.cwd)}")
    service += _environment(job)
    if job.type == "continuous":
        restart = "no" if job.retry.kind == "none" else _RESTART[job.restart]
        service.append(f"Restart={restart}")
        service.append(f"RestartSec={_duration(first_delay(job.retry))}")
        # 78 (EX_CONFIG): the program says its config is wrong, and fails at once here.
        service.append("RestartPreventExitStatus=78")
        _warn_retry(job, result)
    service.append(f"KillSignal={job.shutdown.signal}")
    service.append(f"TimeoutStopSec={_duration(job.shutdown.grace_period)}")
    if job.max_runtime is not None:  # a oneshot unit's run is its start
        limit = "RuntimeMaxSec" if job.type == "continuous" else "TimeoutStartSec"
        service.append(f"{limit}={_duration(job.max_runtime)}")
    service += _limits(job)
    service += _health(job, result)
    if job.log != LogConfig():
        result.warn(job, "log", "output goes to the journal, which rotates it by its own rules")
    sections = [("Unit", unit), ("Service", service)]
    if job.type == "continuous" and job.enabled:
        sections.append(("Install", ["WantedBy=default.target"]))
    return _render(f"{job.id}.service", sections)


def _type(job: JobConfig, result: Export) -> str:
    if job.type != "continuous":
        if job.ready == "notify":
            result.warn(job, "ready: notify", "a oneshot unit is ready when it has exited")
        return "oneshot"
    return "notify" if job.ready == "notify" else "exec"


def _start_limit(job: JobConfig) -> list[str]:
    """Giving up after max_attempts restarts, as systemd counts them: starts within an
    interval long enough for the attempts and their waits."""
    if job.type != "continuous" or job.retry.kind == "none":
        return []
    attempts = job.retry.max_attempts
    if attempts is None:
        return ["StartLimitIntervalSec=0"]
    delays = retry_delays(job.retry) or [0.0]
    waits = sum(delays[min(n, len(delays) - 1)] for n in range(attempts))
    window = waits + attempts * (job.retry.reset_after + 1)
    return [f"StartLimitIntervalSec={_duration(window)}", f"StartLimitBurst={attempts + 1}"]


def _warn_retry(job: JobConfig, result: Export) -> None:
    if len(set(retry_delays(job.retry))) > 1:
        result.warn(
            job,
            "retry delays",
            "systemd 252 waits the same RestartSec= before every restart: "
            f"{_duration(first_delay(job.retry))}",
        )
    if job.retry.jitter:
        result.warn(job, "retry.jitter", "systemd restarts without jitter")


def _environment(job: JobConfig) -> list[str]:
    lines = []
    secret_notes = []
    for name, value in job.env:
        if has_secret(value):
            names = [part for part, secret in env_parts(value) if secret]
            secret_notes.append(f"{name} (secret {', '.join(names)})")
        else:
            lines.append(f"Environment={_quoted(f'{name}={value}')}")
    if secret_notes:
        lines.append(f"# %E/procclaw/{job.id}.env sets {'; '.join(secret_notes)}")
        lines.append(f"EnvironmentFile=%E/procclaw/{job.id}.env")
    return lines


def _limits(job: JobConfig) -> list[str]:
    limits = job.limits
    found = []
    if limits.memory is not None:
        found.append(f"MemoryMax={_size(limits.memory)}")
    if limits.cpu is not None:
        found.append(f"CPUQuota={limits.cpu:g}%")
    for key, name in (("nofile", "NOFILE"), ("nproc", "NPROC"), ("core", "CORE")):
        value = getattr(limits, key)
        if value is not None:
            found.append(f"Limit{name}={'infinity' if value == 'unlimited' else value}")
    return found


def _health(job: JobConfig, result: Export) -> list[str]:
    check = job.health_check
    if check.type == "watchdog":
        return [f"WatchdogSec={_duration(check.interval)}", "NotifyAccess=all"]
    if check.type != "process":
        result.warn(job, f"health_check ({check.type})", "systemd only watches the process")
    return []


def _timer(job: JobConfig, result: Export) -> str | None:
    calendars = on_calendar(str(job.schedule), job.timezone)
    if not calendars:
        result.warn(job, "schedule", f"{job.schedule!r} cannot be written as OnCalendar=")
        return None
    if job.on_overlap != "skip":
        result.warn(
            job, f"on_overlap: {job.on_overlap}", "a timer never starts a unit that is running"
        )
    timer = [*(f"OnCalendar={calendar}" for calendar in calendars), "AccuracySec=1s"]
    if job.catchup == "once":
        timer.append("Persistent=true")
    unit = [f"Description=Schedule of {job.name} (exported from ProcClaw)"]
    sections = [("Unit", unit), ("Timer", timer)]
    if job.enabled:
        sections.append(("Install", ["WantedBy=timers.target"]))
    return _render(f"{job.id}.timer", sections)


def on_calendar(schedule: str, zone: str | None) -> list[str]:
    """The cron expression as OnCalendar= values in `zone` (None: local time); none when
    it cannot be written so. Cron runs on a day that matches either day field when both
    are set, and one OnCalendar= needs both: so that is two, one for each."""
    spec = _NICKNAMES.get(schedule, schedule)
    fields, nth = croniter.expand(spec)
    if nth or any(value != "*" and not isinstance(value, int) for f in fields for value in f):
        return []
    minute, hour, day, month, weekday = (_values(f) for f in fields[:5])
    second = _values(fields[5]) if len(fields) > 5 else [0]
    time = f"{_field(hour, 0, 23)}:{_field(minute, 0, 59)}:{_field(second, 0, 59)}"
    suffix = f" {zone}" if zone else ""

    def calendar(days: list, weekdays: list) -> str:
        text = f"*-{_field(month, 1, 12)}-{_field(days, 1, 31)} {time}{suffix}"
        return text if weekdays == ["*"] else f"{_weekdays(weekdays)} {text}"

    if day != ["*"] and weekday != ["*"]:
        return [calendar(day, ["*"]), calendar(["*"], weekday)]
    return [calendar(day, weekday)]


def _values(field: list) -> list:
    return ["*"] if "*" in field else sorted(set(field))


def _field(values: list, low: int, high: int) -> str:
    if values == ["*"]:
        return "*"
    if len(values) >= 3:
        step = values[1] - values[0]
        progression = all(b - a == step for a, b in zip(values, values[1:], strict=False))
        if progression and step == 1:
            return f"{values[0]:02d}..{values[-1]:02d}"
        if progression and values[-1] + step > high:
            return f"{values[0]:02d}/{step}"
    return ",".join(f"{value:02d}" for value in values)


def _weekdays(days: list) -> str:
    numbers = sorted({day % 7 for day in days})
    if len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{_DAYS[numbers[0]]}..{_DAYS[numbers[-1]]}"
    return ",".join(_DAYS[day] for day in numbers)


def _size(value: int) -> str:
    """Bytes with the largest binary suffix that divides them, as systemd reads it."""
    for suffix, unit in (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)


def _render(name: str, sections: list[tuple[str, list[str]]]) -> str:
    lines = [f"# {name}: exported from jobs.yaml by `procclaw export systemd`"]
    for title, entries in sections:
        lines += ["", f"[{title}]", *entries]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """`text` with its specifiers (%) taken literally, as any value of a unit file."""
    return text.replace("%", "%%")


def _quoted(text: str) -> str:
    """`text` in double quotes, for a value that systemd splits into words."""
    escaped = _escape(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _command_line(words: list[str]) -> str:
    """ExecStart=: each word kept whole, and `$` taken literally (systemd would expand
    `$NAME` from the unit's environment there, and only there)."""
    return " ".join(
        _escape(word) if _BARE.fullmatch(word) else _quoted(word)
        for word in (word.replace("$", "$$") for word in words)
    )


def _duration(value: float) -> str:
    return f"{value:g}s" if value != int(value) else f"{int(value)}s"
