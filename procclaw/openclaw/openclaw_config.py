"""Reading OpenClaw's own config file, openclaw.json (workspace.py says where it is).

OpenClaw reads it as JSON5 (what `openclaw onboard` writes is plain JSON, but a
hand-edited file may carry comments, trailing commas and unquoted keys), so ProcClaw
reads it the same way. `$include` directives and `${VAR}` references are not resolved.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Far above any real openclaw.json (a few KiB), and small enough for the JSON5 parser.
MAX_CONFIG_BYTES = 1 << 20

_PARSER_PLACE = re.compile(r"^<string>:(?P<line>\d+) ")


class UnreadableOpenClawConfig(Exception):
    """openclaw.json exists but gives no settings: the reason is one line."""


def read_openclaw_config(path: Path) -> dict[str, Any]:
    """The file's top-level object.

    Raises FileNotFoundError when there is no file (OpenClaw is not set up), and
    UnreadableOpenClawConfig when it cannot be read or is not a JSON5 object.
    """
    try:
        with path.open("rb") as config:
            data = config.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableOpenClawConfig(exc.strerror or str(exc)) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UnreadableOpenClawConfig("larger than 1 MiB")
    # Imported here: the alerter, in every daemon's image, reads this only once OpenClaw
    # is set up (half a MiB of parser for everyone else).
    import json5

    try:
        config = json5.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UnreadableOpenClawConfig("not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise UnreadableOpenClawConfig(f"not JSON5: {_parser_message(exc)}") from None
    if not isinstance(config, dict):
        raise UnreadableOpenClawConfig("not a JSON5 object")
    return config


def _parser_message(exc: Exception) -> str:
    """`<string>:3 Unexpected "}" at column 8` as `line 3: unexpected "}" at column 8`."""
    if isinstance(exc, RecursionError):
        return "nested too deep"
    first_line = (str(exc).splitlines() or ["no detail"])[0]
    place = _PARSER_PLACE.match(first_line)
    if place is None:
        return first_line
    rest = first_line[place.end() :]
    return f"line {place['line']}: {rest[:1].lower()}{rest[1:]}"
