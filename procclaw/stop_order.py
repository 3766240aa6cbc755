"""Which jobs may be stopped now at daemon stop: a job stops only after its dependents.

`stop_after` maps each job to the jobs that depend on it (they must be gone first).
Jobs with nothing live left to wait for stop together, so independent jobs stop in
parallel and the whole stop takes as long as the longest chain, not the sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def next_to_stop(
    stop_after: Mapping[str, Iterable[str]], live: set[str], ordered: set[str]
) -> list[str]:
    """The live jobs not yet ordered to stop whose dependents are all at rest.

    When none is free although some are live and none is stopping, the orders
    contradict each other (given before a reload that changed the graph): then every
    live job stops at once rather than none ever.
    """
    waiting = live - ordered
    free = sorted(job for job in waiting if not any(d in live for d in stop_after.get(job, ())))
    if not free and waiting and not (live & ordered):
        return sorted(waiting)
    return free
