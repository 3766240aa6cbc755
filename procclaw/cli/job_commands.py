"""`procclaw list` and `procclaw status`: what the daemon's jobs are doing.

Usage:
  procclaw list [--status=STATE] [--tag=TAG] [--json]
  procclaw status [<job>] [--json]

Options:
  --status=STATE   Only jobs in this state (running, stopped, failed, ...), or paused,
                   or disabled
  --tag=TAG        Only jobs carrying this tag
  --json           Print machine-readable JSON

`status` without a job shows them all, as `list` does.
"""

from __future__ import annotations

import json
import shlex
import time

from procclaw.cli.colours import Palette
from procclaw.cli.render import format_cpu, format_duration, format_memory, table
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    from procclaw.client import Client

    args = parse_args(USAGE, argv)
    client = Client(Home.from_env())
    if args["list"] or args["<job>"] is None:
        return list_jobs(client, args["--status"], args["--tag"], args["--json"])
    return show_status(client, args["<job>"], args["--json"])


def list_jobs(client, state: str | None, tag: str | None, as_json: bool) -> int:
    from procclaw.cli.errors import CliFailure
    from procclaw.states import STATUS_FILTERS, matches_status

    if state and state not in STATUS_FILTERS:
        raise CliFailure(f"--status must be one of {', '.join(STATUS_FILTERS)}, not '{state}'", 2)
    jobs = with_measures(client, client.call("list"))
    if state:
        jobs = [job for job in jobs if matches_status(job, state)]
    if tag:
        jobs = [job for job in jobs if tag in job["tags"]]
    if as_json:
        print(json.dumps(jobs, indent=2))
        return 0
    if not jobs:
        print("no jobs" + (" match" if state or tag else " configured"))
        return 0
    timed = any(job.get("next_runs") for job in jobs)
    paint = Palette.for_stdout()
    rows = [
        (
            job["id"],
            job["type"],
            paint.state(_state(job)),
            job["pid"],
            format_duration(job["uptime"]) if job["uptime"] is not None else None,
            format_cpu(job["cpu"]),
            format_memory(job["memory"]),
            job["restarts"],
            paint.health(job.get("health")),
            ",".join(job["tags"]),
            *([_moment(job["next_runs"][0]) if job.get("next_runs") else None] if timed else []),
        )
        for job in jobs
    ]
    headers = ("job", "type", "state", "pid", "uptime", "cpu", "mem", "restarts", "health", "tags")
    print(table(headers + (("next run",) if timed else ()), rows))
    return 0


def with_measures(client, jobs: list[dict]) -> list[dict]:
    """The jobs with the CPU and memory of those running (asked for only if one runs)."""
    from procclaw.job_usage import with_usage

    running = [job["id"] for job in jobs if job.get("pid")]
    usage = client.call("usage", {"jobs": running}) if running else {}
    return [with_usage(job, usage) for job in jobs]


_DISABLED = "no: not started by daemon start, reload or schedule (`procclaw enable`)"


def _state(job: dict) -> str:
    """The state, or `paused` for a paused job at rest, or `disabled` for a disabled job
    stopped."""
    if job.get("paused") and job["pid"] is None and job["state"] not in ("starting", "stopping"):
        return "paused"
    if not job.get("enabled", True) and job["state"] == "stopped":
        return "disabled"
    return job["state"]


def _moment(iso_time: str) -> str:
    """A due time in its job's zone, as `2024-03-10 03:00:00 -0400`."""
    from datetime import datetime

    return datetime.fromisoformat(iso_time).strftime("%Y-%m-%d %H:%M:%S %z")


def show_status(client, job_id: str, as_json: bool) -> int:
    from procclaw.cli.errors import CliFailure
    from procclaw.client import ClientError

    try:
        job = with_measures(client, [client.call("status", {"job": job_id})])[0]
    except ClientError as exc:
        raise CliFailure(exc.message) from None
    if as_json:
        print(json.dumps(job, indent=2))
        return 0
    config = job["config"]
    cmd = config["cmd"] if isinstance(config["cmd"], str) else shlex.join(config["cmd"])
    paint = Palette.for_stdout()
    fields = [
        ("job", f"{job['id']} ({job['name']})"),
        ("type", job["type"]),
        ("state", paint.state(_state(job)) + (f": {job['reason']}" if job.get("reason") else "")),
        ("pid", job["pid"] or "-"),
        ("uptime", format_duration(job["uptime"])),
        *([("started by", job["cause"])] if job.get("pid") and job.get("cause") else []),
        ("cpu", _describe_cpu(job)),
        ("memory", _describe_memory(job)),
        ("restarts", job["restarts"]),
        ("held by", _describe_supervisor(job)),
        *([("stops by", _describe_stop(job))] if job.get("stops_by") else []),
        ("health", paint.health(_describe_health(job))),
        ("says", job.get("status_text") or "-"),
        *([("heartbeat", _describe_heartbeat(job))] if _has_output_check(job) else []),
        *([("log", job["log_trouble"])] if job.get("log_trouble") else []),
        ("last exit", job.get("last_exit") or "-"),
        ("last run", _describe_run(job.get("last_run"))),
        *([("paused", _describe_pause(job))] if job.get("paused") else []),
        *([("enabled", _DISABLED)] if not job.get("enabled", True) else []),
        *_schedule_fields(job),
        ("cmd", cmd),
        ("cwd", config.get("cwd") or "-"),
        ("tags", ", ".join(job["tags"]) or "-"),
        ("stdout", job["logs"]["stdout"]),
        ("stderr", job["logs"]["stderr"]),
        *([("database", f"{job['database']} (not recorded)")] if job.get("database") else []),
    ]
    for label, value in fields:
        print(f"{label:<10} {value}")
    for key, stream in (("log_tail", "stdout"), ("error_tail", "stderr")):
        if job.get(key):
            print(f"\nlast lines of {stream}:")
            for line in job[key]:
                print(f"  {line}")
    return 0


def _has_output_check(job: dict) -> bool:
    return job["config"]["health_check"]["type"] == "output"


def _describe_heartbeat(job: dict) -> str:
    """`3 s ago`, `none yet`, or `late: 45 s ago (max_age 30 s)`, for a running job."""
    if job["state"] != "running":
        return "-"
    heard_at, max_age = job.get("heartbeat_at"), job["config"]["health_check"]["max_age"]
    text = f"{format_duration(time.time() - heard_at)} ago" if heard_at else "none yet"
    return f"late: {text} (max_age {max_age:g} s)" if job.get("heartbeat_late") else text


def _describe_cpu(job: dict) -> str:
    """`12.5% over 4s (3m 10s in all)`: lately (since the job was last measured, or since
    the run started), and in all since the run started."""
    if job["cpu_seconds"] is None:
        return "-"
    window = job.get("cpu_window")
    over = ""
    if window:
        over = f" over {window:.1f}s" if window < 10 else f" over {format_duration(window)}"
    return f"{format_cpu(job['cpu'])}{over} ({format_duration(job['cpu_seconds'])} in all)"


def _describe_memory(job: dict) -> str:
    """`45.2M RSS, 30.1M PSS, 3 processes`: the job's whole process tree."""
    if job["memory"] is None:
        return "-"
    pss = f", {format_memory(job['memory_pss'])} PSS" if job["memory_pss"] is not None else ""
    count = job["processes"]
    return f"{format_memory(job['memory'])} RSS{pss}, {count} process{'es' if count != 1 else ''}"


def _describe_pause(job: dict) -> str:
    since = job.get("paused_since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else "?"
    return f"since {when}; `procclaw resume {job['id']}` lets it run"


def _describe_stop(job: dict) -> str:
    """`cgroup (/sys/fs/cgroup/...)` or `process group + run marker`."""
    return f"cgroup ({job['cgroup']})" if job.get("cgroup") else job["stops_by"]


def _describe_supervisor(job: dict) -> str:
    if not job.get("supervisor"):
        return "-"
    pid = f" (pid {job['sup_pid']})" if job.get("sup_pid") else ""
    return f"{job['supervisor']}{pid}"


def _describe_health(job: dict) -> str:
    """`healthy`, or `unhealthy: <why>`, with how often it went unhealthy so far."""
    health = job.get("health")
    detail = job.get("health_detail") or {}
    if health is None:
        return "-"
    text = (
        f"{health}: {detail['reason']}"
        if health == "unhealthy" and detail.get("reason")
        else health
    )
    count = detail.get("unhealthy_count") or 0
    return text + (f" (unhealthy {count} times)" if count else "")


def _schedule_fields(job: dict) -> list[tuple[str, object]]:
    config = job["config"]
    if job["type"] != "scheduled":
        return []
    timing = f"{config['schedule']} ({job.get('timezone')}), on_overlap {config['on_overlap']}"
    runs = [_moment(run) for run in job.get("next_runs", [])] or ["-"]
    return [
        ("schedule", timing),
        ("next runs", ("\n" + " " * 11).join(runs)),
        ("skipped", job.get("skipped", 0)),
    ]


def _describe_run(run: dict | None) -> str:
    if not run:
        return "-"
    how = f"exit code {run['exit_code']}" if run["exit_code"] is not None else run["signal"]
    ended = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run["ended_at"]))
    took = format_duration(run["ended_at"] - run["started_at"])
    return f"{run['result']} ({how or 'unknown'}) at {ended}, after {took}"
