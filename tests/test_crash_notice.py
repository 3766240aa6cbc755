"""Which exits are crashes and which starts are restarts, decided on plain values."""

import pytest

from procclaw.job_facts import JobExited, JobFacts
from procclaw.rules.crash_notice import is_crash, is_restart

CONTINUOUS_POLICIES = ("always", "on-failure", "never")


def exited(state: str = "running", code: int | None = 1, signal: str | None = None) -> JobExited:
    return JobExited("api", state, exit_code=code, signal=signal)


@pytest.mark.parametrize("job_type", ["manual", "scheduled", "continuous"])
@pytest.mark.parametrize("code", [0, 1, None])
def test_an_exit_that_was_asked_for_is_never_a_crash(job_type, code):
    for restart in CONTINUOUS_POLICIES:
        assert not is_crash(exited("stopping", code), job_type, restart)


@pytest.mark.parametrize("restart", CONTINUOUS_POLICIES)
def test_a_service_that_fails_or_is_killed_crashed_whatever_its_policy(restart):
    assert is_crash(exited(code=2), "continuous", restart)
    assert is_crash(exited(code=None, signal="SIGKILL"), "continuous", restart)
    assert is_crash(exited(code=78), "continuous", restart)  # EX_CONFIG fails it, but crashed


def test_a_service_exiting_0_crashed_only_when_it_is_restarted_whatever_happens():
    assert is_crash(exited(code=0), "continuous", "always")
    assert not is_crash(exited(code=0), "continuous", "on-failure")
    assert not is_crash(exited(code=0), "continuous", "never")


@pytest.mark.parametrize("job_type", ["manual", "scheduled"])
def test_a_run_crashed_when_it_ended_badly_not_when_it_finished(job_type):
    assert not is_crash(exited(code=0), job_type, "always")
    assert is_crash(exited(code=1), job_type, "always")
    assert is_crash(exited(code=None, signal="SIGSEGV"), job_type, "always")


def test_a_run_that_ended_unseen_counts_as_a_crash():
    """Its exit status went to nobody (root and supervisor both died): not asked for."""
    assert is_crash(exited(code=None), "manual", "always")


def test_a_run_started_after_a_crash_is_a_restart_and_one_started_by_hand_is_not():
    assert is_restart(JobFacts("api", "running", restarts=1))
    assert not is_restart(JobFacts("api", "running", restarts=0))
    assert not is_restart(JobFacts("api", "starting", restarts=1))
