"""The measurements of bench/compare.py, one function per metric, each on a running manager.

Times are returned in milliseconds. Nothing here prints: compare.py gathers and renders.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from managers import SLEEP, Job, Manager, ProcClaw, run, wait_until

from procclaw import protocol
from procclaw.client import ClientError, Subscription

LOG_LINES = 200_000
LINE_BYTES = 100
WRITER = f"""\
import os, sys, time
with open(sys.argv[1], "w") as stamp:
    stamp.write(repr(time.time()))
pad = "x" * {LINE_BYTES - 11}
write = sys.stdout.write
for i in range({LOG_LINES}):
    write(f"{{i:09d}} {{pad}}\\n")
sys.stdout.flush()
os.execv({SLEEP!r}, ["sleep", "3600"])  # stay up: a continuous job must not restart
"""


@contextmanager
def started(cls: type[Manager], jobs: list[Job], wait: bool = True) -> Iterator[tuple]:
    """A manager in a fresh directory, launched; yields it and the ms until all jobs ran."""
    root = Path(tempfile.mkdtemp(prefix=f"pcb-{cls.name[:4].lower()}-", dir="/tmp"))
    manager = cls(root)
    manager.configure(jobs)
    try:
        begin = time.monotonic()
        manager.launch()
        done = begin
        if wait:
            done = wait_until(lambda: _count(manager) >= len(jobs), 120, "cold start", 0.01)
        yield manager, (done - begin) * 1000
    finally:
        manager.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def _count(manager: Manager) -> int:
    try:
        return manager.running()
    except ClientError:
        return 0  # the controller is not serving yet


def respawns(manager: Manager, kills: int, rng: random.Random) -> list[float]:
    """kill -9 of a random job at random offsets until a new `sleep` of the daemon runs."""
    daemon = manager.root_pid()
    samples = []
    for pid in rng.sample(sorted(manager.job_pids()), kills):
        time.sleep(rng.uniform(0.05, 0.5))  # random offsets: no periodic loop can hide
        before = _proc_pids()
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        up = wait_until(lambda b=before: _new_sleeper(daemon, b), 10, f"respawn of {pid}", 0.001)
        samples.append((up - killed) * 1000)
    return samples


def _proc_pids() -> set[int]:
    return {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}


def _new_sleeper(parent: int, before: set[int]) -> bool:
    for pid in _proc_pids() - before:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        if comm == "sleep" and ppid == parent:
            return True
    return False


def procclaw_respawns(manager: ProcClaw, kills: int, rng: random.Random):
    """Respawn times from the bus, and the kill-to-`exited` arrival latency, in ms."""
    events = Subscription(manager.home, ("job.",))
    events.sync(manager.client)
    respawn, latency = [], []
    jobs = [job["id"] for job in manager.client.call("list")]
    try:
        for job in rng.sample(jobs, kills):
            time.sleep(rng.uniform(0.05, 0.5))
            pid = manager.client.call("status", {"job": job})["pid"]
            killed = time.time()
            os.kill(pid, signal.SIGKILL)
            exited = protocol.job_topic(job, "exited")
            if events.wait_for(lambda e, t=exited: e.topic == t, 10) is None:
                raise TimeoutError(f"no {exited} within 10 s")
            latency.append((time.time() - killed) * 1000)
            topic = protocol.job_topic(job, "running")
            event = events.wait_for(
                lambda e, t=topic, p=pid: e.topic == t and e.data["pid"] != p, 10
            )
            if event is None:
                raise TimeoutError(f"{job} (pid {pid}) was not restarted within 10 s")
            respawn.append((event.ts - killed) * 1000)
    finally:
        events.close()
    return respawn, latency


def timed_runs(argv: list[str], env: dict[str, str], times: int = 7) -> list[float]:
    samples = []
    for _ in range(times):
        begin = time.monotonic()
        run(argv, env)
        samples.append((time.monotonic() - begin) * 1000)
    return samples


def client_status(manager: ProcClaw, times: int = 7) -> list[float]:
    samples = []
    for _ in range(times):
        begin = time.monotonic()
        manager.client.call("status", {"job": "j0"})
        samples.append((time.monotonic() - begin) * 1000)
    return samples


def until_gone(manager: Manager, argv: list[str], pids: list[int] | set[int]) -> float:
    """Run a stop command; ms until every one of `pids` has exited."""
    begin = time.monotonic()
    run(argv, manager.env)
    left = list(pids)

    def gone() -> bool:
        left[:] = [pid for pid in left if _alive(pid)]
        return not left

    return (wait_until(gone, 60, "stop") - begin) * 1000


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pss_mib(pids: list[int]) -> float:
    return sum(psutil.Process(pid).memory_full_info().pss for pid in pids) / 2**20


def idle_cpu(pids: list[int], seconds: float = 10.0) -> float:
    """Percent of one core used by `pids` (all threads) while nothing happens."""
    before = sum(_schedstat(pid) for pid in pids)
    time.sleep(seconds)
    used = sum(_schedstat(pid) for pid in pids) - before
    return used / 1e9 / seconds * 100


def _schedstat(pid: int) -> int:
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                total += int(stat.read().split()[0])
        except OSError:
            pass  # a thread that ended in between
    return total


def log_throughput(cls: type[Manager]) -> tuple[float, int]:
    """Lines per second from the writer's start until the log holds every line, and the
    number of lines missing, doubled or out of place (0 when the log is intact)."""
    scratch = Path(tempfile.mkdtemp(prefix="pcb-w-", dir="/tmp"))
    try:
        writer, stamp = scratch / "writer.py", scratch / "started"
        writer.write_text(WRITER)
        job = Job("log", f"{sys.executable} {writer} {stamp}", log=True)
        with started(cls, [job], wait=False) as (manager, _):
            path = manager.log_file("log")
            wanted = LOG_LINES * LINE_BYTES
            full = wait_until(lambda: _size(path) >= wanted, 120, "log", 0.005)
            elapsed = full - time.monotonic() + time.time() - float(stamp.read_text())
            time.sleep(0.2)  # anything written twice would show up now
            return LOG_LINES / elapsed, _check_lines(path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _check_lines(path: Path) -> int:
    numbers = [int(line[:9]) for line in path.read_bytes().splitlines() if line[:9].isdigit()]
    unique = len(set(numbers))
    out_of_place = sum(a > b for a, b in zip(numbers, numbers[1:], strict=False))
    return (LOG_LINES - unique) + (len(numbers) - unique) + out_of_place


def popen_floor(count: int = 100, kills: int = 12) -> tuple[float, list[float]]:
    """Plain Popen of `count` sleeps (ms), then kill -9 to waitpid return (ms each)."""
    begin = time.monotonic()
    procs = [subprocess.Popen([SLEEP, "3600"]) for _ in range(count)]
    spawn = (time.monotonic() - begin) * 1000
    reaps = []
    for proc in procs:
        begin = time.monotonic()
        proc.kill()
        proc.wait(5)
        reaps.append((time.monotonic() - begin) * 1000)
    return spawn, reaps[:kills]
