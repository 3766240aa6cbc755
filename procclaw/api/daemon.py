"""`/health`, `/api/v1/daemon` and `/api/v1/reload`: the daemon as a whole."""

from __future__ import annotations

import os

import falcon

from procclaw import __version__
from procclaw.api.jobs import call
from procclaw.client import Client, ClientError

# /health is for load balancers and service checks: a quick answer either way.
HEALTH_TIMEOUT = 2.0


class Health:
    """GET or HEAD: 200 when the controller answers, 503 when not. Never needs a token."""

    def __init__(self, client: Client):
        self.client = client

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = {"status": "ok", "version": __version__, "gateway_pid": os.getpid()}
        try:
            body["jobs"] = self.client.call("ping", timeout=HEALTH_TIMEOUT)["jobs"]
        except ClientError as exc:
            body.update(status="unavailable", reason=exc.message)
            resp.status = falcon.HTTP_503
        resp.media = body

    on_head = on_get  # the same status, for checks that send HEAD; Falcon drops the body


class Reload:
    """POST: re-read and apply the config files; a bad config changes nothing (400)."""

    def __init__(self, client: Client):
        self.client = client

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = call(self.client, "reload")


class DaemonStatus:
    """GET: the daemon and its actors (pid, state, restarts), as `daemon status --json`."""

    def __init__(self, client: Client):
        self.client = client

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = call(self.client, "status", target="daemon")
