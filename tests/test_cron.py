"""CronSchedule across DST changes, on an injected clock: no test here sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from procclaw.cron import CronSchedule


def local(zone: str, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone), fold=fold)


def fires_utc(expression: str, zone: str, start: datetime, count: int) -> list[datetime]:
    return [fire.astimezone(UTC) for fire in CronSchedule(expression, zone).upcoming(start, count)]


def at_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Fixed times of day on DST days: (zone, expression, local start, the one fire in UTC).
# "skipped" times do not exist on spring-forward day and fire at the change itself;
# "repeated" ones happen twice at fall-back and fire the first time.
SKIPPED_TIMES = [
    ("America/New_York", "30 2 * * *", (2024, 3, 9, 12), "2024-03-10T07:00"),
    ("Europe/Berlin", "30 2 * * *", (2024, 3, 30, 12), "2024-03-31T01:00"),
    ("America/Sao_Paulo", "0 0 * * *", (2018, 11, 3, 12), "2018-11-04T03:00"),
    ("Australia/Lord_Howe", "15 2 * * *", (2024, 10, 5, 12), "2024-10-05T15:30"),
]
REPEATED_TIMES = [
    ("America/New_York", "30 1 * * *", (2024, 11, 2, 12), "2024-11-03T05:30"),
    ("Europe/Berlin", "30 2 * * *", (2024, 10, 26, 12), "2024-10-27T00:30"),
    ("America/Sao_Paulo", "30 23 * * *", (2018, 2, 17, 12), "2018-02-18T01:30"),
    ("Australia/Lord_Howe", "45 1 * * *", (2024, 4, 6, 12), "2024-04-06T14:45"),
]


@pytest.mark.parametrize(("zone", "expression", "start", "change"), SKIPPED_TIMES)
def test_a_time_skipped_by_spring_forward_fires_once_at_the_change(zone, expression, start, change):
    first, second = fires_utc(expression, zone, local(zone, *start), 2)
    assert first == at_utc(change)
    assert timedelta(hours=23) <= second - first <= timedelta(hours=24)
    # The next day is back at its usual time of day.
    wall = CronSchedule(expression, zone).upcoming(local(zone, *start), 2)[1]
    assert (wall.hour, wall.minute) == tuple(int(part) for part in expression.split()[1::-1])


@pytest.mark.parametrize(("zone", "expression", "start", "first"), REPEATED_TIMES)
def test_a_time_repeated_by_fall_back_fires_once_the_first_time(zone, expression, start, first):
    fires = fires_utc(expression, zone, local(zone, *start), 2)
    assert fires[0] == at_utc(first)
    assert fires[1] - fires[0] > timedelta(hours=24)  # the repeat is not a second run


@pytest.mark.parametrize(("zone", "expression", "start", "first"), REPEATED_TIMES)
def test_a_search_starting_inside_the_repeated_hour_does_not_fire_it_again(
    zone, expression, start, first
):
    # A minute after the time's second occurrence, as after a scheduler restart.
    first_fire = at_utc(first)
    repeat = (first_fire.astimezone(ZoneInfo(zone)) + timedelta(minutes=1)).replace(fold=1)
    assert repeat.astimezone(UTC) > first_fire + timedelta(minutes=30)
    [fire] = CronSchedule(expression, zone).upcoming(repeat, 1)
    assert fire.astimezone(UTC) - first_fire > timedelta(hours=23)


TRANSITIONS = [
    ("America/New_York", (2024, 3, 10, 0, 0)),
    ("America/New_York", (2024, 11, 3, 0, 0)),
    ("Europe/Berlin", (2024, 3, 31, 1, 0)),
    ("Europe/Berlin", (2024, 10, 27, 1, 0)),
    ("America/Sao_Paulo", (2018, 2, 17, 22, 0)),
    ("America/Sao_Paulo", (2018, 11, 3, 23, 0)),
    ("Australia/Lord_Howe", (2024, 4, 7, 1, 0)),
    ("Australia/Lord_Howe", (2024, 10, 6, 1, 0)),
]


@pytest.mark.parametrize(("zone", "start"), TRANSITIONS)
def test_an_interval_fires_every_fifteen_real_minutes_through_the_change(zone, start):
    fires = fires_utc("*/15 * * * *", zone, local(zone, *start), 16)
    gaps = {later - earlier for earlier, later in zip(fires, fires[1:], strict=False)}
    assert gaps == {timedelta(minutes=15)}
    offsets = {fire.astimezone(ZoneInfo(zone)).utcoffset() for fire in fires}
    assert len(offsets) == 2  # the four hours did cross the change


def test_seconds_field_fires_every_n_seconds():
    start = datetime(2024, 3, 10, 6, 59, 50, tzinfo=UTC)  # across New York's change
    fires = fires_utc("* * * * * */5", "America/New_York", start, 4)
    assert [fire.second for fire in fires] == [55, 0, 5, 10]


def test_nicknames_and_plain_days_in_a_zone():
    berlin = "Europe/Berlin"
    assert fires_utc("@daily", berlin, local(berlin, 2024, 6, 1, 12), 1) == [
        datetime(2024, 6, 1, 22, 0, tzinfo=UTC)
    ]
    assert CronSchedule("@hourly", berlin).follows_wall_clock
    assert not CronSchedule("0 */12 * * *", berlin).follows_wall_clock


def test_a_rare_date_is_found_across_years_of_changes():
    fires = CronSchedule("0 0 29 2 *", "Europe/Berlin").upcoming(
        local("Europe/Berlin", 2024, 3, 1), 2
    )
    assert [fire.year for fire in fires] == [2028, 2032]
    assert all((fire.month, fire.day, fire.hour) == (2, 29, 0) for fire in fires)


def test_missed_fires_are_counted_up_to_a_cap_and_the_latest_found_without_a_walk():
    schedule = CronSchedule("* * * * * *", "UTC")
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    day_later = start + 86400.5
    assert schedule.count_fires(start, day_later, most=100) == 100
    assert schedule.count_fires(start, start + 3, most=100) == 3
    assert schedule.last_fire(start, day_later) == start + 86400
    assert schedule.last_fire(start, start + 0.5) is None
    yearly = CronSchedule("@yearly", "Europe/Berlin")
    assert (
        yearly.last_fire(start, day_later + 400 * 86400)
        == datetime(2025, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    )


def test_several_skipped_times_of_one_day_make_one_run_at_the_change():
    fires = fires_utc("*/15 2 * * *", "America/New_York", local("America/New_York", 2024, 3, 10), 2)
    assert fires == [at_utc("2024-03-10T07:00"), at_utc("2024-03-11T06:00")]
