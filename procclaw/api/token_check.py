"""The bearer token the API expects, as a digest: built from the settings, checked per request.

The token is compared in constant time, as bytes: both sides are hashed with SHA-256
first, so neither the comparison's time nor its length check tells anything about the
token. Kept apart from the web code (procclaw/api/auth.py), so that the gateway reads
its settings, and says what is wrong with them, before it has loaded Falcon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procclaw.api_token import TokenUnreadable, read_token
from procclaw.home import Home
from procclaw.lean_hashes import compare_digest, sha256

# Longer Authorization headers are refused unread: no token of ours comes close.
MAX_AUTHORIZATION = 4096


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
        return compare_digest(_digest(given.encode()), self.digest)


def _digest(data: bytes) -> bytes:
    return sha256(data).digest()
