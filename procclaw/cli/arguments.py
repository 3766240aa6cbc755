"""Checking the numbers given on the command line, with the option named in the error."""

from __future__ import annotations

from procclaw.cli.errors import CliFailure
from procclaw.whole_numbers import whole_number


def seconds(value: str, option: str) -> float:
    """A positive number of seconds."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number <= 0:
        raise CliFailure(f"{option} expects a positive number of seconds, got '{value}'")
    return number


def line_count(value: str, option: str = "-n") -> int:
    """A number of lines, zero or more."""
    count = whole_number(value)
    if count is None:
        raise CliFailure(f"{option} expects a number of lines, got '{value}'")
    return count
