"""`POST /api/v1/jobs`, `PATCH` and `DELETE /api/v1/jobs/{id}`: `procclaw add`,
`enable` / `disable` and `remove` over HTTP.

The body of a POST is the job as JSON: its `id` and the keys it would have in jobs.yaml
(`{"id": "backup", "cmd": "./backup", "type": "scheduled", "schedule": "0 3 * * *"}`).
It becomes the job's drop-in, checked by the same code as a file (procclaw/job_edits.py
through the controller): an invalid job is a 400 with every problem, an id that jobs.yaml
defines or that exists already a 409. A PATCH takes `{"enabled": true|false}`.
"""

from __future__ import annotations

from typing import Any

import falcon

from procclaw.api.errors import api_error, bad_request
from procclaw.api.job_list import JobSummaries
from procclaw.api.jobs import JobDetail, JobList, call
from procclaw.client import Client
from procclaw.config import MAX_CONFIG_BYTES
from procclaw.config.yamlsource import MAX_DEPTH
from procclaw.job_edits import dropin_text


def _body(req: falcon.Request) -> dict[str, Any]:
    """The request's JSON object; 400 when it is missing, too large or not an object.

    Only `application/json` is read: a web page can make a browser POST a form or
    text/plain to 127.0.0.1 without asking, but not JSON, so no page the user visits
    can add a job that runs a command of its choosing.
    """
    media_type = (req.content_type or "").partition(";")[0].strip().lower()
    if media_type != falcon.MEDIA_JSON:
        raise api_error(
            falcon.HTTP_415,
            "unsupported_media_type",
            "send the job as JSON, with Content-Type: application/json",
        )
    if req.content_length and req.content_length > MAX_CONFIG_BYTES:
        raise bad_request(f"the body is larger than {MAX_CONFIG_BYTES // 1024**2} MiB")
    try:
        body = req.get_media()
    except falcon.MediaNotFoundError:
        body = None
    except falcon.MediaMalformedError:
        raise bad_request("the body is not valid JSON") from None
    except RecursionError:  # json's decoder recurses once per level
        raise bad_request(_TOO_DEEP) from None
    if not isinstance(body, dict):
        raise bad_request('expected a JSON object, like {"id": "web", "cmd": "./serve"}')
    if _depth(body) > MAX_DEPTH:  # as a file would be refused: and YAML's dump recurses
        raise bad_request(_TOO_DEEP)
    return body


_TOO_DEEP = f"the body is nested more than {MAX_DEPTH} levels deep"


def _depth(value: Any) -> int:
    """How deep lists and objects nest in `value`, counted without recursing."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest


class JobCollection(JobList):
    """GET lists the jobs (JobList); POST adds the job in the body, answering 201 with
    the files written and what the reload did."""

    def __init__(self, summaries: JobSummaries, client: Client):
        super().__init__(summaries)
        self.client = client

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        keys = _body(req)
        job_id = keys.pop("id", None)
        if not isinstance(job_id, str) or not job_id:
            raise bad_request('the job needs an "id": letters, digits, "-" and "_"')
        reply = call(self.client, "add", {"job": job_id, "text": dropin_text(job_id, keys)})
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/jobs/{job_id}"
        resp.media = reply


class JobResource(JobDetail):
    """GET shows the job (JobDetail); PATCH `{"enabled": false}` disables it (stopping
    it) and `true` enables it; DELETE removes a job added with POST or `procclaw add`,
    stopping it."""

    def on_patch(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        body = _body(req)
        if set(body) != {"enabled"} or not isinstance(body["enabled"], bool):
            raise bad_request(
                'only "enabled" (true or false) can be changed; to change the rest,'
                " DELETE the job and POST it again"
            )
        action = "enable" if body["enabled"] else "disable"
        resp.media = call(self.client, action, {"job": job_id})

    def on_delete(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        resp.media = call(self.client, "remove", {"job": job_id})
