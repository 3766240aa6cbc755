"""`CronSchedule`: when a cron expression fires in a time zone, exactly once across DST.

croniter alone, given zone-aware times, fires a time that happens twice at fall-back
twice. So croniter here only ever sees wall-clock times without a zone, and this module
maps them to real instants itself, one stretch of constant UTC offset at a time:

- A schedule with a fixed hour (`30 2 * * *`) is a time of day. A time that does not
  exist on spring-forward day fires once, at the first valid instant after it (the
  moment of the change); a time that happens twice at fall-back fires once, the first
  time.
- A schedule whose hour field is `*` (`*/15 * * * *`, `0 * * * *`, `* * * * * */5`) is
  an interval: it fires whenever the wall clock reads a matching time, so it keeps its
  real spacing straight through both changes, as cron does for such jobs.

Everything takes the current time as an argument (no clock is read here), so the
scheduler, `procclaw schedule` and the tests share one code path.
"""

from __future__ import annotations

import math
import os
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

from procclaw.cron_library import croniter

# What the nicknames mean, so that they are classified like the expressions they stand for.
NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# A fall-back never moves the clock back further than this (2 h is the largest in use).
_LONGEST_SHIFT = 3 * 3600
# Offsets change at most a few times a year: a probe every 6 h cannot miss one.
_PROBE_STEP = 6 * 3600
# How many offset changes a search may cross (decades of DST) before it gives up.
_MAX_CHANGES = 200
_EPOCH = datetime(1970, 1, 1)
_LOOKBACK_WINDOWS = (60.0, 3600.0, 86400.0, 32 * 86400.0, 367 * 86400.0)


class ScheduleError(Exception):
    """The expression never fires (a date that never comes)."""


def zone_named(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone called `name`, or the system's zone when `name` is None."""
    if name:
        return zoneinfo.ZoneInfo(name)
    return system_zone()


def system_zone() -> zoneinfo.ZoneInfo:
    """The system's zone: $TZ, else what /etc/localtime points to, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        candidates.append(target.partition("zoneinfo/")[2])
    for name in candidates:
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return zoneinfo.ZoneInfo("UTC")


class CronSchedule:
    """A cron expression (5 fields, or 6 with seconds last) read in one time zone."""

    def __init__(self, expression: str, zone: str | None = None):
        self.expression = expression
        self._spec = NICKNAMES.get(expression.lower(), expression)
        self.zone = zone_named(zone)
        self.zone_name = self.zone.key
        self.follows_wall_clock = self._spec.split()[1] == "*"

    # ---- public --------------------------------------------------------------------

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        """The next `count` fires after `moment`."""
        fires, after = [], moment.timestamp()
        for _ in range(count):
            after = self.next_timestamp(after)
            fires.append(self._as_datetime(after))
        return fires

    def next_timestamp(self, after: float) -> float:
        """The first fire strictly after the POSIX time `after`, as a POSIX time."""
        offset = self._offset(after)
        start_wall, inclusive = _wall(after, offset), False
        if not self.follows_wall_clock:
            start_wall, inclusive = self._past_repeated_hour(after, start_wall)
        for _ in range(_MAX_CHANGES):
            wall = self._first_wall(start_wall, inclusive)
            candidate = _instant(wall, offset)
            change = self._next_change(after, candidate)
            if change is None:
                return candidate
            new_offset = self._offset(change)
            if self.follows_wall_clock:
                start_wall = _wall(change, new_offset)
            elif new_offset > offset:
                if wall < _wall(change, new_offset):
                    return change  # a time skipped by spring-forward: the first one after it
                start_wall = _wall(change, new_offset)
            else:
                start_wall = _wall(change, offset)  # the repeated hour had its turn
            after, offset, inclusive = change, new_offset, True
        raise ScheduleError(f"'{self.expression}' does not fire in the foreseeable future")

    def count_fires(self, start: float, end: float, most: int) -> int:
        """How many fires fall in (start, end], counting no further than `most`."""
        count, after = 0, start
        while count < most:
            after = self.next_timestamp(after)
            if after > end:
                break
            count += 1
        return count

    def last_fire(self, start: float, end: float) -> float | None:
        """The latest fire in (start, end], looking back from `end` a widening window
        at a time rather than walking every fire since `start`."""
        for window in (*_LOOKBACK_WINDOWS, end - start):
            begin = max(start, end - window)
            latest, after = None, begin
            while (fire := self.next_timestamp(after)) <= end:
                latest = after = fire
            if latest is not None or begin == start:
                return latest
        return None

    # ---- offsets ---------------------------------------------------------------------

    def _as_datetime(self, timestamp: float) -> datetime:
        return datetime.fromtimestamp(timestamp, self.zone)

    def _offset(self, timestamp: float) -> float:
        offset = datetime.fromtimestamp(timestamp, self.zone).utcoffset()
        return offset.total_seconds() if offset is not None else 0.0

    def _next_change(self, start: float, end: float) -> float | None:
        """The first instant in (start, end] whose offset differs from start's."""
        base = self._offset(start)
        low = start
        while low < end:
            high = min(low + _PROBE_STEP, end)
            if self._offset(high) != base:
                # Offsets change on whole seconds: bisect down to the second.
                before, after = math.floor(low), math.ceil(high)
                while after - before > 1:
                    middle = (before + after) // 2
                    if self._offset(middle) == base:
                        before = middle
                    else:
                        after = middle
                return float(after)
            low = high
        return None

    def _past_repeated_hour(self, after: float, wall: datetime) -> tuple[datetime, bool]:
        """Where a time-of-day search starts: past the wall times a fall-back repeats."""
        change = self._next_change(after - _LONGEST_SHIFT, after)
        if change is not None:
            old_offset, new_offset = self._offset(change - 1), self._offset(change)
            end_of_old = _wall(change, old_offset)
            if new_offset < old_offset and wall < end_of_old:
                return end_of_old, True
        return wall, False

    def _first_wall(self, start: datetime, inclusive: bool) -> datetime:
        """The first matching wall time after `start` (or at it, when inclusive)."""
        if inclusive:
            start -= timedelta(seconds=1)
        return croniter(self._spec, start).get_next(datetime)


def _wall(timestamp: float, offset: float) -> datetime:
    return _EPOCH + timedelta(seconds=timestamp + offset)


def _instant(wall: datetime, offset: float) -> float:
    return (wall - _EPOCH).total_seconds() - offset
