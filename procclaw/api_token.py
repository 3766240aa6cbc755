"""The API's bearer token as configured: literal, `${secret:NAME}`, or `token_file`.

Read by the gateway, which checks requests against it, and by the controller, which
refuses a reload whose new token cannot be read rather than leave an API that answers
every request with a 503.
"""

from __future__ import annotations

from pathlib import Path

from procclaw.home import Home
from procclaw.secrets import SecretError, resolve_text


class TokenUnreadable(Exception):
    """Why there is no usable token; the message is for the person at the terminal."""


def read_token(home: Home, token: str | None, token_file: str | None) -> str:
    """The token's text; TokenUnreadable when it cannot be read, is empty, or not ASCII."""
    try:
        if token_file:
            text = Path(token_file).read_text().strip()
        else:
            text = resolve_text(home, token or "")
    except (SecretError, OSError, UnicodeDecodeError) as exc:
        raise TokenUnreadable(f"the API token cannot be read: {exc}") from None
    if not text:
        raise TokenUnreadable("the API token is empty")
    if not (text.isascii() and text.isprintable()):
        raise TokenUnreadable(
            "the API token has characters other than printable ASCII: a header cannot carry it"
        )
    return text
