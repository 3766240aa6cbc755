"""The wall-clock alarm of each platform (a timerfd on Linux, a thread elsewhere): it
turns readable at a wall-clock time, not before.

The machine's clock may be stepped while a test runs (it was, once, in CI): the alarm
then rightly rings with "clock set", and the test arms it again, as the scheduler does.
"""

from __future__ import annotations

import select
import time

import pytest

from procclaw.platform import WallClockAlarm
from procclaw.platform.linux import LinuxPlatform
from procclaw.platform.portable import PortablePlatform


@pytest.fixture(params=[LinuxPlatform, PortablePlatform], ids=["linux", "portable"])
def alarm(request):
    alarm = request.param().wall_clock_alarm()
    yield alarm
    alarm.close()


def _ring(alarm: WallClockAlarm, when: float) -> str | None:
    """What the alarm says when it next rings for `when`, clock changes set aside."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if select.select([alarm.fd], [], [], 10)[0]:
            reason = alarm.read()
            if reason != "clock set":
                return reason
            alarm.set(when, time.time())
    return None


def test_the_alarm_rings_at_its_wall_time_and_not_before(alarm):
    when = time.time() + 0.2
    alarm.set(when, time.time())
    assert alarm.read() in (None, "clock set")  # not due yet
    alarm.set(when, time.time())
    assert _ring(alarm, when) == "due"
    assert time.time() >= when
    assert alarm.read() is None  # once


def test_an_alarm_with_nothing_due_stays_quiet_and_a_past_time_rings_at_once(alarm):
    alarm.set(None, time.time())
    if select.select([alarm.fd], [], [], 0.1)[0]:
        assert alarm.read() == "clock set"  # the only reason it may ring
    when = time.time() - 5
    alarm.set(when, time.time())
    assert _ring(alarm, when) == "due"
