"""`/api/v1/jobs`: list jobs, show one and its past runs, and start, stop, restart,
pause or resume it."""

from __future__ import annotations

from typing import Any

import falcon

from procclaw.api.errors import bad_request, from_client_error
from procclaw.api.job_list import JobSummaries
from procclaw.client import Client, ClientError
from procclaw.job_usage import with_usage
from procclaw.states import STATUS_FILTERS, matches_status
from procclaw.whole_numbers import whole_number

DEFAULT_RUNS = 10
MAX_RUNS = 10_000


def call(
    client: Client, cmd: str, args: dict[str, Any] | None = None, target: str = "controller"
) -> Any:
    """One daemon call; its failure as the matching HTTP error."""
    try:
        return client.call_endpoint(target, cmd, args)
    except ClientError as exc:
        raise from_client_error(exc) from None


class JobList:
    """GET: every job, optionally only those in `status` and carrying `tag`."""

    def __init__(self, summaries: JobSummaries):
        self.summaries = summaries

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        state = req.get_param("status")
        tag = req.get_param("tag")
        if state is not None and state not in STATUS_FILTERS:
            raise bad_request(f"status must be one of {', '.join(STATUS_FILTERS)}, not {state!r}")
        try:
            body = self.summaries.json(
                (state, tag),
                lambda job: (
                    (state is None or matches_status(job, state))
                    and (tag is None or tag in job["tags"])
                ),
            )
        except ClientError as exc:
            raise from_client_error(exc) from None
        resp.content_type = falcon.MEDIA_JSON
        resp.text = body


class JobDetail:
    """GET: one job in detail, as `procclaw status --json` shows it."""

    def __init__(self, client: Client):
        self.client = client

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        job = call(self.client, "status", {"job": job_id})
        usage = call(self.client, "usage", {"jobs": [job_id]}) if job.get("pid") else {}
        resp.media = with_usage(job, usage)


class JobRuns:
    """GET: the job's last `limit` finished runs, the latest first, as `procclaw runs
    --json` shows them."""

    def __init__(self, client: Client):
        self.client = client

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        raw = req.get_param("limit")
        limit = DEFAULT_RUNS if raw is None else whole_number(raw, 1, MAX_RUNS)
        if limit is None:
            raise bad_request(f"limit must be a whole number from 1 to {MAX_RUNS}, not {raw!r}")
        runs = call(self.client, "runs", {"job": job_id, "limit": limit})
        resp.media = {"job": job_id, "runs": runs}


# What an action's answer tells a client: not the supervisor's bookkeeping.
ACTION_KEYS = ("state", "pid", "reason", "note", "paused", "paused_since")


class JobAction:
    """POST: `start`, `stop` (`force=true` kills at once), `restart`, `pause` or `resume`
    one job.

    Answers as soon as the daemon took the command, with the job's state then; the
    event stream tells when it got there.
    """

    def __init__(self, client: Client, action: str):
        self.client = client
        self.action = action

    def on_post(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        args: dict[str, Any] = {"job": job_id}
        allowed = ("force",) if self.action == "stop" else ()
        if unknown := [name for name in req.params if name not in allowed]:
            takes = "only force" if allowed else "no parameters"
            raise bad_request(f"{self.action} takes {takes}, got {', '.join(unknown)}")
        if self.action == "stop":
            args["force"] = _flag(req, "force")
        result = call(self.client, self.action, args)
        shown = {key: result[key] for key in ACTION_KEYS if key in result}
        resp.media = {"job": job_id, "action": self.action, **shown}


def _flag(req: falcon.Request, name: str) -> bool:
    """A true/false query parameter (`force=true`, `force=1`), false when absent."""
    try:
        value = req.get_param_as_bool(name, blank_as_true=True)
    except falcon.HTTPBadRequest:
        raise bad_request(f"{name} must be true or false, not {req.get_param(name)!r}") from None
    return bool(value)
