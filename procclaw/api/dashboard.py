"""The web dashboard: `/` (the jobs, the events, the actors), `/jobs/{id}` (one job),
`/login`, `/logout` and `/static/*` (its CSS and scripts).

The first view is rendered on the server (procclaw/api/dashboard_html.py) from the
same cached job list as `GET /api/v1/jobs`; the scripts then follow the event stream
and call the API like any client, with the session cookie instead of the bearer token
(procclaw/api/sessions.py). Everything it needs ships in the package (procclaw/web):
no CDN, no build step, nothing fetched from elsewhere, as the Content-Security-Policy
says to the browser.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import falcon

from procclaw.api import dashboard_html as html
from procclaw.api.auth import AuthMiddleware
from procclaw.api.errors import from_client_error
from procclaw.api.job_list import JobSummaries
from procclaw.api.sessions import SessionStore, cookie_name
from procclaw.client import Client, ClientError

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make Origin "null"
    "Cache-Control": "no-store",
}
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
MAX_LOGIN_BODY = 8192


def _send_page(resp: falcon.Response, body: str, status: str = falcon.HTTP_200) -> None:
    resp.status = status
    resp.content_type = "text/html; charset=utf-8"
    resp.set_headers(SECURITY_HEADERS)
    resp.text = body


def _csrf(req: falcon.Request) -> tuple[str, bool]:
    """The page's CSRF token and whether someone is logged in (no session: auth is off)."""
    session = getattr(req.context, "session", None)
    return (session.csrf, True) if session is not None else ("", False)


class Dashboard:
    """GET `/`: the jobs table, the events feed and the daemon's actors."""

    def __init__(self, client: Client, summaries: JobSummaries):
        self.client = client
        self.summaries = summaries

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        csrf, logged_in = _csrf(req)
        try:
            jobs = json.loads(self.summaries.json((None, None), lambda job: True))["jobs"]
            actors = self.client.call_endpoint("daemon", "status")["actors"]
        except ClientError as exc:
            main = f'<p class="error" role="alert">{html.escape(exc.message)}</p>'
            body = html.page("Jobs", main, page_name="jobs", csrf=csrf, logged_in=logged_in)
            _send_page(resp, body, falcon.HTTP_503)
            return
        main = html.jobs_main(jobs, actors)
        _send_page(resp, html.page("Jobs", main, page_name="jobs", csrf=csrf, logged_in=logged_in))


class JobPage:
    """GET `/jobs/{id}`: one job, its output, runs, schedule, health and config."""

    def __init__(self, client: Client):
        self.client = client

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        csrf, logged_in = _csrf(req)
        try:
            job = self.client.call("status", {"job": job_id})
        except ClientError as exc:
            error = from_client_error(exc)
            main = f'<p class="error" role="alert">{html.escape(exc.message)}</p>'
            body = html.page(job_id, main, page_name="job", csrf=csrf, logged_in=logged_in)
            _send_page(resp, body, error.status)
            return
        body = html.page(
            job.get("name") or job_id,
            html.job_main(job),
            page_name="job",
            csrf=csrf,
            logged_in=logged_in,
            job_id=job_id,
        )
        _send_page(resp, body)


class StaticFiles:
    """GET `/static/{name}`: the dashboard's CSS and scripts, read once from the package."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for entry in resources.files("procclaw").joinpath("web").iterdir():
            suffix = "." + entry.name.rpartition(".")[2]
            if suffix in STATIC_TYPES:
                data = entry.read_bytes()
                etag = hashlib.sha256(data).hexdigest()[:16]
                self.files[entry.name] = (data, STATIC_TYPES[suffix], etag)

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = self.files.get(name)
        if found is None:
            raise falcon.HTTPNotFound(title="not_found", description=f"no file {name!r}")
        data, content_type, etag = found
        resp.content_type = content_type
        resp.etag = etag
        resp.set_header("Cache-Control", "no-cache")  # revalidated: an upgrade shows at once
        resp.set_header("X-Content-Type-Options", "nosniff")
        if req.if_none_match and any(tag == etag for tag in req.if_none_match):
            resp.status = falcon.HTTP_304
            return
        resp.data = data


class Login:
    """GET: the login form (auth on) or the dashboard (auth off). POST: token -> session."""

    def __init__(self, store: SessionStore, auth: AuthMiddleware):
        self.store = store
        self.auth = auth

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.auth.check.enabled:
            raise falcon.HTTPSeeOther("/")
        _send_page(resp, html.page("Log in", html.login_main(), page_name="login"))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        check = self.auth.check
        if not check.enabled:
            raise falcon.HTTPSeeOther("/")
        if check.problem is not None or check.digest is None:
            main = html.login_main(check.problem or "the API token cannot be read")
            _send_page(resp, html.page("Log in", main, page_name="login"), falcon.HTTP_503)
            return
        if not check.accepts(f"Bearer {_form_token(req)}"):
            main = html.login_main("Wrong token.")
            _send_page(resp, html.page("Log in", main, page_name="login"), falcon.HTTP_401)
            return
        session = self.store.open(check.digest)
        resp.set_cookie(
            cookie_name(req),
            session.key,
            expires=datetime.fromtimestamp(session.expires_at, UTC),
            max_age=int(self.store.lifetime),
            path="/",
            secure=req.scheme == "https",
            http_only=True,
            same_site="Strict",
        )
        resp.status = falcon.HTTP_303
        resp.location = "/"


class Logout:
    """POST: end this browser's session (the CSRF check applies, as to every change)."""

    def __init__(self, store: SessionStore):
        self.store = store

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = cookie_name(req)
        if key := req.cookies.get(name):
            self.store.close(key)
        resp.unset_cookie(name, path="/")
        resp.media = {"logged_out": True}


def _form_token(req: falcon.Request) -> str:
    """The `token` field of a URL-encoded form; empty when there is none."""
    length = req.content_length or 0
    if length > MAX_LOGIN_BODY:
        return ""
    body = req.bounded_stream.read(length).decode("latin-1")
    values: dict[str, Any] = parse_qs(body, max_num_fields=8)
    return str(values.get("token", [""])[0]).strip()
