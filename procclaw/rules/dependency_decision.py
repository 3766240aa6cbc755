"""Whether a job held back by its dependencies starts now, waits, or fails, and why.

The controller gathers where each requirement's target stands and passes the time in;
the decision reads nothing else, and the controller carries it out (the dependency gate
in actors/controller/).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from procclaw.dependency_graph import COMPLETED, Requirement


class Standing(Enum):
    HOLDS = "holds"
    PENDING = "pending"
    FAILED = "failed"


def standing(requirement: Requirement, state: str, ready: bool) -> Standing:
    """Where a requirement stands, from its target's `state` and, when it is running,
    whether it is `ready` (notified, and healthy when a check says readiness)."""
    if state == "failed":
        return Standing.FAILED
    if requirement.needs == COMPLETED:
        return Standing.HOLDS if state == "completed" else Standing.PENDING
    return Standing.HOLDS if state == "running" and ready else Standing.PENDING


@dataclass(frozen=True, slots=True)
class Check:
    """One requirement of the waiting job, where it stands, and its target's reason."""

    requirement: Requirement
    standing: Standing
    target_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Start:
    """Every requirement holds: start the job now."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait, saying `reason`, and decide again at `until` if nothing happens before."""

    reason: str
    until: float


@dataclass(frozen=True, slots=True)
class Fail:
    """A requirement failed or ran out of time: the job fails with `reason`."""

    reason: str


Decision = Start | Wait | Fail


def decide(checks: Sequence[Check], since: float, now: float) -> Decision:
    """The decision for a job that has waited since `since`, at `now`."""
    unmet = [check for check in checks if check.standing is not Standing.HOLDS]
    if not unmet:
        return Start()
    for check in unmet:
        if check.standing is Standing.FAILED:
            because = f": {check.target_reason}" if check.target_reason else ""
            return Fail(f"dependency '{check.requirement.target}' failed{because}")
    requirements = [check.requirement for check in unmet]
    overdue = [req for req in requirements if since + req.timeout <= now]
    if overdue:
        first = overdue[0]
        return Fail(f"dependency timeout: {first.describe()} within {first.timeout:g} s")
    reason = "waiting for " + ", ".join(req.describe() for req in requirements)
    return Wait(reason, since + min(req.timeout for req in requirements))
