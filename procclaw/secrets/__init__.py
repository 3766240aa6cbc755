"""Secrets: kept in the OS keyring (or a private file), referred to as `${secret:NAME}`,
resolved only at the moment they are used, and masked in everything ProcClaw shows.

For code outside the CLI: `resolve_text` expands the references in a config value
(a job's env entry, `api.auth.token`), and `mask_for` gives the mask that hides their
values in text about to be shown. Both are bounded by DAEMON_TIMEOUT, so a daemon
process never waits long on a keyring.
"""

from __future__ import annotations

from collections.abc import Iterable

from procclaw.home import Home
from procclaw.secrets.errors import SecretError, SecretNotFound
from procclaw.secrets.mask import MASK, SecretMask
from procclaw.secrets.references import expand, secret_names
from procclaw.secrets.store import SecretStore

# How long a daemon process waits for the keyring, for all of one job's secrets at once.
DAEMON_TIMEOUT = 2.0

__all__ = [
    "DAEMON_TIMEOUT",
    "MASK",
    "SecretError",
    "SecretMask",
    "SecretNotFound",
    "SecretStore",
    "mask_for",
    "resolve_secret",
    "resolve_text",
]


def resolve_secret(home: Home, name: str, timeout: float = DAEMON_TIMEOUT) -> str:
    """The value of one secret; SecretError (SecretNotFound) if it cannot be had."""
    return SecretStore(home, timeout).get(name)


def resolve_text(home: Home, text: str, timeout: float = DAEMON_TIMEOUT) -> str:
    """`text` with its `${secret:NAME}` references replaced by their values.

    `${VAR}` is left as it is: only a job's env expands variables.
    """
    names = secret_names(text)
    if not names:
        return text
    values = SecretStore(home, timeout).resolve(names)
    return expand(text, None, values)


def mask_for(home: Home, texts: Iterable[str], timeout: float = DAEMON_TIMEOUT) -> SecretMask:
    """The mask hiding the values of the secrets that `texts` refer to.

    SecretError if one of them cannot be read: the caller must then show nothing it
    would have masked.
    """
    names = list(dict.fromkeys(name for text in texts for name in secret_names(text)))
    if not names:
        return SecretMask()
    return SecretMask(SecretStore(home, timeout).resolve(names).values())
