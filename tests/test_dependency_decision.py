"""The dependency decision on facts and a given time: no daemon, no clock."""

from __future__ import annotations

import pytest

from procclaw.dependency_graph import COMPLETED, READY, Requirement
from procclaw.rules.dependency_decision import (
    Check,
    Fail,
    Standing,
    Start,
    Wait,
    decide,
    standing,
)

DB = Requirement("db", READY, 30.0)
MIGRATE = Requirement("migrate", COMPLETED, 10.0)


@pytest.mark.parametrize(
    ("requirement", "state", "ready", "expected"),
    [
        (DB, "running", True, Standing.HOLDS),
        (DB, "running", False, Standing.PENDING),  # not notified or not healthy yet
        (DB, "starting", True, Standing.PENDING),
        (DB, "completed", True, Standing.PENDING),
        (DB, "failed", False, Standing.FAILED),
        (MIGRATE, "completed", False, Standing.HOLDS),
        (MIGRATE, "running", True, Standing.PENDING),
        (MIGRATE, "failed", False, Standing.FAILED),
    ],
)
def test_a_requirement_stands_by_its_targets_state_and_readiness(
    requirement, state, ready, expected
):
    assert standing(requirement, state, ready) is expected


def test_a_job_whose_requirements_all_hold_starts():
    checks = [Check(DB, Standing.HOLDS), Check(MIGRATE, Standing.HOLDS)]
    assert decide(checks, since=100.0, now=100.0) == Start()
    assert decide([], since=100.0, now=100.0) == Start()


def test_a_job_waits_until_its_earliest_deadline_naming_what_it_waits_for():
    checks = [Check(DB, Standing.PENDING), Check(MIGRATE, Standing.PENDING)]
    decision = decide(checks, since=100.0, now=105.0)
    assert decision == Wait("waiting for 'db' to be ready, 'migrate' to be completed", until=110.0)


def test_only_the_unmet_requirements_are_named_and_timed():
    checks = [Check(DB, Standing.PENDING), Check(MIGRATE, Standing.HOLDS)]
    assert decide(checks, since=100.0, now=100.0) == Wait("waiting for 'db' to be ready", 130.0)


def test_a_requirement_past_its_timeout_fails_the_job():
    checks = [Check(DB, Standing.PENDING), Check(MIGRATE, Standing.PENDING)]
    assert decide(checks, since=100.0, now=110.0) == Fail(
        "dependency timeout: 'migrate' to be completed within 10 s"
    )


def test_a_failed_target_fails_the_job_with_its_reason_before_any_timeout():
    checks = [Check(DB, Standing.PENDING), Check(MIGRATE, Standing.FAILED, "exit code 3")]
    assert decide(checks, since=100.0, now=500.0) == Fail(
        "dependency 'migrate' failed: exit code 3"
    )
    assert decide([Check(DB, Standing.FAILED)], 100.0, 100.0) == Fail("dependency 'db' failed")
