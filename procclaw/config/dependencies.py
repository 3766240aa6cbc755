"""Find dependency cycles between jobs, which would leave every job in them waiting.

The check runs on the ordering graph, whose edges go from a job to a job it waits
for. `X depends_on Y` with after_start or after_complete makes X wait for Y;
with before_complete it is Y that waits for X.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from procclaw.config.jobs import ReadJob


@dataclass(frozen=True, slots=True)
class _Edge:
    """`waiter` waits for `target`, because of the entry at `line` of job `declared_by`."""

    waiter: str
    target: str
    declared_by: ReadJob
    line: int


def check_cycles(jobs: Sequence[ReadJob]) -> None:
    """Report each cycle once, as `dependency cycle: a -> b -> a`, from its first job
    (in the file that job is in)."""
    order = {job.config.id: index for index, job in enumerate(jobs)}
    edges = _ordering_edges(jobs)
    seen: set[tuple[str, ...]] = set()
    for cycle in _cycles(order, edges):
        start = min(range(len(cycle)), key=lambda index: order[cycle[index].waiter])
        cycle = cycle[start:] + cycle[:start]
        names = tuple(edge.waiter for edge in cycle)
        if names in seen:
            continue
        seen.add(names)
        path = " -> ".join(names + names[:1])
        first = cycle[0]
        declared_by = first.declared_by
        declared_by.log.add(
            first.line, f"job '{declared_by.config.id}'", f"dependency cycle: {path}"
        )


def _ordering_edges(jobs: Sequence[ReadJob]) -> dict[str, list[_Edge]]:
    edges: dict[str, list[_Edge]] = {job.config.id: [] for job in jobs}
    for job in jobs:
        this = job.config.id
        for dependency, line in zip(job.config.depends_on, job.dependency_lines, strict=True):
            waiter, target = dependency.edge(this)
            edges[waiter].append(_Edge(waiter, target, job, line))
    return edges


def _cycles(order: dict[str, int], edges: dict[str, list[_Edge]]) -> list[list[_Edge]]:
    """One cycle per back edge of a depth-first search, walking jobs in file order."""
    finished: set[str] = set()
    cycles = []
    for root in order:
        if root in finished:
            continue
        path: list[_Edge] = []  # the edges from root to the job on top of `stack`
        on_path = {root}
        stack = [(root, iter(edges[root]))]
        while stack:
            job, pending = stack[-1]
            edge = next(pending, None)
            if edge is None:
                stack.pop()
                on_path.discard(job)
                finished.add(job)
                if path:
                    path.pop()
            elif edge.target in on_path:
                entered = [index for index, step in enumerate(path) if step.waiter == edge.target]
                cycles.append(path[entered[0] if entered else len(path) :] + [edge])
            elif edge.target not in finished:
                path.append(edge)
                on_path.add(edge.target)
                stack.append((edge.target, iter(edges[edge.target])))
    return cycles
