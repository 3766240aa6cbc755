"""What a supervisor tells root of its jobs: at once, or gathered into few messages.

Root must know a job's facts before anything follows from them (a job is `stopping`
before its signal goes), so that a replacement of a supervisor that died in between
carries on from them. One job's change is told at once. While the supervisor acts on
many jobs in one go (a stop of many, the daemon's stop), their facts are gathered
instead, and what had to wait for them (the signals) waits until they are sent: a
few messages, each of up to JOBS_PER_MESSAGE jobs, instead of one per job. Every job
is still told before it is signalled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Jobs per message: well under the size root accepts, whatever a job's config and
# last output.
JOBS_PER_MESSAGE = 20

Send = Callable[[dict[str, Any]], None]


class WordToRoot:
    def __init__(self, send: Send):
        """`send(facts)` tells root `facts` (a heartbeat's partial facts)."""
        self._send = send
        self._gathering = False
        self._jobs: dict[str, dict[str, Any]] = {}
        self._gone: dict[str, int] = {}
        self._waiting: list[Callable[[], None]] = []

    def job(self, job_id: str, facts: dict[str, Any]) -> None:
        """The job's facts as they are now."""
        if self._gathering:
            self._jobs[job_id] = facts
        else:
            self._send({"jobs": {job_id: facts}, "partial": True})

    def gone(self, job_id: str, generation: int) -> None:
        """The job, placed as `generation`, is let go."""
        if self._gathering:
            self._gone[job_id] = generation
        else:
            self._send({"jobs": {}, "gone": {job_id: generation}, "partial": True})

    def then(self, action: Callable[[], None]) -> None:
        """Do `action` once root has been told what it was told so far: now, unless
        facts are being gathered."""
        if self._gathering:
            self._waiting.append(action)
        else:
            action()

    @contextmanager
    def gathered(self) -> Iterator[None]:
        """Gather what is told inside; send it, then do what waited for it."""
        if self._gathering:  # inside another gathering: that one sends it all
            yield
            return
        self._gathering = True
        try:
            yield
        finally:
            self._gathering = False
            self._flush()

    def _flush(self) -> None:
        jobs, self._jobs = list(self._jobs.items()), {}
        gone, self._gone = self._gone, {}
        waiting, self._waiting = self._waiting, []
        for start in range(0, len(jobs), JOBS_PER_MESSAGE):
            chunk = dict(jobs[start : start + JOBS_PER_MESSAGE])
            self._send({"jobs": chunk, "partial": True})
        if gone:  # after the facts: root reads a job's last facts, then lets it go
            self._send({"jobs": {}, "gone": gone, "partial": True})
        for action in waiting:
            action()
