"""What the controller is told: a supervisor's job facts and finished runs, and the
health actor's verdicts. One record per kind, sent as `{kind, ...its fields}` in a
`report {reports: [...]}` and checked when it reaches the controller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procclaw.job_facts import JobFacts
from procclaw.protocol import ErrorCode, ProtocolError
from procclaw.run import Run
from procclaw.wire_record import WireRecord


@dataclass(frozen=True, slots=True)
class HealthReport(WireRecord):
    """A run's health verdict; also the data of `job.<id>.health`."""

    job: str
    run_id: str | None
    healthy: bool
    reason: str | None = None


Report = JobFacts | Run | HealthReport

_KINDS: dict[str, type[WireRecord]] = {"state": JobFacts, "run": Run, "health": HealthReport}
_KIND_OF = {record: kind for kind, record in _KINDS.items()}


def report_to_wire(report: Report) -> dict[str, Any]:
    return {"kind": _KIND_OF[type(report)], **report.to_wire()}


def report_from_wire(data: Any) -> Report:
    """The report in `data`; ProtocolError if it is none."""
    kind = data.get("kind") if isinstance(data, dict) else None
    record = _KINDS.get(kind) if isinstance(kind, str) else None
    if record is None:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"not a report: kind {kind!r}")
    return record.from_wire({key: value for key, value in data.items() if key != "kind"})
