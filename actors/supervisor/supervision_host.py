"""What a job held by a supervisor gets from it: the supervisor's services, and the
job's pipes. The supervisor (actors/supervisor/actor.py) makes these; each JobSupervision
(actors/supervisor/job_supervision.py) uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actors.runtime.async_calls import AsyncCalls
from actors.runtime.blocking_calls import BlockingCalls
from actors.runtime.loop import EventLoop
from actors.supervisor.run_cgroups import RunCgroups
from actors.supervisor.run_exits import ChildReaper
from procclaw.home import Home
from procclaw.job_facts import JobFacts
from procclaw.wire_record import WireRecord


@dataclass
class SupervisionHost:
    """What a held job needs from the supervisor that holds it."""

    loop: EventLoop
    home: Home
    calls: AsyncCalls  # requests to other actors (root), answered on the loop
    reaper: ChildReaper
    job_umask: int  # what the daemon was started with; the daemon itself runs with 077
    supervisor: str  # the holder's actor name
    sup_start: str  # and its process start time: with its pid, who holds the job
    # To the controller, acknowledged; then the events that announce it are published.
    report: Callable[[dict[str, Any], list[tuple[str, WireRecord]]], None]
    # This job's facts changed (to these, if given): root must know at once.
    tell_root: Callable[[str, JobFacts | None], None]
    # Do this once root has heard what it was told so far (a stop's signal, after its
    # `stopping`): at once, unless many jobs are being told together.
    once_told: Callable[[Callable[[], None]], None]
    blocking: BlockingCalls  # for what may block (the keyring), off the loop
    finished: Callable[[str], None]  # at rest: let it go once its reports are in
    cgroups: RunCgroups  # where its runs' cgroups go, if the daemon has any


@dataclass(frozen=True)
class JobPipes:
    """The job's stdout and stderr pipes, both ends of each (root keeps copies)."""

    out_r: int
    out_w: int
    err_r: int
    err_w: int

    def all(self) -> tuple[int, int, int, int]:
        return (self.out_r, self.out_w, self.err_r, self.err_w)
