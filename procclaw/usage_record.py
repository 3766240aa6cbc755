"""A job's usage as it travels from its supervisor to the controller, checked there.

The supervisor measures (actors/supervisor/usage_sampler.py) and answers `usage` with
one JobUsage per job; the controller checks each where it enters (`checked_usage`) and
answers the views with plain maps of the same fields (procclaw/job_usage.py), so a
view does not import dataclasses to show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procclaw.wire_record import RecordError, WireRecord


@dataclass(frozen=True, slots=True)
class JobUsage(WireRecord):
    """One measure of one job's process tree."""

    cpu: float | None  # percent of one core over `cpu_window` (None: nothing to divide by)
    cpu_seconds: float  # user + system time of the tree, its reaped children's included
    memory: int  # RSS of the tree, bytes
    memory_pss: int | None  # PSS of the tree, where /proc tells it
    processes: int
    # Seconds the percent is over: since the run's measure before, or since it started.
    cpu_window: float | None = None


def checked_usage(answer: Any) -> dict[str, dict[str, Any]]:
    """A supervisor's `usage` answer, `{job: usage}`, each usage checked as a JobUsage;
    RecordError if any is not one."""
    if not isinstance(answer, dict):
        raise RecordError(JobUsage, f"not a map of jobs but {type(answer).__name__}")
    return {str(job): JobUsage.from_wire(usage).to_wire() for job, usage in answer.items()}
