"""Core numbers of one ProcClaw daemon, measured by hand (never part of the test suite).

    python bench/core_numbers.py [--jobs N]

Starts a daemon in a throwaway PROCCLAW_HOME with N continuous `sleep 3600` jobs and
prints one table: cold start until all run, crash-to-respawn of a job, replacement of
a killed supervisor, a CLI `list`, memory (PSS from /proc/<pid>/smaps_rollup summed over
every process of the daemon's tree but the jobs) and idle CPU over 10 s (from
/proc/<pid>/task/<tid>/schedstat, in nanoseconds, over the same processes).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from managers import JOB_COMM, PROCCLAW, descendants, ensure_bytecode, free_port, process_table
from measure import idle_cpu, pss_mib

from procclaw.client import Client
from procclaw.home import Home
from procclaw.subscription import Subscription


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--kills", type=int, default=12)
    options = parser.parse_args()
    ensure_bytecode()
    root = Path(tempfile.mkdtemp(prefix="pcb-", dir="/tmp"))
    env = {**os.environ, "PROCCLAW_HOME": str(root)}
    home = Home(root)
    jobs = "".join(
        f"  j{i}:\n    type: continuous\n    cmd: sleep 3600\n" for i in range(options.jobs)
    )
    (root / "jobs.yaml").write_text("jobs:\n" + jobs)
    (root / "procclaw.yaml").write_text(f"daemon:\n  port: {free_port()}\n")
    rows: list[tuple[str, str]] = []
    try:
        started = time.monotonic()
        subprocess.run([PROCCLAW, "daemon", "start"], env=env, check=True, capture_output=True)
        client = Client(home)
        _wait(lambda: _running(client) == options.jobs, 120)
        rows.append((f"cold start, {options.jobs} jobs running", _ms(time.monotonic() - started)))
        rows.append(("crash to respawn (median, min-max)", _respawns(home, client, options)))
        rows.append(("supervisor kill -9 to replacement up", _replacements(home, client)))
        rows.append(("CLI `list` end to end (median)", _cli_list(env)))
        rows += _memory(client)
        rows.append(("idle CPU, daemon + all actors, 10 s", _idle_cpu(client)))
    finally:
        subprocess.run([PROCCLAW, "daemon", "stop"], env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


def _running(client: Client) -> int:
    return sum(job["state"] == "running" for job in client.call("list"))


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _spread(samples: list[float]) -> str:
    return f"{_ms(statistics.median(samples))} ({_ms(min(samples))} - {_ms(max(samples))})"


def _respawns(home: Home, client: Client, options) -> str:
    samples = []
    events = Subscription(home, ("job.",))
    events.sync(client)
    # Each job killed once at most: killed again soon after its restart, it would be in a
    # crash loop to its retry policy, and back off.
    for i in random.sample(range(options.jobs), min(options.kills, options.jobs)):
        time.sleep(random.uniform(0.05, 0.5))  # random offsets: no periodic loop can hide
        job = f"j{i}"
        pid = client.call("status", {"job": job})["pid"]
        killed = time.time()
        os.kill(pid, signal.SIGKILL)
        event = events.wait_for(
            lambda e, j=job, p=pid: e.topic == f"job.{j}.running" and e.data["pid"] != p, 10
        )
        if event is None:
            raise SystemExit(f"{job} (pid {pid}) was not restarted within 10 s")
        samples.append(event.ts - killed)
    events.close()
    return _spread(samples)


def _replacements(home: Home, client: Client) -> str:
    """kill -9 of a supervisor (one holding jobs, whichever the design) until it is up."""
    samples = []
    events = Subscription(home, ("actor.",))
    events.sync(client)
    for _ in range(5):
        actors = client.call_endpoint("daemon", "status")["actors"]
        actor = random.choice([a for a in actors if a["kind"] == "supervisor"])
        killed = time.time()
        os.kill(actor["pid"], signal.SIGKILL)
        event = events.wait_for(lambda e, n=actor["name"]: e.topic == f"actor.{n}.up", 10)
        if event is None:
            raise SystemExit(f"supervisor {actor['name']} was not back within 10 s")
        samples.append(event.ts - killed)
    events.close()
    return _spread(samples)


def _cli_list(env: dict[str, str]) -> str:
    samples = []
    for _ in range(5):
        started = time.monotonic()
        subprocess.run([PROCCLAW, "list"], env=env, check=True, capture_output=True)
        samples.append(time.monotonic() - started)
    return _spread(samples)


def _daemon_pids(client: Client) -> Callable[[], list[int]]:
    """What finds every process of the daemon's tree (root, zygote, actors, supervisors)
    but the jobs, without asking the daemon anything (that would wake it)."""
    root = client.call_endpoint("daemon", "status")["pid"]

    def find() -> list[int]:
        table = process_table()
        return [pid for pid in descendants(root, table) if table[pid][1] != JOB_COMM]

    return find


def _memory(client: Client) -> list[tuple[str, str]]:
    pids = _daemon_pids(client)()
    return [(f"memory: PSS of {len(pids)} daemon processes", f"{pss_mib(pids):.1f} MiB")]


def _idle_cpu(client: Client) -> str:
    percent, ended = idle_cpu(_daemon_pids(client), 10.0)
    note = f"; {ended} threads ended uncounted" if ended else ""
    return f"{percent:.3f} % of one core ({percent * 100:.1f} ms in 10 s{note})"


if __name__ == "__main__":
    sys.exit(main())
