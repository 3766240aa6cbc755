"""The Falcon app: its routes, its middleware, and the JSON shape of its errors."""

from __future__ import annotations

import falcon

from procclaw.api.auth import AuthMiddleware, HostMiddleware
from procclaw.api.daemon import DaemonStatus, Health, Reload
from procclaw.api.dashboard_routes import Shared, dashboard_routes
from procclaw.api.errors import serialize_error
from procclaw.api.events import EventStream
from procclaw.api.health_history import HealthHistory
from procclaw.api.job_edits import JobCollection, JobResource
from procclaw.api.job_list import JobSummaries
from procclaw.api.jobs import JobAction, JobRuns
from procclaw.api.logs import JobLogs
from procclaw.api.metrics import Metrics
from procclaw.api.openapi import OpenApi
from procclaw.api.sessions import SessionMiddleware, SessionStore
from procclaw.api.tags import ACTIONS as TAG_ACTIONS
from procclaw.api.tags import TagAction
from procclaw.api.token_check import TokenCheck
from procclaw.client import Client
from procclaw.home import Home


class ApiApp:
    """The WSGI app, and the parts the gateway adjusts while it runs."""

    def __init__(
        self, home: Home, client: Client, bound_host: str, check: TokenCheck, streams: int
    ):
        self.auth = AuthMiddleware(check)
        self.events = EventStream(client, home, streams)
        self.summaries = JobSummaries(client, home)
        self.sessions = SessionStore()
        self.health = HealthHistory(home)
        sessions = SessionMiddleware(self.sessions, self.auth)
        self.wsgi = falcon.App(middleware=[HostMiddleware(bound_host), sessions, self.auth])
        self.wsgi.set_error_serializer(serialize_error)
        self.wsgi.req_options.auto_parse_qs_csv = False
        routes = {
            "/health": Health(client),
            "/metrics": Metrics(client),
            "/api/v1/jobs": JobCollection(self.summaries, client),
            "/api/v1/jobs/{job_id}": JobResource(client),
            "/api/v1/jobs/{job_id}/logs": JobLogs(client, home),
            "/api/v1/jobs/{job_id}/runs": JobRuns(client),
            "/api/v1/events": self.events,
            "/api/v1/reload": Reload(client),
            "/api/v1/openapi.json": OpenApi(),
        }
        for action in ("start", "stop", "restart", "pause", "resume"):
            routes[f"/api/v1/jobs/{{job_id}}/{action}"] = JobAction(client, action)
        for action in TAG_ACTIONS:
            routes[f"/api/v1/tags/{{tag}}/{action}"] = TagAction(client, action)
        # The web dashboard, and what its pages read beside the jobs API.
        routes["/api/v1/daemon"] = DaemonStatus(client)
        shared = Shared(self.summaries, self.health, self.sessions, self.auth, self.events)
        routes.update(dashboard_routes(shared, client, home))
        for path, resource in routes.items():
            self.wsgi.add_route(path, resource)

    def close(self) -> None:
        """Stop the event streams and let go of the bus."""
        self.events.close()
        self.summaries.close()
        self.health.close()

    def use_token(self, check: TokenCheck) -> None:
        """A reloaded config's auth settings apply to the next request."""
        self.auth.check = check
