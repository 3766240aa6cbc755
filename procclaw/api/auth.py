"""Who may use the API: the bearer token check, and the Host header check.

The token is compared in constant time, as bytes: both sides are hashed with SHA-256
first, so neither the comparison's time nor its length check tells anything about the
token. A missing, empty, wrong, non-ASCII or oversized token is a 401 with a JSON body,
never an exception. `GET /health` is always open, `/metrics` when `api.auth.metrics`
is false. A browser with a dashboard session (procclaw/api/sessions.py) comes marked
`authenticated` by SessionMiddleware, which runs first.

The Host check defends against DNS rebinding: a web page whose name was re-pointed at
127.0.0.1 sends its own name as Host, and gets a 403.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import falcon

from procclaw.api.errors import api_error
from procclaw.api_token import TokenUnreadable, read_token
from procclaw.home import Home

# Longer Authorization headers are refused unread: no token of ours comes close.
MAX_AUTHORIZATION = 4096
UNAUTHORIZED = "unauthorized"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TokenCheck:
    """The expected token's digest, or why there is none (every request is then refused)."""

    enabled: bool
    digest: bytes | None = None
    problem: str | None = None
    open_metrics: bool = False

    @classmethod
    def from_settings(cls, home: Home, auth: dict[str, Any]) -> TokenCheck:
        """From the controller's `api_settings`: resolves `${secret:...}`, reads token_file."""
        open_metrics = not auth.get("metrics", True)
        if not auth.get("enabled"):
            return cls(enabled=False, open_metrics=True)
        try:
            token = read_token(home, auth.get("token"), auth.get("token_file"))
        except TokenUnreadable as exc:
            return cls(enabled=True, problem=str(exc), open_metrics=open_metrics)
        return cls(enabled=True, digest=_digest(token.encode()), open_metrics=open_metrics)

    def accepts(self, authorization: str | None) -> bool:
        if self.digest is None or not authorization or len(authorization) > MAX_AUTHORIZATION:
            return False
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        given = given.strip()
        if not given.isascii():  # WSGI hands headers over as latin-1: these are not ours
            return False
        return hmac.compare_digest(_digest(given.encode()), self.digest)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class AuthMiddleware:
    """Refuses a request without the right bearer token (unless its route is open)."""

    def __init__(self, check: TokenCheck):
        self.check = check

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        check = self.check
        if not check.enabled:
            return
        if req.path == "/health" and req.method in ("GET", "HEAD"):
            return
        if getattr(req.context, "authenticated", False):
            return
        if req.path == "/metrics" and check.open_metrics:
            return
        if check.problem is not None:
            raise api_error(falcon.HTTP_503, "unavailable", check.problem)
        if not check.accepts(req.get_header("Authorization")):
            raise api_error(
                falcon.HTTP_401,
                UNAUTHORIZED,
                "missing or wrong API token: send the header 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": 'Bearer realm="procclaw"'},
            )


class HostMiddleware:
    """Refuses a Host header that is neither the bound address nor a loopback name."""

    def __init__(self, bound_host: str):
        self._any_host = _is_wildcard(bound_host)
        self._allowed = {name.lower() for name in (*LOOPBACK_NAMES, bound_host.strip("[]"))}

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._any_host:
            return  # bound to every address: only allowed with auth, which guards instead
        header = req.get_header("Host") or ""
        if _host_name(header) not in self._allowed:
            shown = repr(header[:80]) if header else "(none)"
            raise api_error(
                falcon.HTTP_403,
                "forbidden_host",
                f"Host {shown} is not this API's address; use 127.0.0.1 or localhost",
            )


# RFC 3986's host [":" port], with the host an [IPv6] literal or a name or IPv4 address.
_HOST = re.compile(r"(?:\[(?P<literal>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.-]+))(?::[0-9]{1,5})?")


def _host_name(header: str) -> str | None:
    """`[::1]:9876` -> `::1`, `localhost:9876` -> `localhost`; None unless the whole
    header is one host and at most a port (`localhost:1@evil`, `[::1].evil` are not)."""
    match = _HOST.fullmatch(header.strip().lower())
    if match is None:
        return None
    if match["literal"] is None:
        return match["name"]
    try:
        return str(ipaddress.IPv6Address(match["literal"]))
    except ValueError:
        return None


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False
