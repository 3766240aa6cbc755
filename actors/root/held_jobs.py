"""Root's book of the jobs each supervisor holds: their pipes, config and last facts.

Root creates a job's stdout and stderr pipes when the job is placed in a supervisor and
keeps its own copy of all four ends for as long as the supervisor holds the job, so a
supervisor's death never closes a pipe: the output waits in the kernel until the
replacement, handed the same pipes, reads on. Root parses nothing here: the config
and facts are the supervisor's, kept as they came to hand to a replacement.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from actors.runtime.loop import close_quietly
from procclaw.job_facts import HeldFacts
from procclaw.placement import Placement
from procclaw.platform import current
from procclaw.states import RESTING_STATES

# A job never waits on a full pipe for longer than a replacement supervisor takes to
# start: a larger pipe holds more while nobody reads (the default is 64 KiB). Past the
# user's pipe allowance (fs.pipe-user-pages-soft) the kernel refuses, and the pipe
# keeps its default size.
PIPE_BYTES = 256 * 1024


@dataclass
class HeldJob:
    placement: Placement
    fds: tuple[int, ...]  # stdout read, write; stderr read, write (none yet: an orphan's)
    facts: HeldFacts | None = None  # the supervisor's latest word

    @classmethod
    def with_new_pipes(cls, placement: Placement) -> HeldJob:
        return cls(placement, new_pipes())

    @property
    def job(self) -> str:
        return self.placement.job

    @property
    def generation(self) -> int:
        return self.facts.generation if self.facts else self.placement.generation

    @property
    def stop_after(self) -> tuple[str, ...]:
        """The jobs that must stop before this one at daemon stop (its dependents)."""
        return self.placement.stop_after

    @property
    def live(self) -> bool:
        """Running, or about to: not yet at rest in its supervisor's last word."""
        return self.facts is None or self.facts.state not in RESTING_STATES

    def take(self) -> dict[str, Any]:
        """What hands this job to a supervisor (a replacement carries on from the facts
        the last one told us)."""
        placement = self.placement.resumed(self.facts) if self.facts else self.placement
        return placement.to_wire()

    def close(self) -> None:
        for fd in self.fds:
            close_quietly(fd)


def new_pipes() -> tuple[int, int, int, int]:
    """A job's stdout and stderr pipes, made larger where the kernel allows."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    for fd in (out_w, err_w):
        current().enlarge_pipe(fd, PIPE_BYTES)
    return out_r, out_w, err_r, err_w
