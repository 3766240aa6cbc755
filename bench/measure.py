"""The measurements of bench/compare.py, one function per metric, each on a running manager.

Times are returned in milliseconds. Nothing here prints: compare.py gathers and renders.
"""

from __future__ import annotations

import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from managers import JOB_COMM, SLEEP, Job, Manager, ProcClaw, run, wait_until

from procclaw import protocol
from procclaw.client import ClientError
from procclaw.subscription import Subscription

LINE_BYTES = 100
WRITER = """\
import os, sys, time
with open(sys.argv[1], "w") as stamp:
    stamp.write(repr(time.time()))
pad = "x" * {pad}
sys.stdout.reconfigure(line_buffering=True)  # a write() per line, as a chatty logger
write = sys.stdout.write
for i in range({lines}):
    write(f"{{i:09d}} {{pad}}\\n")
sys.stdout.flush()
os.execv({sleep!r}, ["sleep", "3600"])  # stay up: a continuous job must not restart
"""


@contextmanager
def started(cls: type[Manager], jobs: list[Job], wait: bool = True) -> Iterator[tuple]:
    """A manager in a fresh directory, launched; yields it and the ms until every job's
    process was exec'd (0 when `wait` is false)."""
    root = Path(tempfile.mkdtemp(prefix=f"pcb-{cls.name[:4].lower()}-", dir="/tmp"))
    manager = cls(root)
    manager.configure(jobs)
    try:
        begin = time.monotonic()
        manager.launch()
        done = begin
        if wait:
            done = wait_until(lambda: manager.running() >= len(jobs), 300, "cold start", 0.01)
        yield manager, (done - begin) * 1000
    finally:
        manager.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def settle(manager: Manager, running: int, pause: float) -> None:
    """Wait until the manager itself reports `running` jobs running, then `pause` s more,
    so that no measurement starts while the manager is still busy with the last one."""
    wait_until(lambda: _reported(manager) == running, 60, "settle", 0.05)
    time.sleep(pause)


def wait_listed(manager: Manager, count: int) -> None:
    """Wait until the manager's API answers with all `count` jobs defined."""
    wait_until(lambda: _listed(manager) >= count, 120, "daemon ready", 0.05)


# What a manager's client raises while its daemon is not serving yet.
_NOT_YET = (ClientError, OSError, xmlrpc.client.Fault)


def _reported(manager: Manager) -> int:
    try:
        return manager.reported_running()
    except _NOT_YET:
        return -1


def _listed(manager: Manager) -> int:
    try:
        return len(manager.status_all())
    except _NOT_YET:
        return 0


def timed_calls(call: Callable[[], object], times: int) -> list[float]:
    """ms of each of `times` calls, after one untimed call that opens connections."""
    call()
    samples = []
    for _ in range(times):
        begin = time.perf_counter()
        call()
        samples.append((time.perf_counter() - begin) * 1000)
    return samples


def timed_runs(argv: list[str], env: dict[str, str], times: int = 7) -> list[float]:
    samples = []
    for _ in range(times):
        begin = time.monotonic()
        run(argv, env)
        samples.append((time.monotonic() - begin) * 1000)
    return samples


def until_running(manager: Manager, ask: Callable[[], object], count: int) -> float:
    """ms from asking until `count` job processes were exec'd under the daemon."""
    begin = time.monotonic()
    ask()
    return (wait_until(lambda: manager.running() >= count, 120, "start", 0.005) - begin) * 1000


def until_gone(ask: Callable[[], object], pids: list[int] | set[int]) -> float:
    """ms from asking until every one of `pids` has exited (a zombie counts as exited).

    Each pid is watched by a pidfd opened before asking, which the kernel makes readable
    when the process exits: the moment is exact, and the wait takes no CPU from the
    manager (a scan of /proc every few milliseconds took both).
    """
    watches = []
    for pid in pids:
        try:
            watches.append(os.pidfd_open(pid))
        except ProcessLookupError:
            pass  # gone already
    poller = select.poll()
    for watch in watches:
        poller.register(watch, select.POLLIN)
    try:
        begin = time.monotonic()
        deadline = begin + 120
        ask()
        left = len(watches)
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError(f"stop: {left} processes still there after 120 s")
            for watch, _ in poller.poll(wait * 1000):
                poller.unregister(watch)
                left -= 1
        return (time.monotonic() - begin) * 1000
    finally:
        for watch in watches:
            os.close(watch)


def respawns(manager: Manager, victims: list[int], rng: random.Random) -> list[float]:
    """kill -9 of each victim at random offsets until a new `sleep` was exec'd by any
    process of the manager: ms each."""
    samples = []
    for pid in victims:
        time.sleep(rng.uniform(0.05, 0.5))  # random offsets: no periodic loop can hide
        parents = set(manager.manager_pids())
        before = _proc_pids()
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        up = wait_until(lambda p=parents, b=before: _new_job(p, b), 10, f"respawn of {pid}", 0.0005)
        samples.append((up - killed) * 1000)
    return samples


def _proc_pids() -> set[int]:
    return {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}


def _new_job(parents: set[int], before: set[int]) -> bool:
    """A `sleep` started since `before` under one of `parents` (at any depth: a manager
    may spawn through a helper that it then leaves)."""
    for pid in _proc_pids() - before:
        stat = _stat(pid)
        if stat is None or stat[1] != JOB_COMM:
            continue
        for _ in range(8):
            ppid = stat[0]
            if ppid in parents:
                return True
            if ppid <= 1 or (stat := _stat(ppid)) is None:
                break
    return False


def _stat(pid: int) -> tuple[int, str] | None:
    """(ppid, comm) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    close = text.rindex(")")
    return int(text[close + 2 :].split()[1]), text[text.index("(") + 1 : close]


def procclaw_event_latency(manager: ProcClaw, jobs: list[str], rng: random.Random) -> list[float]:
    """ms from each job's kill -9 until its `job.<id>.exited` event reaches a subscriber."""
    events = Subscription(manager.home, ("job.",))
    events.sync(manager.client)
    latency = []
    try:
        for job in jobs:
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
    finally:
        events.close()
    return latency


def pss_mib(pids: list[int]) -> float:
    """The summed `Pss:` of /proc/<pid>/smaps_rollup, in MiB."""
    total_kib = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total_kib += int(line.split()[1])
                        break
        except OSError:
            pass  # gone in between
    return total_kib / 1024


def idle_cpu(pids: Callable[[], list[int]], seconds: float) -> tuple[float, int]:
    """Percent of one core used by the processes `pids()` names (all their threads) while
    nothing happens, from the ns on CPU in /proc/<pid>/task/<tid>/schedstat; and how
    many threads ended within the window (what they used then is not counted).

    A thread or process that appeared within the window counts with all its time."""
    before = _thread_times(pids())
    time.sleep(seconds)
    after = _thread_times(pids())
    used = sum(ns - before.get(tid, 0) for tid, ns in after.items())
    return used / 1e9 / seconds * 100, len(before.keys() - after.keys())


def _thread_times(pids: list[int]) -> dict[int, int]:
    """tid -> ns on CPU, for every thread of `pids`."""
    times = {}
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # gone in between
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as stat:
                    times[int(task)] = int(stat.read().split()[0])
            except OSError:
                pass  # a thread that ended in between
    return times


def log_throughput(cls: type[Manager], lines: int, pause: float) -> tuple[float, int]:
    """Lines per second from the writer's start until the log holds every line, and the
    number of lines missing, doubled or out of place (0 when the log is intact).

    The writer is started through the manager's client once the manager has settled
    (`pause` s after it answers), so that what is measured is the way from the job's
    pipe to its log, not that path competing with the manager's own start."""
    scratch = Path(tempfile.mkdtemp(prefix="pcb-w-", dir="/tmp"))
    try:
        writer, stamp = scratch / "writer.py", scratch / "started"
        writer.write_text(WRITER.format(pad=LINE_BYTES - 11, lines=lines, sleep=SLEEP))
        job = Job("log", f"{sys.executable} {writer} {stamp}", log=True, autostart=False)
        with started(cls, [job], wait=False) as (manager, _):
            wait_listed(manager, 1)
            time.sleep(pause)
            manager.start_job("log")
            path = manager.log_file("log")
            wanted = lines * LINE_BYTES
            full = wait_until(lambda: _size(path) >= wanted, 120, "log", 0.005)
            elapsed = full - time.monotonic() + time.time() - float(stamp.read_text())
            time.sleep(0.2)  # anything written twice would show up now
            return lines / elapsed, _check_lines(path, lines)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _check_lines(path: Path, lines: int) -> int:
    numbers = [int(line[:9]) for line in path.read_bytes().splitlines() if line[:9].isdigit()]
    unique = len(set(numbers))
    out_of_place = sum(a > b for a, b in zip(numbers, numbers[1:], strict=False))
    return (lines - unique) + (len(numbers) - unique) + out_of_place


def popen_floor(count: int = 100, kills: int = 12) -> tuple[float, float]:
    """Plain Popen of `count` sleeps (ms), then the median kill -9 to waitpid return (ms)."""
    begin = time.monotonic()
    procs = [subprocess.Popen([SLEEP, "3600"]) for _ in range(count)]
    spawn = (time.monotonic() - begin) * 1000
    reaps = []
    for proc in procs:
        begin = time.monotonic()
        proc.kill()
        proc.wait(5)
        reaps.append((time.monotonic() - begin) * 1000)
    return spawn, statistics.median(reaps[:kills])
