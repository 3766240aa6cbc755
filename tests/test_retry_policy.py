"""Restart delays for each retry policy, on an injected random source (no sleeping)."""

import random

import pytest

from procclaw.config import parse_config
from procclaw.rules.retry import RetryPolicy


def _policy(retry_yaml: str, seed: int = 1) -> RetryPolicy:
    config = parse_config(None, f"jobs:\n  a:\n    cmd: x\n    retry: {retry_yaml}\n")
    return RetryPolicy.from_config(config.jobs[0].retry, random.Random(seed))


def test_webhook_waits_0_30s_5m_15m_1h_then_gives_up():
    policy = _policy("{preset: webhook}")
    assert [policy.delay(n) for n in range(1, 7)] == [0, 30, 300, 900, 3600, None]


def test_a_custom_list_gives_up_after_its_last_delay_unless_told_otherwise():
    assert [_policy("{delays: [1, 2]}").delay(n) for n in (1, 2, 3)] == [1, 2, None]
    longer = _policy("{delays: [1, 2], max_attempts: 4}")
    assert [longer.delay(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 2, None]


def test_fixed_waits_the_same_every_time_without_limit():
    policy = _policy("{preset: fixed, delay: 7}")
    assert {policy.delay(n) for n in range(1, 500)} == {7}


def test_exponential_doubles_up_to_its_cap():
    policy = _policy("{preset: exponential, initial: 1, factor: 2, max_delay: 10, jitter: 0}")
    assert [policy.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_jitter_stays_within_its_fraction_and_varies():
    policy = _policy("{preset: exponential, initial: 10, factor: 2, max_delay: 10, jitter: 0.2}")
    delays = [policy.delay(5) for _ in range(200)]
    assert all(8 <= d <= 12 for d in delays)
    assert len(set(delays)) > 100


@pytest.mark.parametrize("uptime", [59.9, 60.0])
def test_a_run_that_lasted_reset_after_starts_the_count_over(uptime):
    assert _policy("{preset: webhook}").recovered(uptime) is (uptime >= 60)


def test_none_never_restarts():
    assert _policy("{preset: none}").delay(1) is None


def test_exponential_backoff_stays_at_its_cap_after_days_of_failures():
    """The exponent would overflow a float after about 1,000 attempts (155 with a
    factor of 100): the delay stays at max_delay instead."""
    policy = _policy("{preset: exponential, initial: 1, factor: 100, max_delay: 300, jitter: 0}")
    assert [policy.delay(attempt) for attempt in (2, 155, 5000)] == [100, 300, 300]
