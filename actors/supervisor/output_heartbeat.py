"""The output heartbeat of a job (`health_check: {type: output}`), for its supervisor.

The job proves it is alive by printing a line that matches `pattern` on `stream` at
least every `max_age`. The supervisor sees every byte on its way to the log
(actors/supervisor/job_output.py), so the match costs one regular-expression search
per chunk read and no extra copy; jobs without the check are not searched at all.

Nothing polls: a heard line moves the deadline, and one timer, due at the deadline,
finds the job late only if no line came meanwhile. Its supervisor reports the facts
(`heartbeat_at`, at most once a second while lines come) and publishes
`job.<id>.heartbeat` when the run is first heard, falls silent past `max_age`, or is
heard again; the health actor turns those into the run's health verdict.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from actors.runtime.loop import EventLoop, Timer
from procclaw.config import HealthCheckConfig

# A heartbeat line is short; the start of a longer one is enough to match against.
MAX_LINE = 4096
# `status` shows how long ago the last heartbeat came, to the second.
RETELL = 1.0


class LineMatcher:
    """Whether any whole line of a stream that arrives in chunks matches `pattern`."""

    def __init__(self, pattern: str) -> None:
        self._regex = re.compile(pattern.encode(), re.MULTILINE)
        self._unfinished = b""  # the start of the line still coming

    def feed(self, data: bytes) -> bool:
        """Take the next chunk; True if a line it completes matches."""
        end = data.rfind(b"\n")
        if end < 0:
            if len(self._unfinished) < MAX_LINE:
                self._unfinished = (self._unfinished + data)[:MAX_LINE]
            return False
        lines = self._unfinished + data[:end]
        self._unfinished = data[end + 1 : end + 1 + MAX_LINE]
        return self._regex.search(lines) is not None

    def forget(self) -> None:
        """A new run: what the last one left unfinished is not its line."""
        self._unfinished = b""


class OutputHeartbeat:
    """One job's heartbeat deadline; calls `on_change(event)` with `heartbeat` when the
    run is first heard, goes late or is heard again, and `on_change(None)` when only
    the time of the last heartbeat moved (at most once every RETELL seconds)."""

    def __init__(
        self,
        loop: EventLoop,
        check: HealthCheckConfig,
        on_change: Callable[[str | None], None],
        heard_at: float | None = None,
    ) -> None:
        assert check.max_age is not None and check.pattern is not None
        self._loop = loop
        self._max_age = check.max_age
        self._start_period = check.start_period
        self._on_change = on_change
        self.matcher = LineMatcher(check.pattern)
        self.heard_at = heard_at  # wall clock of the last matching line of this run
        self.late = False
        self._due = 0.0  # wall clock: late unless heard before then
        self._deadline: Timer | None = None
        self._retell: Timer | None = None
        self._told_at = 0.0  # monotonic: when the time of the last heartbeat was reported

    def watch(self, started_at: float) -> None:
        """A run (begun at `started_at`, wall clock) to hold to its heartbeat."""
        self.late = False
        since = self.heard_at if self.heard_at is not None else started_at + self._start_period
        self._arm(since + self._max_age)

    def new_run(self) -> None:
        self.stop()
        self.heard_at = None
        self.late = False
        self.matcher.forget()

    def heard(self) -> None:
        """A matching line came."""
        now = time.time()
        first, self.heard_at = self.heard_at is None, now
        self._due = now + self._max_age
        if self._deadline is None:
            self._arm(self._due)
        if first or self.late:
            self.late = False
            self._tell("heartbeat")
        elif self._retell is None:
            wait = RETELL - (time.monotonic() - self._told_at)
            self._retell = self._loop.call_later(max(0.0, wait), self._retell_now)

    def stop(self) -> None:
        """The run ended: nothing is due any more."""
        for timer in (self._deadline, self._retell):
            if timer is not None:
                timer.cancel()
        self._deadline = self._retell = None

    def _arm(self, due: float) -> None:
        self._due = due
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self._loop.call_later(max(0.0, due - time.time()), self._check)

    def _check(self) -> None:
        self._deadline = None
        if time.time() < self._due:  # heard meanwhile: wait for the moved deadline
            self._arm(self._due)
        elif not self.late:
            self.late = True
            self._tell("heartbeat")

    def _retell_now(self) -> None:
        self._retell = None
        self._tell(None)

    def _tell(self, event: str | None) -> None:
        self._told_at = time.monotonic()
        self._on_change(event)
