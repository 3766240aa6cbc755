"""What a stop is waiting for, on a terminal: a job in its grace period can take a
minute, and a minute of silence looks like a hang.

    api: stopping (SIGTERM sent, 12 s of 60 s)

One line per job still stopping, redrawn each second once it has been stopping for a
second, and erased before each outcome line and at the end, so what stays on the screen
is what a pipe gets. Nothing is drawn when stdout is not a terminal, with --json, or on
a terminal that cannot move its cursor (TERM=dumb).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from procclaw.cli.colours import clip
from procclaw.states import JobState

# Quick stops print nothing more than they did.
SHOW_AFTER = 1.0
REDRAW_EVERY = 1.0
_AT_REST = {state.value for state in JobState} - {JobState.STOPPING.value}


@dataclass
class _Stopping:
    since: float  # monotonic: when this command saw it stopping
    kill_at: float | None  # wall clock: when its grace period ends, if the daemon said
    how: tuple[str, float] | None = None  # its stop signal and grace period, once asked


class StopProgress:
    """The jobs of one command that are stopping, and the lines that show them."""

    def __init__(self, client: Any, shown: bool, out: TextIO | None = None):
        self.client = client
        self.out = sys.stdout if out is None else out
        self.on = shown and self.out.isatty() and os.environ.get("TERM") != "dumb"
        self.jobs: dict[str, _Stopping] = {}
        self.drawn = 0  # lines on the screen now
        self.due = math.inf  # monotonic: when the lines are next drawn

    def note(self, job_id: str, state: str | None, facts: dict[str, Any]) -> None:
        """Take in a job's state, from a reply or an event."""
        if state == JobState.STOPPING.value and job_id not in self.jobs:
            self.jobs[job_id] = _Stopping(time.monotonic(), facts.get("kill_at"))
            self.due = min(self.due, time.monotonic() + SHOW_AFTER)
        elif state in _AT_REST:
            self.jobs.pop(job_id, None)

    def wait(self, left: float) -> float:
        """How long to wait for an event before the lines are due again."""
        if not (self.on and self.jobs):
            return left
        return min(left, max(0.0, self.due - time.monotonic()))

    def tick(self) -> None:
        """Draw the lines again if they are due (a second on, or erased since)."""
        now = time.monotonic()
        if not self.on or now < self.due:
            return
        self.clear()
        shown = {job_id: s for job_id, s in self.jobs.items() if now - s.since >= SHOW_AFTER}
        later = [s.since + SHOW_AFTER for s in self.jobs.values() if now - s.since < SHOW_AFTER]
        self.due = min([now + REDRAW_EVERY] if shown else later or [math.inf])
        if not shown:
            return
        size = shutil.get_terminal_size()
        # Lines that wrapped, or scrolled off the top, could not be erased.
        width, room = max(1, size.columns - 1), max(1, size.lines - 2)
        jobs = list(shown.items())
        lines = [self._line(job_id, stopping) for job_id, stopping in jobs[:room]]
        if len(jobs) > room:
            lines[-1] = f"... and {len(jobs) - room + 1} more stopping"
        lines = [clip(line, width) for line in lines]
        self.out.write("".join(line + "\n" for line in lines))
        self.out.flush()
        self.drawn = len(lines)

    def clear(self) -> None:
        """Erase the lines drawn, so an outcome line takes their place; the next tick
        draws them again."""
        if self.drawn:
            self.out.write(f"\r\x1b[{self.drawn}A\x1b[J")
            self.out.flush()
            self.drawn = 0
            self.due = time.monotonic()

    def _line(self, job_id: str, stopping: _Stopping) -> str:
        if stopping.how is None:
            stopping.how = self._how_it_stops(job_id)
        signal, grace = stopping.how
        if stopping.kill_at is not None and grace:
            elapsed = grace - max(0.0, stopping.kill_at - time.time())
        else:
            elapsed = time.monotonic() - stopping.since
        of = f" of {grace:g} s" if grace else ""
        return f"{job_id}: stopping ({signal} sent, {int(elapsed)} s{of})"

    def _how_it_stops(self, job_id: str) -> tuple[str, float]:
        """The job's stop signal and grace period, from its applied config."""
        from procclaw.client import ClientError

        try:
            shutdown = self.client.call("status", {"job": job_id})["config"]["shutdown"]
            return str(shutdown["signal"]), float(shutdown["grace_period"])
        except (ClientError, KeyError, TypeError, ValueError):
            return "signal", 0.0
