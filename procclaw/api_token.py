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


def exposure(home: Home, token: str | None, token_file: str | None) -> str | None:
    """A warning when other users can read the token: a literal one in a config file,
    or a token file, that is readable by group or others; None when it is private."""
    if token_file:
        holder = Path(token_file)
    elif token and "${secret:" not in token:
        holder = home.config_file
    else:
        return None
    try:
        readable_by_others = holder.stat().st_mode & 0o044
    except OSError:
        return None  # not there to read: validation or the reload says so
    if not readable_by_others:
        return None
    return (
        f"warning: {holder} holds the API token and other users can read it:"
        f" `chmod 600 {holder}`, or keep the token in the keyring (`procclaw secret set`)"
    )
