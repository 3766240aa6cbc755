"""Readers for single config values: each turns YAML data into a typed value or raises
`Invalid` with a message saying what was expected and what was found.

A bool is never a number here: YAML reads `port: yes` as true, and that is a mistake to
point out, not the integer 1.
"""

from __future__ import annotations

import math
import re
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from procclaw.secrets.references import reference_problem
from procclaw.suggest import did_you_mean

T = TypeVar("T")
Reader = Callable[[Any], T]


class Invalid(Exception):
    """A value cannot be used; the message is complete and ready for the user."""


# What a message quotes of a value: enough to find it, and the message stays one line.
SHOWN_CHARS = 60


def describe(value: Any) -> str:
    """A value as the user wrote it in YAML, for `got ...` in messages."""
    shown = _describe(value)
    if len(shown) > SHOWN_CHARS:
        return f"{shown[: SHOWN_CHARS - 10]}...{shown[-7:]} ({len(shown)} characters)"
    return shown


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def expected(what: str, value: Any) -> Invalid:
    return Invalid(f"expected {what}, got {describe(value)}")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def optional(read: Reader[T]) -> Reader[T | None]:
    """Accept null as "not set" in addition to what `read` accepts."""

    def read_optional(value: Any) -> T | None:
        return None if value is None else read(value)

    return read_optional


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise expected("true or false", value)
    return value


def string(value: Any) -> str:
    """Any string, even an empty one."""
    if not isinstance(value, str):
        raise expected("a string", value)
    return value


def text(value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise expected("a non-empty string", value)
    return value


def secret_text(value: Any) -> str:
    """A token, or `${secret:NAME}` to keep it out of the file (resolved where it is used)."""
    token = text(value)
    if problem := reference_problem(token):
        raise Invalid(problem)
    if not (token.isascii() and token.isprintable()):
        raise Invalid("must be printable ASCII: it travels in an HTTP header")
    return token


def integer(low: int, high: int) -> Reader[int]:
    """Every number has a range: one too large to send would stop the daemon, not start."""
    what = f"an integer from {low} to {high}"

    def read_integer(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise expected(what, value)
        if not low <= value <= high:
            raise expected(what, value)
        return value

    return read_integer


def number(what: str, accept: Callable[[float], bool]) -> Reader[float]:
    """A finite int or float for which `accept` is true; `what` describes the range."""

    def read_number(value: Any) -> float:
        if not is_number(value) or not math.isfinite(value) or not accept(value):
            raise expected(what, value)
        return float(value)

    return read_number


def choice(options: Sequence[str], *, ignore_case: bool = False) -> Reader[str]:
    listed = ", ".join(options)

    def read_choice(value: Any) -> str:
        if isinstance(value, str):
            wanted = value.upper() if ignore_case else value
            for option in options:
                if wanted == (option.upper() if ignore_case else option):
                    return option
            raise Invalid(f"expected one of {listed}, got {value!r}{did_you_mean(value, options)}")
        raise expected(f"one of {listed}", value)

    return read_choice


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*")
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
# A year: longer than any wait, delay or check that makes sense, and a number every
# timer can hold.
MAX_DURATION = 365 * 86400
_DURATION_HINT = "a duration of at most 365d, like 30 or '5m'"


def duration(value: Any) -> float:
    """Seconds, from 0 to MAX_DURATION: a number or a string like '250ms', '1h30m', '2d'."""
    seconds = _seconds(value)
    if seconds > MAX_DURATION:
        raise expected(_DURATION_HINT, value)
    return seconds


def _seconds(value: Any) -> float:
    if is_number(value):
        if math.isfinite(value) and value >= 0:
            return float(value)
        raise expected(_DURATION_HINT, value)
    if not isinstance(value, str):
        raise expected(_DURATION_HINT, value)
    spec = value.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", spec):
        return float(spec)
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(spec):
        if match.start() != position:
            break
        total += float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)]
        position = match.end()
    if not spec or position != len(spec):
        raise expected(_DURATION_HINT, value)
    return total


def positive_duration(value: Any) -> float:
    seconds = duration(value)
    if seconds <= 0:
        raise expected("a duration above zero like 30 or '5m'", value)
    return seconds


# Binary multiples whatever the spelling, as logrotate and supervisor read "10MB".
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?", re.IGNORECASE)
_BYTES_PER_UNIT = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MIN_LOG_BYTES = 1024
MAX_LOG_BYTES = 1024**4


def size(low: int, high: int, example: str) -> Reader[int]:
    """Bytes from `low` to `high`: an integer, or a string like '10MB', '512KiB', '1G'.

    `example` ends the message about a bad value: `like 1048576 or '10MB'`.
    """
    what = f"a size from {size_text(low)} to {size_text(high)}, like {example}"

    def read_size(value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            bytes_: float = value
        elif isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())):
            unit = (match.group(2) or "").lower()
            bytes_ = float(match.group(1)) * _BYTES_PER_UNIT[unit]  # inf beyond float's range
        else:
            raise expected(what, value)
        if not low <= bytes_ <= high:
            raise expected(what, value)
        return int(bytes_)

    return read_size


def size_text(bytes_: int) -> str:
    """A size as a person writes it: '1KiB', '512MiB', '1TiB', or bytes when uneven."""
    for unit in "tgmk":
        per_unit = _BYTES_PER_UNIT[unit]
        if bytes_ and bytes_ % per_unit == 0:
            return f"{bytes_ // per_unit}{unit.upper()}iB"
    return str(bytes_)


log_size = size(MIN_LOG_BYTES, MAX_LOG_BYTES, "1048576 or '10MB'")


_UNCATCHABLE = ("SIGKILL", "SIGSTOP")


def signal_name(value: Any) -> str:
    """A catchable signal's canonical name ('SIGTERM') from 'SIGTERM', 'TERM' or 'term'."""
    if not isinstance(value, str):
        raise expected("a signal name like SIGTERM", value)
    name = value.strip().upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if name in _UNCATCHABLE:
        raise Invalid(
            f"{name} cannot be caught, so the job gets no chance to shut down: "
            "use SIGTERM or SIGINT (SIGKILL is sent anyway after grace_period)"
        )
    known = [member.name for member in signal.Signals if member.name not in _UNCATCHABLE]
    if name not in known:
        raise Invalid(f"unknown signal {value!r}{did_you_mean(name, known)}")
    return name
