"""`${secret:NAME}` and `${VAR}` in config values: checking them and expanding them.

A reference only names a secret. Its value is looked up when a job is spawned (or the
gateway starts), so the config files, the database and every message carry the name,
never the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SECRET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
SECRET_NAME_RULE = (
    "use letters, digits, '_', '-' and '.' (at most 128, not starting with '-' or '.')"
)

_OPENING = "${secret:"
# One pattern for both kinds, so one pass expands them and a secret's value is never
# itself searched for references.
_REFERENCE = re.compile(r"\$\{(?:secret:(?P<secret>[^}]*)|(?P<variable>[A-Za-z_][A-Za-z0-9_]*))\}")


class MissingSecret(KeyError):
    """A value refers to a secret that `expand` was not given."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"secret '{self.name}' not found"


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a secret, or None if it can."""
    if SECRET_NAME.fullmatch(name):
        return None
    return f"'{name}' is not a valid secret name: {SECRET_NAME_RULE}"


def reference_problem(text: str) -> str | None:
    """What is wrong with the `${secret:...}` references in `text`, or None."""
    names = secret_names(text)
    for name in names:
        if problem := name_problem(name):
            return f"in {_OPENING}{name}}}: {problem}"
    if text.count(_OPENING) > len(names):
        return f"a {_OPENING}...}} reference is not closed: add the '}}'"
    return None


def secret_names(text: str) -> list[str]:
    """The secrets `text` refers to, in order, each once."""
    found = (match.group("secret") for match in _REFERENCE.finditer(text))
    return list(dict.fromkeys(name for name in found if name is not None))


def expand(text: str, variables: Mapping[str, str] | None, secrets: Mapping[str, str]) -> str:
    """`text` with each `${secret:NAME}` from `secrets` (MissingSecret if absent) and
    each `${VAR}` from `variables` ('' if unset; left as written if `variables` is None)."""

    def value(match: re.Match[str]) -> str:
        name = match.group("secret")
        if name is None:
            if variables is None:
                return match.group(0)
            return variables.get(match.group("variable"), "")
        if name not in secrets:
            raise MissingSecret(name)
        return secrets[name]

    return _REFERENCE.sub(value, text)
