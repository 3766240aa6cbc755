"""Core numbers of one ProcClaw daemon, measured by hand (never part of the test suite).

    python bench/core_numbers.py [--jobs N]

Starts a daemon in a throwaway PROCCLAW_HOME with N continuous `sleep 3600` jobs and
prints one table: cold start until all run, crash-to-respawn of a job, replacement of
a killed supervisor, a CLI `list`, memory (PSS over every daemon process, USS of one
supervisor) and idle CPU over 10 s (from /proc/<pid>/schedstat, in nanoseconds).
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
from pathlib import Path

import psutil

from procclaw.client import Client, Subscription
from procclaw.home import Home

CLI = shutil.which("procclaw") or "procclaw"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--kills", type=int, default=12)
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pcb-", dir="/tmp"))
    env = {**os.environ, "PROCCLAW_HOME": str(root)}
    home = Home(root)
    jobs = "".join(
        f"  j{i}:\n    type: continuous\n    cmd: sleep 3600\n" for i in range(options.jobs)
    )
    (root / "jobs.yaml").write_text("jobs:\n" + jobs)
    rows: list[tuple[str, str]] = []
    try:
        started = time.monotonic()
        subprocess.run([CLI, "daemon", "start"], env=env, check=True, capture_output=True)
        client = Client(home)
        _wait(lambda: _running(client) == options.jobs, 120)
        rows.append((f"cold start, {options.jobs} jobs running", _ms(time.monotonic() - started)))
        rows.append(("crash to respawn (median, min-max)", _respawns(home, client, options)))
        rows.append(("supervisor kill -9 to replacement up", _replacements(home, client)))
        rows.append(("CLI `list` end to end (median)", _cli_list(env)))
        rows += _memory(client)
        rows.append(("idle CPU, daemon + all actors, 10 s", _idle_cpu(client)))
    finally:
        subprocess.run([CLI, "daemon", "stop"], env=env, capture_output=True)
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
    for _ in range(options.kills):
        time.sleep(random.uniform(0.05, 0.5))  # random offsets: no periodic loop can hide
        job = f"j{random.randrange(options.jobs)}"
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
    samples = []
    events = Subscription(home, ("actor.",))
    events.sync(client)
    for i in range(5):
        name = f"job-j{i}"
        pid = next(
            a["pid"]
            for a in client.call_endpoint("daemon", "status")["actors"]
            if a["name"] == name
        )
        killed = time.time()
        os.kill(pid, signal.SIGKILL)
        event = events.wait_for(lambda e, n=name: e.topic == f"actor.{n}.up", 10)
        samples.append(event.ts - killed)
    events.close()
    return _spread(samples)


def _cli_list(env: dict[str, str]) -> str:
    samples = []
    for _ in range(5):
        started = time.monotonic()
        subprocess.run([CLI, "list"], env=env, check=True, capture_output=True)
        samples.append(time.monotonic() - started)
    return _spread(samples)


def _daemon_pids(client: Client) -> list[int]:
    status = client.call_endpoint("daemon", "status")
    return [status["pid"], status["zygote_pid"]] + [a["pid"] for a in status["actors"]]


def _memory(client: Client) -> list[tuple[str, str]]:
    pids = _daemon_pids(client)
    pss = sum(psutil.Process(pid).memory_full_info().pss for pid in pids)
    status = client.call_endpoint("daemon", "status")
    supervisor = next(a["pid"] for a in status["actors"] if a["kind"] == "supervisor")
    uss = psutil.Process(supervisor).memory_full_info().uss
    return [
        (f"memory: PSS of {len(pids)} daemon processes", f"{pss / 2**20:.1f} MiB"),
        ("memory: USS of one supervisor", f"{uss / 2**20:.2f} MiB"),
    ]


def _schedstat(pid: int) -> int:
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
            total += int(stat.read().split()[0])
    return total


def _idle_cpu(client: Client) -> str:
    pids = _daemon_pids(client)
    before = sum(_schedstat(pid) for pid in pids)
    time.sleep(10)
    used = sum(_schedstat(pid) for pid in pids) - before
    return f"{used / 1e9 / 10 * 100:.3f} % of one core ({used / 1e6:.1f} ms)"


if __name__ == "__main__":
    sys.exit(main())
