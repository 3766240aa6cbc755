"""The dashboard's routes, in one place for app.py to add: its pages, its static files,
login and logout, and the followed log its job pages read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from procclaw.api.dashboard import Dashboard, JobPage, Login, Logout, StaticFiles
from procclaw.api.log_stream import LogStream
from procclaw.client import Client
from procclaw.home import Home

if TYPE_CHECKING:
    from procclaw.api.app import ApiApp


def dashboard_routes(app: ApiApp, client: Client, home: Home) -> dict[str, Any]:
    """Path -> resource, for `falcon.App.add_route`; they share the app's job list, event
    stream places, sessions and auth."""
    return {
        "/": Dashboard(client, app.summaries),
        "/jobs/{job_id}": JobPage(client, app.health),
        "/static/{name}": StaticFiles(),
        "/login": Login(app.sessions, app.auth),
        "/logout": Logout(app.sessions),
        "/api/v1/jobs/{job_id}/logs/stream": LogStream(client, home, app.events),
    }
