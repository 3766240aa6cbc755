"""Browser sessions for the dashboard, and the cross-site checks on every change.

A browser's EventSource cannot send an Authorization header, and the API token must
not live in a page, a URL or localStorage. So the login form trades the token for a
session: a random value (not the token, nor derived from it) in a cookie that is
HttpOnly, SameSite=Strict, path `/`, with an expiry. The API accepts that cookie in
place of the bearer token.

A cookie is sent by the browser whoever made the page, so a request that changes
something and rides on a session must also carry the session's CSRF token in the
`X-CSRF-Token` header (the page has it in a meta tag; another site cannot read it, nor
set a header on a plain form). Bearer-token clients need no CSRF token: nothing sends
their header for them.

Whatever the auth, a POST (or any other unsafe method) that a browser says comes from
another site (`Sec-Fetch-Site: cross-site | same-site`, or an `Origin` that is not this
server) is refused with a 403: with auth off on loopback, a cross-site form could
otherwise stop your jobs. Clients that are not browsers send neither header.

Sessions live in the gateway's memory: a restarted gateway means logging in again. A
session holds the digest of the token it was opened with, so a reload to a new token
(or auth turned off and on) ends every session at once.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import falcon

from procclaw.api.auth import AuthMiddleware
from procclaw.api.errors import api_error

SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 1000  # past this, the oldest are forgotten: a login loop costs no memory
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Open to anyone: the login form and the static files (which hold no data).
OPEN_PREFIXES = ("/login", "/static/")
# Pages a person looks at: without a session they lead to the login form, not a 401.
PAGE_PATHS = ("/",)
PAGE_PREFIXES = ("/jobs/",)


@dataclass
class Session:
    """One logged-in browser: its cookie value, its CSRF token, when it ends."""

    key: str
    csrf: str
    token_digest: bytes
    expires_at: float


class SessionStore:
    """Sessions in memory, looked up by cookie value; thread-safe (waitress has workers)."""

    def __init__(self, lifetime: float = SESSION_SECONDS, clock: Callable[[], float] = time.time):
        self.lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def open(self, token_digest: bytes) -> Session:
        now = self._clock()
        session = Session(
            key=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            token_digest=token_digest,
            expires_at=now + self.lifetime,
        )
        with self._lock:
            self._forget_expired(now)
            while len(self._sessions) >= MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]
            self._sessions[session.key] = session
        return session

    def find(self, key: str | None, token_digest: bytes | None) -> Session | None:
        """The live session of this cookie value, opened with the token now in force."""
        if not key or token_digest is None:
            return None
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if session.expires_at <= self._clock() or not hmac.compare_digest(
                session.token_digest, token_digest
            ):
                del self._sessions[key]
                return None
            return session

    def close(self, key: str) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def _forget_expired(self, now: float) -> None:
        for key in [key for key, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[key]


def cookie_name(req: falcon.Request) -> str:
    """Named for the port: cookies ignore ports, and two daemons may share a host."""
    return f"procclaw_session_{req.port}"


class SessionMiddleware:
    """Refuses cross-site changes; lets a valid session cookie stand for the bearer token.

    Runs before AuthMiddleware, which lets through a request marked
    `req.context.authenticated` and judges the bearer token of every other one.
    """

    def __init__(self, store: SessionStore, auth: AuthMiddleware):
        self.store = store
        self.auth = auth

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        unsafe = req.method not in SAFE_METHODS
        if unsafe:
            refuse_cross_site(req)
        if req.path.startswith(OPEN_PREFIXES):
            req.context.authenticated = True
            return
        check = self.auth.check
        if not check.enabled or req.get_header("Authorization") is not None:
            return  # open, or the bearer token decides (AuthMiddleware)
        session = self.store.find(req.cookies.get(cookie_name(req)), check.digest)
        if session is None:
            if req.method == "GET" and is_page(req.path):
                raise falcon.HTTPSeeOther("/login")
            return  # AuthMiddleware answers 401
        if unsafe and not hmac.compare_digest(
            (req.get_header(CSRF_HEADER) or "").encode(), session.csrf.encode()
        ):
            raise api_error(
                falcon.HTTP_403, "csrf", f"missing or wrong {CSRF_HEADER}: reload the page"
            )
        req.context.session = session
        req.context.authenticated = True


def is_page(path: str) -> bool:
    return path in PAGE_PATHS or path.startswith(PAGE_PREFIXES)


def refuse_cross_site(req: falcon.Request) -> None:
    """403 for a change that a browser says another site asked for."""
    fetch_site = (req.get_header("Sec-Fetch-Site") or "").lower()
    origin = req.get_header("Origin")
    foreign = fetch_site in ("cross-site", "same-site")
    if origin is not None and not foreign:
        parts = urlsplit(origin)
        foreign = origin == "null" or parts.netloc.lower() != (req.get_header("Host") or "").lower()
    if foreign:
        raise api_error(falcon.HTTP_403, "cross_site", "a change from another site is refused")
