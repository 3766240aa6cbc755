"""How late a scheduled run starts after its due second, measured by hand (not a test).

    python bench/fire_accuracy.py [--fires N]

Starts a daemon in a throwaway PROCCLAW_HOME, first with one job due every two seconds,
then with ten jobs due the same seconds, and prints one table: for each, how long after
the due second the scheduler's `fired` event was published, and how long after it the
job's process was spawned (`started_at` of `job.<id>.running`). The goal is a run
started within 50 ms of its due second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from procclaw.client import Client
from procclaw.home import Home
from procclaw.subscription import Subscription

CLI = shutil.which("procclaw") or "procclaw"
PERIOD = 2  # seconds between due times: '* * * * * */2'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fires", type=int, default=10, help="due times per job")
    options = parser.parse_args()
    rows = []
    for jobs in (1, 10):
        fired, started = measure(jobs, options.fires)
        label = f"{jobs} job{'s' if jobs > 1 else ''} due the same second"
        rows.append((label, "fired event", *_stats(fired)))
        rows.append((label, "run spawned", *_stats(started)))
    headers = ("scenario", "after the due second", "n", "median ms", "p95 ms", "max ms")
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


def measure(jobs: int, fires: int) -> tuple[list[float], list[float]]:
    """Lateness in seconds of every `fired` event and every spawn, over `fires` due times."""
    root = Path(tempfile.mkdtemp(prefix="pcf-", dir="/tmp"))
    env = {**os.environ, "PROCCLAW_HOME": str(root)}
    home = Home(root)
    body = "".join(
        f"  j{i}:\n    cmd: 'true'\n    type: scheduled\n    schedule: '* * * * * */2'\n"
        for i in range(jobs)
    )
    (root / "jobs.yaml").write_text("jobs:\n" + body)
    fired: list[float] = []
    started: list[float] = []
    try:
        subprocess.run([CLI, "daemon", "start"], env=env, check=True, capture_output=True)
        events = Subscription(home, ("schedule.", "job."))
        events.sync(Client(home))
        deadline = time.monotonic() + fires * 2 + 30
        while len(started) < jobs * fires and time.monotonic() < deadline:
            event = events.receive(1.0)
            if event is None:
                continue
            if event.topic.endswith(".fired"):
                fired.append(event.ts - event.data["due"])
            elif event.topic.endswith(".running"):
                # The fired event comes once the whole batch has started, often after
                # the run itself: the due second is the even second before the spawn.
                spawned = event.data["started_at"]
                started.append(spawned - spawned // PERIOD * PERIOD)
        events.close()
    finally:
        subprocess.run([CLI, "daemon", "stop"], env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    return fired, started


def _stats(values: list[float]) -> tuple[int, str, str, str]:
    if not values:
        return 0, "-", "-", "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        len(values),
        f"{statistics.median(values) * 1000:.1f}",
        f"{p95 * 1000:.1f}",
        f"{max(values) * 1000:.1f}",
    )


if __name__ == "__main__":
    raise SystemExit(main())
