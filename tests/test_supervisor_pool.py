"""A small pool of supervisors, each holding many jobs: what sharing one must not cost.

A supervisor's crash, a noisy neighbour, a controller crash mid-start and a thousand
jobs must cost no job its pid, its log lines or its promptness.
"""

import contextlib
import os
import signal
import subprocess
import time

import psutil
import pytest
from api_port import use_port
from conftest import PROGRAMS, is_gone, wait_until

from procclaw.rules.after_exit import QUICK_EXITS

COUNTER = f"python3 {PROGRAMS}/counter.py"
FLOOD = f"python3 {PROGRAMS}/flood.py"
# Restart at once, for as long as the test lasts.
RESTART_AT_ONCE = "retry: {delays: [0], max_attempts: 1000000}"
SLEEP = ["sleep", "600"]
PROMPT = 1.0  # seconds: generous; the point is no stall, not speed


def _pool_of(box, size: int) -> None:
    """procclaw.yaml with the pool size; start_daemon adds the port under `daemon:`."""
    box.write("procclaw.yaml", f"daemon:\n  supervisors: {size}\n")


def _service(job_id: str, cmd: str, *extra: str) -> str:
    lines = [f"  {job_id}:", "    type: continuous", f"    cmd: {cmd}"]
    return "\n".join([*lines, *(f"    {line}" for line in extra)]) + "\n"


def _jobs_yaml(*services: str) -> str:
    return "jobs:\n" + "".join(services)


def _sleepers(count: int) -> dict[str, str]:
    return {f"s{n:04d}": _service(f"s{n:04d}", " ".join(SLEEP)) for n in range(count)}


def _supervisor(box, job_id: str) -> tuple[str | None, int | None]:
    """The supervisor holding a live job, from its status: actor name and pid."""
    job = box.job(job_id)
    return job.get("supervisor"), job.get("sup_pid")


def _lines(box, job_id: str = "counter") -> int:
    log = box.home.job_log(job_id)
    return log.read_text().count("\n") if log.exists() else 0


def _log_size(box, job_id: str) -> int:
    log = box.home.job_log(job_id)
    return log.stat().st_size if log.exists() else 0


def _assert_counted_without_gap_or_duplicate(box) -> None:
    numbers = [int(line) for line in box.home.job_log("counter").read_text().splitlines()]
    assert numbers, "the counter logged nothing"
    assert numbers == list(range(len(numbers)))


def _jobs(box) -> list[dict]:
    return box.client(timeout=30).call("list")


def _running(box) -> int:
    return sum(job["state"] == "running" for job in _jobs(box))


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _job_processes(box, argv: list[str]) -> set[int]:
    """Pids of the processes under the daemon running `argv`: a job started twice shows."""
    root = box.client().daemon_pid()
    if root is None:
        return set()
    found = set()
    for process in _descendants(root):
        with contextlib.suppress(psutil.Error):
            if process.cmdline() == argv:
                found.add(process.pid)
    return found


@pytest.mark.timeout(180)
def test_kill_9_of_a_supervisor_holding_20_jobs_keeps_their_pids_and_loses_no_line(sandbox):
    """Root keeps every job's pipes, so a supervisor's crash costs nothing even when it
    holds many jobs: the replacement re-adopts all of them, with the same pids."""
    _pool_of(sandbox, 1)
    sleepers = _sleepers(19)
    sandbox.run_jobs(_jobs_yaml(_service("counter", COUNTER), *sleepers.values()))
    ids = ["counter", *sleepers]
    pids = {job_id: sandbox.wait_state(job_id, "running")["pid"] for job_id in ids}
    name, sup_pid = _supervisor(sandbox, "counter")
    assert {_supervisor(sandbox, job_id) for job_id in ids} == {(name, sup_pid)}
    assert sandbox.actor(name)["kind"] == "supervisor"
    events = sandbox.subscribe(f"actor.{name}.up")

    for _ in range(3):
        before = _lines(sandbox)
        wait_until(lambda b=before: _lines(sandbox) > b + 50)  # mid-stream
        os.kill(sup_pid, signal.SIGKILL)
        up = events.wait_for(lambda e, s=sup_pid: e.data["pid"] != s, timeout=5)
        assert up is not None, f"no replacement for {name} announced"
        assert up.data["name"] == name and up.data["kind"] == "supervisor"
        sup_pid = up.data["pid"]
        wait_until(
            lambda s=sup_pid: all(_supervisor(sandbox, job_id) == (name, s) for job_id in ids),
            timeout=15,
        )
        seen = {job_id: sandbox.job(job_id) for job_id in ids}
        assert {
            job_id: (job["state"], job["pid"], job["restarts"]) for job_id, job in seen.items()
        } == {job_id: ("running", pids[job_id], 0) for job_id in ids}

    count = _lines(sandbox)
    wait_until(lambda: _lines(sandbox) > count + 200)  # the replacement reads on
    sandbox.cli("stop", "counter", check=True)
    _assert_counted_without_gap_or_duplicate(sandbox)
    assert sandbox.job("counter")["restarts"] == 0
    assert all(psutil.Process(pids[job_id]).is_running() for job_id in sleepers)
    events.close()


@pytest.mark.timeout(180)
def test_a_flooding_and_a_crash_looping_neighbour_do_not_stall_a_job_in_their_supervisor(
    sandbox,
):
    """Sharing a supervisor must not mean sharing a neighbour's trouble: 100 MB of output
    and crash loops are work on the same loop, and the quiet job still answers at once,
    stops at once and loses no line. (A crash loop is slowed after QUICK_EXITS quick exits,
    so ten crashers keep the loop busy with restarts.)"""
    _pool_of(sandbox, 1)
    crashers = [f"crasher{n}" for n in range(10)]
    sandbox.run_jobs(
        _jobs_yaml(
            _service("flood", FLOOD, RESTART_AT_ONCE),
            *(_service(job_id, "sh -c 'exit 1'", RESTART_AT_ONCE) for job_id in crashers),
            _service("counter", COUNTER),
        )
    )
    sandbox.wait_state("counter", "running")
    wait_until(lambda: _log_size(sandbox, "flood") > 1024 * 1024, timeout=30)  # flooding
    for job_id in crashers:  # looping
        wait_until(lambda j=job_id: sandbox.job(j)["restarts"] >= QUICK_EXITS, timeout=30)
    holders = {
        wait_until(lambda j=job_id: _supervisor(sandbox, j)[0])
        for job_id in ("flood", *crashers, "counter")
    }
    assert len(holders) == 1, holders

    latencies = []
    for _ in range(20):
        began = time.monotonic()
        assert sandbox.job("counter")["state"] == "running"
        latencies.append(time.monotonic() - began)
    assert max(latencies) < PROMPT, latencies

    before = _lines(sandbox)
    wait_until(lambda: _lines(sandbox) > before + 500)  # still logged, in the din
    began = time.monotonic()
    sandbox.cli("stop", "counter", check=True)
    assert time.monotonic() - began < 5 * PROMPT
    _assert_counted_without_gap_or_duplicate(sandbox)
    assert sandbox.job("counter")["restarts"] == 0


@pytest.mark.timeout(360)
def test_kill_9_of_the_controller_while_300_jobs_start_ends_with_each_running_once(sandbox):
    """What was asked is kept durably: a controller killed in the middle of starting
    300 jobs finishes the start once it is back, and starts no job twice."""
    sandbox.write("jobs.yaml", _jobs_yaml(*_sleepers(300).values()))
    use_port(sandbox.home.config_file, sandbox.api_port)
    # Not sandbox.start_daemon(): by the time it returns most jobs run. Watch the
    # processes, not the controller, which is busy starting them.
    with subprocess.Popen(
        [sandbox.cli_path(), "daemon", "start"], env=sandbox.env, stdout=subprocess.DEVNULL
    ) as starting:
        wait_until(lambda: _job_processes(sandbox, SLEEP), timeout=60, interval=0.005)
        controller = sandbox.actor("controller")["pid"]  # up or not yet: it is at work
        os.kill(controller, signal.SIGKILL)
        assert starting.wait(timeout=60) == 0
    sandbox.remember_tree()
    wait_until(lambda: sandbox.actor_pid("controller") not in (None, controller), timeout=15)

    wait_until(lambda: _running(sandbox) == 300, timeout=240, interval=0.5)
    jobs = _jobs(sandbox)
    assert [job["restarts"] for job in jobs] == [0] * 300
    pids = {job["pid"] for job in jobs}
    assert len(pids) == 300
    wait_until(lambda: _job_processes(sandbox, SLEEP) == pids, timeout=30)


@pytest.mark.timeout(900)
def test_a_thousand_jobs_start_and_stop_and_the_daemon_then_stops_in_bounded_time(sandbox):
    """The pool is what makes a thousand jobs affordable: a handful of supervisors hold
    them, they all start, all stop with one command, and the daemon then leaves."""
    sleepers = _sleepers(1000)
    sandbox.run_jobs(_jobs_yaml(*sleepers.values()))
    wait_until(lambda: _running(sandbox) == 1000, timeout=300, interval=1)
    pids = [job["pid"] for job in _jobs(sandbox)]
    supervisors = [a for a in sandbox.daemon_status()["actors"] if a["kind"] == "supervisor"]
    assert 1 <= len(supervisors) <= max(2, os.cpu_count() or 1)
    assert all(actor["state"] == "up" for actor in supervisors)

    stopped = sandbox.cli("stop", "--all", "--timeout", "300", timeout=360, check=True)
    assert len(stopped.stdout.splitlines()) == 1000
    assert {job["state"] for job in _jobs(sandbox)} == {"stopped"}
    wait_until(lambda: all(is_gone(pid) for pid in pids), timeout=30, interval=0.2)

    tree = sandbox.remember_tree()
    began = time.monotonic()
    result = sandbox.cli("daemon", "stop", "--timeout", "60", timeout=90)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began < 60
    assert all(is_gone(pid) for pid in tree)


@pytest.mark.timeout(120)
def test_a_supervisor_holding_many_large_jobs_is_adopted_by_the_next_daemon(sandbox):
    """After a root kill, an orphaned supervisor tells the next daemon every job it holds,
    however much that is, and that daemon still stops them all."""
    _pool_of(sandbox, 1)
    # Each job's config travels with it: together, past 1 MiB (one padding, by alias).
    padding = f"env: &pad {{PAD: {'x' * 4096}}}"
    jobs = [
        _service(f"s{n:03d}", " ".join(SLEEP), padding if n == 0 else "env: *pad")
        for n in range(300)
    ]
    sandbox.run_jobs(_jobs_yaml(*jobs))
    wait_until(lambda: _running(sandbox) == 300, timeout=60)
    pids = {job["id"]: job["pid"] for job in _jobs(sandbox)}
    name, supervisor = sandbox.supervisor_of("s000")
    tree = sandbox.remember_tree()
    os.kill(sandbox.client().daemon_pid(), signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None)
    sandbox.start_daemon()
    wait_until(lambda: sandbox.actor_pid(name) == supervisor)
    wait_until(lambda: len(sandbox.held_jobs()) == 300)
    assert {job["id"]: job["pid"] for job in _jobs(sandbox)} == pids
    tree |= sandbox.remember_tree()
    sandbox.cli("daemon", "stop", check=True, timeout=60)
    assert all(is_gone(pid) for pid in tree | set(pids.values()))


def test_a_job_placed_again_while_it_runs_is_not_run_twice(sandbox):
    """Placed anew as it left rest (a restart's stop had just been recorded): the one
    run carries on, reporting as the newer placement so the controller hears it."""
    from procclaw.config import load_config
    from procclaw.config.job_wire import job_to_wire
    from procclaw.placement import Placement

    sandbox.run_jobs(_jobs_yaml(_service("svc", " ".join(SLEEP))))
    job = sandbox.wait_state("svc", "running")
    name, _ = sandbox.supervisor_of("svc")
    client = sandbox.client()
    generation = client.call_endpoint(name, "state", {"job": "svc"})["generation"]
    config = job_to_wire(load_config(sandbox.home).job("svc"))
    again = Placement("svc", name, config, generation=generation + 1)
    client.call_endpoint("daemon", "supervise", {"placements": [again.to_wire()]})
    wait_until(
        lambda: client.call_endpoint(name, "state", {"job": "svc"})["generation"] > generation
    )
    assert sandbox.job("svc")["pid"] == job["pid"]
    # By pid, not name: a run that joins its cgroup is `sh` until it execs the job.
    supervisor = psutil.Process(sandbox.job("svc")["sup_pid"])
    runs = [child.pid for child in supervisor.children() if child.name() != "pc-spawner"]
    assert runs == [job["pid"]]


def test_a_restart_of_a_job_that_ended_a_moment_ago_starts_it(sandbox):
    """Its last report not yet on record, the job is still held: a restart starts it,
    and a stop leaves it at rest, instead of either being refused."""
    sandbox.run_jobs(_jobs_yaml("  once:\n    cmd: sleep 300\n"))
    sandbox.cli("start", "once", check=True)
    job = sandbox.job("once")
    name, _ = sandbox.supervisor_of("once")
    client = sandbox.client()
    controller = sandbox.actor_pid("controller")
    os.kill(controller, signal.SIGSTOP)  # the end of the run cannot be recorded now
    try:
        os.kill(job["pid"], signal.SIGTERM)
        wait_until(lambda: client.call_endpoint(name, "state", {"job": "once"})["pid"] is None)
        assert client.call_endpoint(name, "stop", {"job": "once"})["state"] == "failed"
        restarted = client.call_endpoint(name, "restart", {"job": "once"})
        assert restarted["state"] == "running" and restarted["pid"] != job["pid"]
    finally:
        os.kill(controller, signal.SIGCONT)
    assert sandbox.wait_state("once", "running")["pid"] == restarted["pid"]


@pytest.mark.timeout(120)
def test_a_supervisor_killed_over_and_over_is_replaced_at_once_every_time(sandbox):
    """No actor backoff for a supervisor whose jobs are alive: their output waits in the
    pipes for it. Eight kills in a row, each replacement up within a second, and the
    counter that logs every millisecond has no gap."""
    _pool_of(sandbox, 1)
    sandbox.run_jobs(_jobs_yaml(_service("counter", COUNTER)))
    pid = sandbox.wait_state("counter", "running")["pid"]
    name, sup_pid = _supervisor(sandbox, "counter")
    events = sandbox.subscribe(f"actor.{name}.up")
    for _ in range(8):
        killed_at = time.monotonic()
        os.kill(sup_pid, signal.SIGKILL)
        up = events.wait_for(lambda e, s=sup_pid: e.data["pid"] != s, timeout=5)
        assert up is not None and time.monotonic() - killed_at < PROMPT
        sup_pid = up.data["pid"]
        wait_until(lambda s=sup_pid: _supervisor(sandbox, "counter") == (name, s), timeout=5)
    count = _lines(sandbox)
    wait_until(lambda: _lines(sandbox) > count + 200)  # the last replacement reads on
    sandbox.cli("stop", "counter", check=True)
    _assert_counted_without_gap_or_duplicate(sandbox)
    assert sandbox.job("counter")["restarts"] == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    events.close()
