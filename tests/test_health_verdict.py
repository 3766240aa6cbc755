"""The rules that turn health check results into a verdict, on a clock we hold."""

from procclaw.config import HealthCheckConfig
from procclaw.rules.health_verdict import STARTUP_PROBE, HealthVerdict

CHECK = HealthCheckConfig(type="http", interval=10.0, retries=3, start_period=5.0)


def test_one_passing_check_makes_a_run_healthy_at_once_even_in_its_start_period():
    verdict = HealthVerdict(CHECK, started_at=100.0)
    assert verdict.healthy is None
    assert verdict.observe(True, None, now=101.0) is True
    assert verdict.healthy is True
    assert verdict.observe(True, None, now=111.0) is False  # no change: nothing to tell


def test_failures_in_the_start_period_do_not_count():
    verdict = HealthVerdict(CHECK, started_at=100.0)
    for now in (100.0, 101.0, 102.0, 103.0, 104.0):
        assert verdict.observe(False, "refused", now) is False
    assert verdict.failures == 0 and verdict.healthy is None


def test_retries_failures_in_a_row_make_a_healthy_run_unhealthy_and_a_pass_recovers_it():
    verdict = HealthVerdict(CHECK, started_at=0.0, healthy=True)
    assert not verdict.observe(False, "503", now=100.0)
    assert not verdict.observe(False, "503", now=110.0)
    assert verdict.observe(False, "503", now=120.0) is True
    assert (verdict.healthy, verdict.reason) == (False, "503")
    assert not verdict.observe(False, "503", now=130.0)  # told once
    assert verdict.observe(True, None, now=140.0) is True
    assert verdict.healthy is True and verdict.failures == 0


def test_a_pass_between_failures_starts_the_count_again():
    verdict = HealthVerdict(CHECK, started_at=0.0, healthy=True)
    for now, passed in ((100, False), (110, False), (120, True), (130, False), (140, False)):
        assert not verdict.observe(passed, None, float(now))
    assert verdict.healthy is True


def test_a_starting_run_is_probed_quickly_but_its_failures_count_once_per_interval():
    verdict = HealthVerdict(CHECK, started_at=0.0)
    assert verdict.next_delay() == STARTUP_PROBE
    for second in range(5, 25):  # a probe every second, after the start period
        verdict.observe(False, "refused", float(second))
    assert verdict.failures == 2 and verdict.healthy is None
    assert verdict.observe(False, "refused", 25.0) is True
    assert verdict.healthy is False
    assert verdict.next_delay() == CHECK.interval


def test_too_soon_to_tell_is_neither_a_pass_nor_a_counted_failure():
    verdict = HealthVerdict(CHECK, started_at=0.0)
    for now in (10.0, 20.0, 30.0, 40.0):
        assert verdict.observe(None, "no WATCHDOG=1 yet", now) is False
    assert (verdict.healthy, verdict.failures) == (None, 0)
    assert verdict.reason == "no WATCHDOG=1 yet"
