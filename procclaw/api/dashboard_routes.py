"""The dashboard's routes, in one place for app.py to add: its pages, its static files,
login and logout, and the followed log its job pages read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procclaw.api.auth import AuthMiddleware
from procclaw.api.dashboard import Dashboard, JobPage, Login, Logout, StaticFiles
from procclaw.api.events import EventStream
from procclaw.api.health_history import HealthHistory
from procclaw.api.job_list import JobSummaries
from procclaw.api.log_stream import LogStream
from procclaw.api.sessions import SessionStore
from procclaw.client import Client
from procclaw.home import Home


@dataclass(frozen=True)
class Shared:
    """What the dashboard's resources share with the rest of the app."""

    summaries: JobSummaries
    health: HealthHistory
    sessions: SessionStore
    auth: AuthMiddleware
    events: EventStream  # its places bound the log streams too


def dashboard_routes(shared: Shared, client: Client, home: Home) -> dict[str, Any]:
    """Path -> resource, for `falcon.App.add_route`."""
    return {
        "/": Dashboard(client, shared.summaries),
        "/jobs/{job_id}": JobPage(client, shared.health),
        "/static/{name}": StaticFiles(),
        "/login": Login(shared.sessions, shared.auth),
        "/logout": Logout(shared.sessions),
        "/api/v1/jobs/{job_id}/logs/stream": LogStream(client, home, shared.events),
    }
