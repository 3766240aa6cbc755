"""Who may use the API: the bearer token check, and the Host header check.

The token itself is checked by procclaw/api/token_check.py. A missing, empty, wrong,
non-ASCII or oversized token is a 401 with a JSON body, never an exception.
`GET /health` is always open, `/metrics` when `api.auth.metrics` is false. A browser
with a dashboard session (procclaw/api/sessions.py) comes marked `authenticated` by
SessionMiddleware, which runs first.

The Host check defends against DNS rebinding: a web page whose name was re-pointed at
127.0.0.1 sends its own name as Host, and gets a 403.
"""

from __future__ import annotations

import ipaddress
import re

import falcon

from procclaw.api.errors import api_error
from procclaw.api.token_check import TokenCheck

UNAUTHORIZED = "unauthorized"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


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
