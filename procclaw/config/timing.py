"""Readers for when a job runs: cron schedules and IANA time zones.

Both are checked here, at load time, so a typo in a schedule is reported by
`procclaw config --validate` instead of surfacing as a job that silently never runs.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from procclaw.config.values import Invalid, expected
from procclaw.cron_library import CroniterBadDateError, CroniterError, croniter
from procclaw.suggest import did_you_mean

NICKNAMES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")

_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31"),
    ("month", "1-12 or jan-dec"),
    ("day of week", "0-6 or sun-sat"),
    ("second", "0-59"),
)


def cron_schedule(value: Any) -> str:
    """A cron expression (five fields, or six with seconds last) or one of NICKNAMES,
    normalised to single spaces."""
    if not isinstance(value, str) or not value.strip():
        raise expected("a cron expression like '0 */12 * * *'", value)
    spec = " ".join(value.split())
    if spec.startswith("@"):
        if spec.lower() not in NICKNAMES:
            nicknames = ", ".join(NICKNAMES)
            raise Invalid(f"{value!r} is not a valid cron expression (use one of {nicknames})")
        return spec.lower()
    fields = spec.split(" ")
    if len(fields) not in (5, 6):
        raise Invalid(
            f"{value!r} is not a valid cron expression ({len(fields)} fields: use 5, "
            "minute hour day-of-month month day-of-week, or 6 with seconds last)"
        )
    if not croniter.is_valid(spec):
        raise Invalid(f"{value!r} is not a valid cron expression ({_bad_field(fields)})")
    try:
        croniter(spec, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise Invalid(f"{value!r} never matches a date (check day of month and month)") from None
    except CroniterError as err:
        raise Invalid(f"{value!r} is not a valid cron expression ({err})") from None
    return spec


def _bad_field(fields: list[str]) -> str:
    """Name the first field croniter rejects on its own, to point at the typo."""
    for index, (name, allowed) in enumerate(_FIELDS[: len(fields)]):
        alone = ["*"] * len(fields)
        alone[index] = fields[index]
        if not croniter.is_valid(" ".join(alone)):
            return f"{name} must be {allowed}"
    return "the fields do not combine"


def time_zone(value: Any) -> str:
    """An IANA time zone name that this system knows, such as 'America/Sao_Paulo'."""
    if not isinstance(value, str) or not value:
        raise expected("a time zone name like 'Europe/Berlin'", value)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        known = zoneinfo.available_timezones()
        by_folded_case = {name.lower(): name for name in known}
        if value.lower() in by_folded_case:
            hint = f" (did you mean '{by_folded_case[value.lower()]}'?)"
        else:
            hint = did_you_mean(value, known)
        raise Invalid(f"unknown time zone {value!r}{hint}") from None
    return value
