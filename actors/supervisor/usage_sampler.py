"""What a supervisor's jobs cost now: CPU percent, CPU time, RSS and PSS of each tree
(measured by procclaw/process_usage.py).

The percent is over the time since the measure before; a job not measured lately is
measured twice, FIRST_INTERVAL apart (on a timer: the loop goes on meanwhile), so
`list` shows what the job does now, not its average since it started. A run with a
cgroup has its CPU time from the cgroup's cpu.stat, which counts every process ever in
it, an escaped daemon's too, and its memory from memory.current where the memory
controller is on. Nothing here runs unless someone asks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from actors.runtime.loop import EventLoop
from procclaw.process_usage import Measure, measure_trees
from procclaw.usage_record import JobUsage

FIRST_INTERVAL = 0.25  # seconds between the two measures of a job not measured lately
FRESH = 10.0  # a measure this recent is the one to compare the next with


class UsageSampler:
    def __init__(
        self,
        loop: EventLoop,
        cgroup_usage: Callable[[str], tuple[float | None, int | None]] = lambda _: (None, None),
    ) -> None:
        self._loop = loop
        self._cgroup_usage = cgroup_usage  # a run's cgroup -> its (CPU seconds, memory)
        self._last: dict[tuple[str, int], Measure] = {}  # (job, pid) -> its latest measure

    def usage(
        self,
        roots: dict[str, int],
        answer: Callable[[dict[str, JobUsage]], None],
        cgroups: dict[str, str] | None = None,
    ) -> None:
        """Measure each job (its root pid, or its run's cgroup), and `answer` with the
        usage of each."""
        cgroups = cgroups or {}
        now = time.monotonic()
        stale = [
            job
            for job, pid in roots.items()
            if now - getattr(self._last.get((job, pid)), "at", -FRESH) >= FRESH
        ]
        if stale:
            # Only those: a job measured lately keeps the measure it is compared with.
            stale_roots = {job: roots[job] for job in stale}
            self._record(stale_roots, self._measure(stale_roots, cgroups))
            self._loop.call_later(FIRST_INTERVAL, lambda: answer(self._usage_now(roots, cgroups)))
        else:
            answer(self._usage_now(roots, cgroups))

    def forget(self, live: set[str]) -> None:
        """Jobs no longer held are measured no more."""
        for key in [key for key in self._last if key[0] not in live]:
            del self._last[key]

    def _usage_now(self, roots: dict[str, int], cgroups: dict[str, str]) -> dict[str, JobUsage]:
        measures = self._measure(roots, cgroups)
        usage = {}
        for job, measure in measures.items():
            before = self._last.get((job, roots[job]))
            cpu = None
            if before is not None and measure.at > before.at:
                spent = max(0.0, measure.cpu_seconds - before.cpu_seconds)
                cpu = round(100 * spent / (measure.at - before.at), 1)
            usage[job] = JobUsage(
                cpu, measure.cpu_seconds, measure.memory, measure.memory_pss, measure.processes
            )
        self._record(roots, measures)
        return usage

    def _measure(self, roots: dict[str, int], cgroups: dict[str, str]) -> dict[str, Measure]:
        measures = measure_trees(roots)
        for job, cgroup in cgroups.items():
            if job in measures:
                cpu, memory = self._cgroup_usage(cgroup)
                measures[job] = replace(
                    measures[job],
                    cpu_seconds=measures[job].cpu_seconds if cpu is None else cpu,
                    memory=measures[job].memory if memory is None else memory,
                )
        return measures

    def _record(self, roots: dict[str, int], measures: dict[str, Measure]) -> None:
        for job, measure in measures.items():
            self._last[(job, roots[job])] = measure
