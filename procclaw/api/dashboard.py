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

import gzip
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
from procclaw.api.health_history import HealthHistory
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
GZIP_FROM = 1400  # bytes: below one packet, compressing saves nothing


def _send_page(
    req: falcon.Request,
    resp: falcon.Response,
    title: str,
    main: str,
    page_name: str,
    status: str = falcon.HTTP_200,
    job_id: str = "",
) -> None:
    """A page around `main`, with this browser's CSRF token (none when auth is off)."""
    session = getattr(req.context, "session", None)
    body = html.page(
        title,
        main,
        page_name=page_name,
        csrf=session.csrf if session is not None else "",
        logged_in=session is not None,
        job_id=job_id,
    )
    resp.status = status
    resp.content_type = "text/html; charset=utf-8"
    resp.set_headers(SECURITY_HEADERS)
    _send(req, resp, body.encode())


def _send(req: falcon.Request, resp: falcon.Response, data: bytes, packed: bytes = b"") -> None:
    """`data`, gzipped when the client takes it: a table of 100 jobs shrinks tenfold."""
    resp.vary = ("Accept-Encoding",)
    if "gzip" not in (req.get_header("Accept-Encoding") or "") or len(data) < GZIP_FROM:
        resp.data = data
        return
    resp.set_header("Content-Encoding", "gzip")
    resp.data = packed or gzip.compress(data, compresslevel=6)


def _problem(exc: ClientError) -> str:
    return f'<p class="error" role="alert">{html.escape(exc.message)}</p>'


class Dashboard:
    """GET `/`: the jobs table, the events feed and the daemon's actors."""

    def __init__(self, client: Client, summaries: JobSummaries):
        self.client = client
        self.summaries = summaries

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            jobs = json.loads(self.summaries.json((None, None), lambda job: True))["jobs"]
            actors = self.client.call_endpoint("daemon", "status")["actors"]
        except ClientError as exc:
            _send_page(req, resp, "Jobs", _problem(exc), "jobs", falcon.HTTP_503)
            return
        _send_page(req, resp, "Jobs", html.jobs_main(jobs, actors), "jobs")


class JobPage:
    """GET `/jobs/{id}`: one job, its output, runs, schedule, health and config."""

    def __init__(self, client: Client, health: HealthHistory):
        self.client = client
        self.health = health

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        try:
            job = self.client.call("status", {"job": job_id})
        except ClientError as exc:
            status = from_client_error(exc).status
            _send_page(req, resp, job_id, _problem(exc), "job", status)
            return
        main = html.job_main(job, self.health.of(job_id))
        _send_page(req, resp, job.get("name") or job_id, main, "job", job_id=job_id)


class StaticFiles:
    """GET `/static/{name}`: the dashboard's CSS and scripts, read once from the package."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, bytes, str, str]] = {}
        for entry in resources.files("procclaw").joinpath("web").iterdir():
            suffix = "." + entry.name.rpartition(".")[2]
            if suffix in STATIC_TYPES:
                data = entry.read_bytes()
                etag = hashlib.sha256(data).hexdigest()[:16]
                packed = gzip.compress(data, compresslevel=9)
                self.files[entry.name] = (data, packed, STATIC_TYPES[suffix], etag)

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        found = self.files.get(name)
        if found is None:
            raise falcon.HTTPNotFound(title="not_found", description=f"no file {name!r}")
        data, packed, content_type, etag = found
        resp.content_type = content_type
        resp.etag = etag
        resp.set_header("Cache-Control", "no-cache")  # revalidated: an upgrade shows at once
        resp.set_header("X-Content-Type-Options", "nosniff")
        if req.if_none_match and any(tag == etag for tag in req.if_none_match):
            resp.status = falcon.HTTP_304
            return
        _send(req, resp, data, packed)


class Login:
    """GET: the login form (auth on) or the dashboard (auth off). POST: token -> session."""

    def __init__(self, store: SessionStore, auth: AuthMiddleware):
        self.store = store
        self.auth = auth

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.auth.check.enabled:
            raise falcon.HTTPSeeOther("/")
        _send_page(req, resp, "Log in", html.login_main(), "login")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        check = self.auth.check
        if not check.enabled:
            raise falcon.HTTPSeeOther("/")
        if check.problem is not None or check.digest is None:
            main = html.login_main(check.problem or "the API token cannot be read")
            _send_page(req, resp, "Log in", main, "login", falcon.HTTP_503)
            return
        if not check.accepts(f"Bearer {_form_token(req)}"):
            # 403, not 401: a 401 asks for an Authorization header, which a form cannot send.
            main = html.login_main("Wrong token.")
            _send_page(req, resp, "Log in", main, "login", falcon.HTTP_403)
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
