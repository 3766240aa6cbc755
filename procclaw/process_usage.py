"""CPU time and memory of processes, read from the system: a job's whole tree (for its
supervisor's `usage` and memory limit) or a set of processes (ProcClaw's own footprint).

A tree is a process and every descendant, found by the platform layer: on Linux from
the kernel's lists of children (it costs what the trees hold), elsewhere in one pass
over the process table however many trees are measured. CPU is user + system time of
the live tree plus what its reaped children used. PSS is read where /proc tells it
(Linux), else left None.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psutil

from procclaw.platform import current


@dataclass(frozen=True)
class Measure:
    """One process tree, measured."""

    at: float  # monotonic
    cpu_seconds: float
    memory: int
    memory_pss: int | None
    processes: int


def measure_trees(roots: dict[str, int]) -> dict[str, Measure]:
    """Each job's tree measured; a job whose process is gone is left out."""
    below = current().trees(list(roots.values()))
    measures = {}
    for job, root in roots.items():
        measure = _measure_tree(root, below[root])
        if measure is not None:
            measures[job] = measure
    return measures


def _measure_tree(root: int, below: list[int]) -> Measure | None:
    cpu, memory, count = 0.0, 0, 0
    pss: int | None = 0
    for pid in (root, *below):
        try:
            process = psutil.Process(pid)
            with process.oneshot():
                times = process.cpu_times()
                cpu += times.user + times.system
                if pid == root:
                    cpu += times.children_user + times.children_system
                memory += process.memory_info().rss
        except psutil.NoSuchProcess:
            if pid == root:
                return None
            continue  # ended meanwhile
        count += 1
        if pss is not None:
            one = _pss(process)
            pss = pss + one if one is not None else None
    return Measure(time.monotonic(), cpu, memory, pss, count)


def _pss(process: psutil.Process) -> int | None:
    """The process's PSS, or None where it cannot be read (no smaps, or gone)."""
    try:
        return int(process.memory_full_info().pss)
    except (psutil.Error, AttributeError):
        return None


def footprint(pids: list[int]) -> Measure:
    """These processes alone (not their children): what ProcClaw itself costs."""
    cpu, memory, count = 0.0, 0, 0
    pss: int | None = 0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            times = process.cpu_times()
            cpu += times.user + times.system
            memory += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
        count += 1
        if pss is not None:
            one = _pss(process)
            pss = pss + one if one is not None else None
    return Measure(time.monotonic(), cpu, memory, pss, count)
