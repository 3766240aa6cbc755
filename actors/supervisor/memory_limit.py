"""A job's memory limit, enforced by sampling (`limits: {memory: 512M}`).

Where no cgroup holds the job, nothing stops it from growing, so its supervisor
measures the RSS of its whole process tree every CHECK_INTERVAL seconds while it runs,
as pm2's `max_memory_restart` does, and has it restarted gracefully once over the limit
(`memory limit 512M exceeded (612M)`), counted as a restart by its retry policy. Only a
job with a memory limit is measured: others cost no timer.
"""

from __future__ import annotations

from collections.abc import Callable

from actors.runtime.loop import EventLoop, Timer
from procclaw.job_usage import memory_text
from procclaw.process_usage import measure_trees

CHECK_INTERVAL = 2.0


class MemoryLimit:
    def __init__(self, loop: EventLoop, job_id: str, limit: int, over: Callable[[str], None]):
        self._loop = loop
        self._job_id = job_id
        self._limit = limit
        self._over = over  # called with the reason, once per run
        self._timer: Timer | None = None
        self._pid: int | None = None

    def watch(self, pid: int) -> None:
        """A run to hold to the limit, from now until `stop`."""
        self.stop()
        self._pid = pid
        self._timer = self._loop.call_later(0, self._check)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._pid = None

    def _check(self) -> None:
        self._timer = None
        if self._pid is None:
            return
        measure = measure_trees({self._job_id: self._pid}).get(self._job_id)
        if measure is not None and measure.memory > self._limit:
            limit, used = memory_text(self._limit), memory_text(measure.memory)
            self._pid = None
            self._over(f"memory limit {limit} exceeded ({used})")
            return
        self._timer = self._loop.call_later(CHECK_INTERVAL, self._check)
