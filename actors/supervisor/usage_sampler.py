"""What a supervisor's jobs cost now: CPU percent, CPU time, RSS and PSS of each tree
(measured by procclaw/process_usage.py).

The percent is over the time since the job's measure before, or, for a run not
measured before, since the run started (`cpu_window` says over how long): every view is
answered at once, from one measure, instead of waiting between two. A run with a cgroup
has its CPU time from the cgroup's cpu.stat, which counts every process ever in it, an
escaped daemon's too, and its memory from memory.current where the memory controller
is on. Nothing here runs unless someone asks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from actors.runtime.job_process import JobProcess
from procclaw.process_usage import Measure, measure_trees
from procclaw.usage_record import JobUsage


class UsageSampler:
    def __init__(
        self,
        cgroup_usage: Callable[[str], tuple[float | None, int | None]] = lambda _: (None, None),
    ) -> None:
        self._cgroup_usage = cgroup_usage  # a run's cgroup -> its (CPU seconds, memory)
        self._last: dict[str, tuple[int, Measure]] = {}  # job -> its run's pid, latest measure

    def usage(self, runs: dict[str, JobProcess]) -> dict[str, JobUsage]:
        """Measure each job's run (its process tree, or its cgroup)."""
        roots = {job: run.pid for job, run in runs.items()}
        cgroups = {job: run.cgroup for job, run in runs.items() if run.cgroup}
        measures = self._measure(roots, cgroups)
        usage = {}
        for job, measure in measures.items():
            spent, window = self._spent(job, runs[job], measure)
            cpu = round(100 * spent / window, 1) if window else None
            usage[job] = JobUsage(
                cpu,
                measure.cpu_seconds,
                measure.memory,
                measure.memory_pss,
                measure.processes,
                round(window, 3) if window else None,
            )
            self._last[job] = (runs[job].pid, measure)
        return usage

    def forget(self, live: set[str]) -> None:
        """Jobs no longer held are measured no more."""
        for job in [job for job in self._last if job not in live]:
            del self._last[job]

    def _spent(self, job: str, run: JobProcess, measure: Measure) -> tuple[float, float | None]:
        """CPU seconds spent, and over how many seconds: since the run's measure before,
        else since it started (None: adopted with no start time, nothing to divide by)."""
        pid, before = self._last.get(job, (None, None))
        if before is not None and pid == run.pid and measure.at > before.at:
            spent, window = measure.cpu_seconds - before.cpu_seconds, measure.at - before.at
        elif run.started_at > 0:
            spent, window = measure.cpu_seconds, time.time() - run.started_at
        else:
            return 0.0, None
        return max(0.0, spent), window if window > 0 else None

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
