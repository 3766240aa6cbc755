"""What follows a run's exit, decided on plain values (no process, no clock)."""

import random

from procclaw.config import RetryConfig
from procclaw.rules.after_exit import EX_CONFIG, QUICK_EXITS, AfterExit, NextStep
from procclaw.rules.retry import RetryPolicy
from procclaw.states import JobState

CRASH = "exit code 1"


def _after_exit(continuous: bool = True, restart: str = "always", **config) -> AfterExit:
    policy = RetryPolicy.from_config(RetryConfig(**config), random.Random(1))
    return AfterExit(policy, continuous, restart)


def test_a_service_that_crashes_backs_off_by_its_policy_and_counts_the_restart():
    after = _after_exit(delays=(0.0, 30.0), max_attempts=2)
    assert after.decide(False, 1, 1.0, CRASH, None) == NextStep(JobState.BACKOFF, None, 0.0)
    assert after.decide(False, 1, 1.0, CRASH, None) == NextStep(JobState.BACKOFF, None, 30.0)
    assert (after.attempt, after.restarts) == (2, 2)


def test_a_service_gives_up_when_its_policy_does_and_says_why():
    after = _after_exit(delays=(5.0,), max_attempts=1)
    after.decide(False, 1, 1.0, CRASH, None)
    step = after.decide(False, 1, 1.0, CRASH, None)
    assert step == NextStep(JobState.FAILED, f"gave up after 1 restarts; last: {CRASH}", None)


def test_a_run_that_lasted_reset_after_starts_the_attempt_count_over():
    after = _after_exit(delays=(1.0, 2.0, 3.0), max_attempts=3, reset_after=60.0)
    after.decide(False, 1, 1.0, CRASH, None)
    after.decide(False, 1, 1.0, CRASH, None)
    assert after.decide(False, 1, 61.0, CRASH, None).start_in == 1.0
    assert (after.attempt, after.restarts) == (1, 3)


def test_a_one_shot_job_completes_on_exit_zero_and_fails_otherwise():
    assert _after_exit(False).decide(False, 0, 1.0, "exit code 0", "old") == NextStep(
        JobState.COMPLETED, None, None
    )
    assert _after_exit(False).decide(False, 1, 1.0, CRASH, None) == NextStep(
        JobState.FAILED, CRASH, None
    )


def test_a_queued_run_starts_once_the_run_before_it_ends():
    after = _after_exit(False)
    after.queued = True
    assert after.decide(False, 0, 1.0, "exit code 0", None).start_in == 0.0
    assert not after.queued
    assert after.decide(False, 0, 1.0, "exit code 0", None).start_in is None


def test_a_stop_rests_the_job_unless_a_restart_was_asked():
    assert _after_exit().decide(True, None, 1.0, "killed by SIGTERM", "r") == NextStep(
        JobState.STOPPED, "r", None
    )
    after = _after_exit()
    after.then_start = after.queued = True
    assert after.decide(True, None, 1.0, "killed by SIGTERM", None).start_in == 0.0
    assert not (after.then_start or after.queued)


def test_a_run_stopped_for_max_runtime_fails_and_a_queued_run_still_starts():
    after = _after_exit(False)
    after.timed_out = after.queued = True
    assert after.run_result(True, None) == "timeout"
    step = after.decide(True, None, 9.0, "killed by SIGTERM", "timed out")
    assert step == NextStep(JobState.FAILED, "timed out", 0.0)
    assert not (after.timed_out or after.queued)
    assert after.run_result(True, None) == "stopped"


def test_an_unhealthy_service_is_retried_through_its_policy_as_if_it_had_crashed():
    after = _after_exit(delays=(2.0,), max_attempts=1)
    after.then_retry = "no answer on port 80"
    assert after.decide(True, None, 1.0, "killed by SIGTERM", None) == NextStep(
        JobState.BACKOFF, None, 2.0
    )
    assert after.then_retry is None
    after.then_retry = "no answer on port 80"
    step = after.decide(True, None, 1.0, "killed by SIGTERM", None)
    assert step.reason == "gave up after 1 restarts; last: unhealthy: no answer on port 80"


def test_an_unhealthy_one_shot_job_fails_with_the_health_check_s_reason():
    after = _after_exit(False)
    after.then_retry = "watchdog silent"
    assert after.decide(True, 0, 1.0, "exit code 0", None) == NextStep(
        JobState.FAILED, "unhealthy: watchdog silent", None
    )


def test_a_stop_forgets_every_wish_for_what_comes_next():
    after = _after_exit()
    after.then_start = after.queued = True
    after.then_retry = "x"
    after.forget_wishes()
    assert after.wishes() == {
        "then_start": False,
        "then_retry": None,
        "queued": False,
        "timed_out": False,
    }


def test_a_crash_loop_backs_off_even_with_delay_zero_and_says_why():
    """As systemd's StartLimitBurst: five quick exits in a row, then a growing wait."""
    after = _after_exit(kind="fixed", delay=0.0, max_attempts=None)
    waits = [after.decide(False, 1, 0.01, CRASH, None).start_in for _ in range(QUICK_EXITS + 6)]
    assert waits == [0.0] * (QUICK_EXITS - 1) + [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    step = after.decide(False, 1, 0.01, CRASH, None)
    assert step.reason == (
        "crash loop: exited within 1 s of starting 12 times in a row; next start in 30 s"
    )
    for _ in range(2000):  # hours of looping: the wait stays at its cap
        step = after.decide(False, 1, 0.01, CRASH, None)
    assert step.start_in == 30.0


def test_a_run_that_outlives_a_quick_exit_ends_the_crash_loop():
    after = _after_exit(kind="fixed", delay=0.0, max_attempts=None)
    for _ in range(QUICK_EXITS):
        after.decide(False, 1, 0.01, CRASH, None)
    assert after.decide(False, 1, 5.0, CRASH, None) == NextStep(JobState.BACKOFF, None, 0.0)
    assert after.decide(False, 1, 0.01, CRASH, None).start_in == 0.0


def test_a_policy_that_waits_longer_than_the_crash_loop_floor_keeps_its_wait():
    after = _after_exit(kind="fixed", delay=60.0, max_attempts=None)
    steps = [after.decide(False, 1, 0.01, CRASH, None) for _ in range(QUICK_EXITS + 2)]
    assert {step.start_in for step in steps} == {60.0}
    assert {step.reason for step in steps} == {None}


def test_on_failure_ends_a_clean_exit_completed_and_retries_a_failure_or_a_signal():
    after = _after_exit(restart="on-failure", delays=(2.0,), max_attempts=None)
    assert after.decide(False, 3, 5.0, "exit code 3", None) == NextStep(JobState.BACKOFF, None, 2.0)
    assert after.decide(False, None, 5.0, "killed by SIGKILL", None).state == JobState.BACKOFF
    assert after.decide(False, 0, 5.0, "exit code 0", None) == NextStep(
        JobState.COMPLETED, None, None
    )


def test_on_failure_retries_a_run_stopped_as_unhealthy_even_if_it_exits_zero():
    after = _after_exit(restart="on-failure", delays=(2.0,), max_attempts=None)
    after.retry_as_unhealthy("no heartbeat for 30 s")
    assert after.decide(True, 0, 5.0, "exit code 0", None).state == JobState.BACKOFF


def test_never_restarts_a_continuous_job_and_records_how_it_ended():
    after = _after_exit(restart="never")
    assert after.decide(False, 0, 5.0, "exit code 0", None).state == JobState.COMPLETED
    assert after.decide(False, 1, 5.0, CRASH, None) == NextStep(JobState.FAILED, CRASH, None)


def test_ex_config_fails_a_service_at_once_with_the_reason():
    after = _after_exit(delays=(0.0,), max_attempts=None)
    step = after.decide(False, EX_CONFIG, 0.2, "exit code 78", None)
    assert step == NextStep(
        JobState.FAILED,
        "exit code 78: its configuration is wrong (EX_CONFIG); restarting will not help",
        None,
    )


def test_a_start_by_hand_begins_the_counts_afresh():
    after = _after_exit(kind="fixed", delay=0.0, max_attempts=None)
    for _ in range(QUICK_EXITS + 2):
        after.decide(False, 1, 0.01, CRASH, None)
    after.reset_counts()
    assert (after.attempt, after.restarts, after.quick_exits) == (0, 0, 0)
    assert after.decide(False, 1, 0.01, CRASH, None).start_in == 0.0
