"""WallClockAlarm: a timerfd that turns readable at a wall-clock time, not before."""

from __future__ import annotations

import select
import time

from actors.wall_clock_alarm import WallClockAlarm


def test_the_alarm_rings_at_its_wall_time_and_not_before():
    alarm = WallClockAlarm()
    try:
        when = time.time() + 0.2
        alarm.set(when, time.time())
        assert alarm.read() is None  # not yet
        readable, _, _ = select.select([alarm.fd], [], [], 10)
        assert readable and time.time() >= when
        assert alarm.read() == "due"
        assert alarm.read() is None  # once
    finally:
        alarm.close()


def test_an_alarm_with_nothing_due_stays_quiet_and_a_past_time_rings_at_once():
    alarm = WallClockAlarm()
    try:
        alarm.set(None, time.time())
        assert select.select([alarm.fd], [], [], 0.1)[0] == []
        alarm.set(time.time() - 5, time.time())
        assert select.select([alarm.fd], [], [], 10)[0] == [alarm.fd]
        assert alarm.read() == "due"
    finally:
        alarm.close()
