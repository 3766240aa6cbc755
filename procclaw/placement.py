"""The record that places a job in a supervisor, from the controller through root.

The controller sends root `supervise {placements: [...]}`; root keeps each one with the
job's pipes and hands it to the supervisor in a `take` (actors/runtime/supervisor_channel.py);
a replacement supervisor gets the same record with `resume` set to the facts its
predecessor last told root. One definition, checked where it enters a process.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from procclaw.job_facts import HeldFacts
from procclaw.wire_record import WireRecord


@dataclass(frozen=True, slots=True)
class Placement(WireRecord):
    job: str
    supervisor: str  # the actor that holds it
    config: dict[str, Any]  # the job's config in wire form (procclaw/config/job_wire.py)
    generation: int  # which placement of the job this is: older reports are ignored
    isolated: bool = False  # a supervisor of its own, gone once the job is at rest
    stop_after: tuple[str, ...] = ()  # at daemon stop, these jobs stop before this one
    last_exit: str | None = None
    resume: HeldFacts | None = None  # a dead holder's last facts: carry on from these
    cause: str = ""  # why it is started (procclaw/run.py CAUSES); a resumed run keeps its own

    def resumed(self, facts: HeldFacts) -> Placement:
        """The same placement for a replacement that carries on from `facts`."""
        return replace(self, resume=facts)

    def with_config(self, config: dict[str, Any]) -> Placement:
        """The same placement with the job's config in wire form: a supervisor keeps its
        placements with none (the JobConfig made from it says the same, and it holds
        hundreds), and puts it back for a root that must replace it."""
        return replace(self, config=config)
