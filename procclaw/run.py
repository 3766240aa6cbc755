"""`Run`: one finished run of a job, as its supervisor reports it and procclaw.db keeps it."""

from __future__ import annotations

from dataclasses import dataclass

from procclaw.wire_record import WireRecord


@dataclass(frozen=True, slots=True)
class Run(WireRecord):
    """One run of a job: a process from start to exit."""

    run_id: str
    job: str
    started_at: float
    ended_at: float
    exit_code: int | None
    signal: str | None
    result: str  # completed | failed | stopped | timeout
    output: tuple[str, ...]  # its last lines

    @property
    def duration(self) -> float:
        return self.ended_at - self.started_at
