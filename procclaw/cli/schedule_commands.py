"""`procclaw schedule`: when a cron expression fires, from the command line.

Usage:
  procclaw schedule <cron> [--tz=ZONE] [--from=TIME] [-n N] [--json]

Options:
  --tz=ZONE     Read the expression in this time zone (default: the system's)
  --from=TIME   List the fires after this ISO 8601 time, read in ZONE when it has no
                offset (default: now)
  -n N          How many fires to list, 1 to 1000 [default: 10]
  --json        Print {"schedule", "zone", "after", "fires"} as JSON, times in ISO 8601

`schedule` computes the fires exactly as the scheduler does, DST included, and needs no
daemon.
"""

from __future__ import annotations

import json
from datetime import datetime

from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.whole_numbers import whole_number

USAGE = __doc__
MAX_FIRES = 1000  # a year of hourly fires is plenty to read; more is a typo


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    return show_schedule(
        args["<cron>"], args["--tz"], args["--from"], args["-n"], as_json=args["--json"]
    )


def show_schedule(
    expression: str, zone: str | None, start: str | None, count: str, as_json: bool = False
) -> int:
    from procclaw.config.timing import cron_schedule, time_zone
    from procclaw.config.values import Invalid
    from procclaw.cron import CronSchedule

    try:
        spec = cron_schedule(expression)
        schedule = CronSchedule(spec, time_zone(zone) if zone is not None else None)
    except Invalid as exc:
        raise CliFailure(str(exc), exit_code=2) from None
    number = _fire_count(count)
    moment = _start_time(start, schedule.zone) if start else datetime.now(schedule.zone)
    fires = schedule.upcoming(moment, number)
    if as_json:
        after = moment.astimezone(schedule.zone).isoformat()
        found = {"schedule": str(spec), "zone": schedule.zone_name, "after": after}
        print(json.dumps({**found, "fires": [fire.isoformat() for fire in fires]}, indent=2))
        return 0
    print(f"{spec} in {schedule.zone_name}, after {_describe(moment.astimezone(schedule.zone))}:")
    for fire in fires:
        print(f"  {_describe(fire)}")
    return 0


def _fire_count(text: str) -> int:
    count = whole_number(text, 1, MAX_FIRES)
    if count is None:
        raise CliFailure(f"-n expects a number of fires from 1 to {MAX_FIRES}, got '{text}'", 2)
    return count


def _start_time(text: str, zone) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliFailure(
            f"--from expects an ISO 8601 time like 2024-03-10T01:00, got '{text}'", exit_code=2
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _describe(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M:%S %Z (UTC%z)")
