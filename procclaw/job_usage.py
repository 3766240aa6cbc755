"""What a running job costs: CPU and memory of its whole process tree.

Its supervisor measures it when asked (actors/supervisor/usage_sampler.py) and the
controller gathers the measures of every supervisor (`usage`), each checked as it
arrives (procclaw/usage_record.py). Views add them to the jobs they show with
`with_usage`: `list`, `status`, `top`, the API and `/metrics`. Nothing is measured
while nobody looks.

Plain maps here, no record: `status` and `list` import this, and dataclasses would
cost each of them 5 ms.
"""

from __future__ import annotations

from typing import Any

# What a view shows for a job that is not running (no usage to show).
NO_USAGE = dict.fromkeys(("cpu", "cpu_window", "cpu_seconds", "memory", "memory_pss", "processes"))


def memory_text(count: int) -> str:
    """`812K`, `45.2M`, `512M`, `1.3G`: binary units, as `top` and the config write them."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if count >= scale:
            value = count / scale
            return (
                f"{value:.0f}{unit}"
                if value == int(value) or value >= 100
                else f"{value:.1f}{unit}"
            )
    return f"{count}B"


def with_usage(job: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """`job` (a summary of `list` or `status`) with its usage from a `usage` answer (whose
    measures the controller checked)."""
    return {**job, **(usage.get(job["id"]) or NO_USAGE)}
