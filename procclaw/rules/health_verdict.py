"""When a run of a job is healthy: the rules that turn check results into a verdict.

Pure bookkeeping with the clock passed in, so the rules are tested without waiting:
- a passing check makes the run healthy at once (and ends `start_period` early);
- a failing check counts only after `start_period`; `retries` counted failures in a
  row make it unhealthy;
- until its first pass a run is checked every STARTUP_PROBE seconds (or `interval`, if
  shorter), so a dependent waiting for it starts soon after it is up; those early
  failures still count only once per `interval`, so a slow starter is not condemned
  by the quick probing;
- an output check's failure is its job's silence for `max_age`, already a verdict: one
  is enough.
"""

from __future__ import annotations

from procclaw.config import HealthCheckConfig

STARTUP_PROBE = 1.0


class HealthVerdict:
    """The verdict on one run: None (no verdict yet), True (healthy) or False."""

    def __init__(
        self, check: HealthCheckConfig, started_at: float, healthy: bool | None = None
    ) -> None:
        self.check = check
        self.started_at = started_at
        self.healthy = healthy
        self.failures = check.retries if healthy is False else 0
        self.reason: str | None = None
        self._last_counted: float | None = None

    def next_delay(self) -> float:
        if self.healthy is None:
            return min(self.check.interval, STARTUP_PROBE)
        return self.check.interval

    def observe(self, passed: bool | None, reason: str | None, now: float) -> bool:
        """Take one check result (None: too soon to tell); True if the verdict changed."""
        if passed is None:
            self.reason = reason
            return False
        if passed:
            self.failures, self._last_counted = 0, None
            changed = self.healthy is not True
            self.healthy, self.reason = True, None
            return changed
        self.reason = reason
        if self.check.type == "output":
            changed = self.healthy is not False
            self.healthy, self.failures = False, self.check.retries
            return changed
        if now < self.started_at + self.check.start_period:
            return False
        if (
            self.healthy is None
            and self._last_counted is not None
            and now - self._last_counted < self.check.interval
        ):
            return False
        self.failures += 1
        self._last_counted = now
        if self.failures >= self.check.retries and self.healthy is not False:
            self.healthy = False
            return True
        return False
