"""Root's book of the jobs each supervisor holds: their pipes, config and last facts.

Root creates a job's stdout and stderr pipes when the job is placed in a supervisor and
keeps its own copy of all four ends for as long as the supervisor holds the job, so a
supervisor's death never closes a pipe: the output waits in the kernel until the
replacement, handed the same pipes, reads on. Root parses nothing here: the config
and facts are the supervisor's, kept as they came to hand to a replacement.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from typing import Any

from actors.loop import close_quietly
from actors.supervisor_channel import take_message
from procclaw.states import RESTING_STATES

# A job never waits on a full pipe for longer than a replacement supervisor takes to
# start: a larger pipe holds more while nobody reads (the default is 64 KiB). Past the
# user's pipe allowance (fs.pipe-user-pages-soft) the kernel refuses, and the pipe
# keeps its default size.
PIPE_BYTES = 256 * 1024

RESTING = frozenset(state.value for state in RESTING_STATES)


@dataclass
class HeldJob:
    job: str
    config: dict[str, Any]
    args: dict[str, Any]  # restarts, last_exit, generation, stop_after, as placed
    fds: tuple[int, int, int, int]
    facts: dict[str, Any] = field(default_factory=dict)  # the supervisor's latest word

    @classmethod
    def with_new_pipes(cls, job: str, config: dict[str, Any], args: dict[str, Any]) -> HeldJob:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        for fd in (out_w, err_w):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:
                pass  # the default size still works
        return cls(job, config, args, (out_r, out_w, err_r, err_w))

    @property
    def generation(self) -> int:
        return int(self.facts.get("generation", self.args.get("generation", 0)) or 0)

    @property
    def stop_after(self) -> list[str]:
        """The jobs that must stop before this one at daemon stop (its dependents)."""
        return list(self.args.get("stop_after") or ())

    @property
    def live(self) -> bool:
        """Running, or about to: not yet at rest in its supervisor's last word."""
        return self.facts.get("state") not in RESTING

    @property
    def running_pid(self) -> int | None:
        pid = self.facts.get("pid")
        return pid if isinstance(pid, int) and pid > 0 else None

    def take(self) -> dict[str, Any]:
        """The channel message that hands this job to a supervisor (a replacement
        carries on from the facts the last one told us)."""
        args = dict(self.args)
        if self.facts:
            args["resume"] = self.facts
        return take_message(self.job, self.config, args)

    def close(self) -> None:
        for fd in self.fds:
            close_quietly(fd)
