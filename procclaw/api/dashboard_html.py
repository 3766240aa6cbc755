"""The dashboard's HTML, rendered on the server so that a page shows its data before
any script runs: the jobs table, the actors, a job's config and schedule.

Templates are the files of procclaw/web (string.Template, `$name`); every value put into
them is escaped here. The scripts (procclaw/web/*.js) patch what is rendered here, so
the rows they build for a job added later have the same shape as `job_row`'s.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import Any

from procclaw.api.health_history import Verdict
from procclaw.cli.render import format_cpu, format_duration, format_memory
from procclaw.states import STATUS_FILTERS

ACTIONS = ("start", "stop", "restart", "pause", "resume")
# A `${secret:NAME}` reference: shown as masked, naming the secret, never its value.
_SECRET_REFERENCE = re.compile(r"\$\{secret:([^}]*)\}")
MASKED = "********"


@cache
def template(name: str) -> Template:
    """A file of procclaw/web as a template (read once)."""
    return Template(resources.files("procclaw").joinpath("web", name).read_text())


def page(
    title: str,
    main: str,
    *,
    page_name: str,
    csrf: str = "",
    logged_in: bool = False,
    job_id: str = "",
) -> str:
    """A whole page: the shell around `main`, with the scripts of `page_name`."""
    scripts = ""
    if page_name != "login":
        scripts = "".join(
            f'<script defer src="/static/{name}.js"></script>\n' for name in ("common", page_name)
        )
    return template("page.html").substitute(
        title=escape(title),
        main=main,
        page=page_name,
        scripts=scripts,
        csrf=escape(csrf),
        job_id=escape(job_id),
        logout_hidden="" if logged_in else "hidden",
    )


def jobs_main(jobs: list[dict[str, Any]], actors: list[dict[str, Any]]) -> str:
    tags = sorted({tag for job in jobs for tag in job.get("tags", [])})
    return template("jobs.html").substitute(
        count=len(jobs),
        state_options=_options(STATUS_FILTERS),
        tag_options=_options(tags),
        rows="\n".join(job_row(job) for job in jobs),
        actors="\n".join(actor_row(actor) for actor in actors),
        actions=action_buttons(),
    )


def job_row(job: dict[str, Any]) -> str:
    """One row of the jobs table; procclaw/web/jobs.js builds the same."""
    job_id = escape(job["id"])
    tags = " ".join(job.get("tags", []))
    name = job.get("name") or job["id"]
    shown_name = escape(name)
    if name != job["id"]:
        shown_name += f' <small class="id">{job_id}</small>'
    cells = [
        f'<th scope="row" data-col="name"><a href="/jobs/{job_id}">{shown_name}</a></th>',
        f'<td data-col="state">{state_badge(job)}</td>',
        f'<td data-col="health">{health_badge(job.get("health"))}</td>',
        f'<td class="num" data-col="cpu">{format_cpu(job.get("cpu"))}</td>',
        f'<td class="num" data-col="memory">{format_memory(job.get("memory"))}</td>',
        f'<td class="num" data-col="uptime"{_uptime_attr(job)}>'
        f"{format_duration(job.get('uptime'))}</td>",
        f'<td class="num" data-col="restarts">{job.get("restarts", 0)}</td>',
        f'<td data-col="next">{next_run(job)}</td>',
        f'<td data-col="tags">{"".join(_tag(tag) for tag in job.get("tags", []))}</td>',
        # The buttons come from the page's template when the scripts run: without them
        # they could not act, and a hundred rows of them would double the page.
        f'<td data-col="actions" class="actions" data-id="{job_id}"></td>',
    ]
    return (
        f'<tr id="job-{job_id}" data-id="{job_id}" data-state="{escape(job["state"])}"'
        f' data-paused="{"yes" if job.get("paused") else ""}" data-tags="{escape(tags)}"'
        f' data-name="{escape(name.lower())} {job_id.lower()}">' + "".join(cells) + "</tr>"
    )


def state_badge(job: dict[str, Any]) -> str:
    state = escape(job["state"])
    paused = ' <span class="badge paused">paused</span>' if job.get("paused") else ""
    return f'<span class="badge state-{state}">{state}</span>{paused}'


def health_badge(health: str | None) -> str:
    shown = escape(health or "-")
    return f'<span class="badge health-{shown}">{shown}</span>'


def action_buttons() -> str:
    """The five actions; CSS shows pause or resume by the row's `data-paused`."""
    buttons = "".join(
        f'<button type="button" data-action="{action}">{action.capitalize()}</button>'
        for action in ACTIONS
    )
    return buttons + '<span class="outcome" role="status"></span>'


def next_run(job: dict[str, Any]) -> str:
    runs = job.get("next_runs") or []
    return local_time(runs[0], job.get("timezone")) if runs else "-"


def local_time(iso: str, zone: str | None) -> str:
    """A time in the job's zone; the scripts show it in the browser's, the job's beside it."""
    shown = escape(iso.replace("T", " ")[:16])
    return f'<time datetime="{escape(iso)}" data-zone="{escape(zone or "")}">{shown}</time>'


def actor_row(actor: dict[str, Any]) -> str:
    """One actor of `daemon status`; procclaw/web/jobs.js builds the same."""
    state = escape(str(actor.get("state", "-")))
    pid = actor.get("pid") or "-"
    # Where the gateway listens, what went wrong, or what starts an actor that is off.
    note = actor.get("problem") or actor.get("listening") or actor.get("note")
    title = f' title="{escape(note)}"' if note else ""
    return (
        f'<tr data-actor="{escape(actor["name"])}"><th scope="row">{escape(actor["name"])}</th>'
        f'<td><span class="badge actor-{state}"{title}>{state}</span></td>'
        f'<td class="num">{pid}</td><td class="num">{actor.get("restarts", 0)}</td></tr>'
    )


def job_main(job: dict[str, Any], health_history: list[Verdict]) -> str:
    """A job's page: what it is now, its schedule, its health and its config."""
    health = job.get("health")
    detail = job.get("health_detail") or {}
    summary = f"Now {health_badge(health)}"
    if detail.get("reason"):
        summary += f" ({escape(str(detail['reason']))})"
    summary += (
        f". Unhealthy {detail.get('unhealthy_count', 0)} times,"
        f" recovered {detail.get('recovered_count', 0)} times."
    )
    zone = job.get("timezone") or ""
    runs = job.get("next_runs") or []
    return template("job.html").substitute(
        job_id=escape(job["id"]),
        name=escape(job.get("name") or job["id"]),
        state=escape(job["state"]),
        state_text=escape(job["state"]) + (" (paused)" if job.get("paused") else ""),
        paused="yes" if job.get("paused") else "",
        health=escape(health or "-"),
        health_text=escape(health or "no health check yet"),
        pid=job.get("pid") or "-",
        uptime=format_duration(job.get("uptime")),
        uptime_raw="" if job.get("uptime") is None else f"{job['uptime']:.1f}",
        restarts=job.get("restarts", 0),
        actions=action_buttons(),
        zone=escape(zone),
        next_runs="".join(f"<li>{local_time(run, zone)}</li>" for run in runs)
        or "<li>None: the job has no schedule.</li>",
        health_summary=summary,
        health_history="".join(_verdict(verdict) for verdict in health_history)
        or '<li class="empty">No change since the gateway started.</li>',
        config=escape(json.dumps(masked(job.get("config", {})), indent=2)),
    )


def login_main(error: str = "") -> str:
    return template("login.html").substitute(error=escape(error))


def masked(value: Any) -> Any:
    """The config with every secret reference shown as MASKED (naming the secret)."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return _SECRET_REFERENCE.sub(lambda match: f"{MASKED} (secret {match[1]})", value)
    return value


def _verdict(verdict: Verdict) -> str:
    """One change of health: when (the scripts show it in the browser's zone), and why."""
    when = datetime.fromtimestamp(verdict.ts, UTC).isoformat(timespec="seconds")
    word = "healthy" if verdict.healthy else "unhealthy"
    reason = f": {escape(verdict.reason)}" if verdict.reason else ""
    return f'<li class="{word}"><time datetime="{when}">{when}</time>{word}{reason}</li>'


def _uptime_attr(job: dict[str, Any]) -> str:
    uptime = job.get("uptime")
    return "" if uptime is None else f' data-uptime="{uptime:.1f}"'


def _tag(tag: str) -> str:
    return f'<span class="tag">{escape(tag)}</span>'


def _options(values: Any) -> str:
    return "".join(f'<option value="{escape(v)}">{escape(v)}</option>' for v in values)
