"""`/api/v1/tags/{tag}/start|stop|restart`: act on every job carrying a tag, as
`procclaw start|stop|restart --tag` does."""

from __future__ import annotations

import falcon

from procclaw.api.errors import api_error, bad_request
from procclaw.api.jobs import ACTION_KEYS, call
from procclaw.client import Client
from procclaw.job_tags import UnknownTag, tagged

ACTIONS = ("start", "stop", "restart")


class TagAction:
    """POST: start, stop or restart the tag's jobs, in one request to the daemon.

    Answers once the daemon took the command, with each job's state then (or its
    `error`, or a `note` such as `not running`); the event stream tells when each got
    there. A tag no job carries is a 404 naming the tags there are.
    """

    def __init__(self, client: Client, action: str):
        self.client = client
        self.action = action

    def on_post(self, req: falcon.Request, resp: falcon.Response, tag: str) -> None:
        if req.params:
            raise bad_request(
                f"{self.action} of a tag takes no parameters, got {', '.join(req.params)}"
            )
        try:
            job_ids = tagged(call(self.client, "list"), [tag])
        except UnknownTag as exc:
            raise api_error(falcon.HTTP_404, "no_such_tag", str(exc)) from None
        replies = call(self.client, f"{self.action}_many", {"jobs": job_ids})
        jobs = {
            job_id: {key: reply[key] for key in (*ACTION_KEYS, "error") if key in reply}
            for job_id, reply in replies.items()
        }
        resp.media = {"tag": tag, "action": self.action, "jobs": jobs}
