"""Root's rules for restarting actors, on numbers alone: no process, no clock."""

from __future__ import annotations

from procclaw.rules.actor_restarts import (
    MISSED_HEARTBEATS,
    RESTART_DELAYS,
    STABLE_AFTER,
    STARTUP_TIMEOUT,
    RestartBackoff,
    is_hung,
    next_beat,
)


def test_an_actor_that_keeps_dying_young_waits_longer_each_time_up_to_the_last_delay():
    backoff = RestartBackoff()
    delays = [backoff.next_delay(lived=0.1) for _ in range(len(RESTART_DELAYS) + 3)]
    assert delays[0] == 0.0
    assert delays == sorted(delays)
    assert delays[-3:] == [RESTART_DELAYS[-1]] * 3


def test_an_actor_that_stayed_up_long_enough_restarts_at_once_again():
    backoff = RestartBackoff()
    for _ in range(4):
        backoff.next_delay(lived=1.0)
    assert backoff.next_delay(lived=STABLE_AFTER) == 0.0
    assert backoff.next_delay(lived=1.0) == RESTART_DELAYS[1]


def test_a_new_actor_has_its_startup_timeout_before_it_counts_as_hung():
    assert not is_hung(STARTUP_TIMEOUT, said_hello=False, heartbeat_interval=1.0)
    assert is_hung(STARTUP_TIMEOUT + 0.01, said_hello=False, heartbeat_interval=1.0)


def test_an_actor_is_hung_after_missing_its_heartbeats():
    limit = MISSED_HEARTBEATS * 5.0
    assert not is_hung(limit, said_hello=True, heartbeat_interval=5.0)
    assert is_hung(limit + 0.01, said_hello=True, heartbeat_interval=5.0)


def test_heartbeats_fall_on_shared_beats_of_the_monotonic_clock():
    # Every actor beats at the same instants, so root reads them in one wakeup.
    assert next_beat(12.3, 5.0) == 15.0
    assert next_beat(15.0, 5.0) == 20.0  # never the instant it is asked at
    assert next_beat(29.9, 30.0) == 30.0
