"""Jobs outlive the death of their supervisor, and of the whole daemon."""

import os
import signal
import time

import psutil
import pytest
from conftest import PROGRAMS, is_gone, wait_until

from procclaw.client import ClientError
from procclaw.store import Store

COUNTER = f"""\
    jobs:
      counter:
        type: continuous
        cmd: python3 {PROGRAMS}/counter.py
    """


def _lines(box):
    """Lines the counter logged so far (none before its first: no file yet)."""
    log = box.home.job_log("counter")
    return log.read_text().count("\n") if log.exists() else 0


def test_kill_9_of_a_supervisor_keeps_the_job_and_loses_no_line(sandbox):
    numbers = counted_lines_across_supervisor_kills(sandbox, KILLS)
    assert numbers == list(range(len(numbers)))  # no gap, no duplicate


KILLS = 4


def counted_lines_across_supervisor_kills(sandbox, kills: int) -> list[int]:
    """The counter job's log, as numbers, after its supervisor was killed mid-stream
    `kills` times and the job stopped; the job kept its pid and was never restarted."""
    sandbox.run_jobs(COUNTER)
    job_pid = sandbox.wait_state("counter", "running")["pid"]
    name, _ = sandbox.supervisor_of("counter")
    events = sandbox.subscribe(f"actor.{name}.up")
    for _ in range(kills):
        supervisor = sandbox.actor_pid(name) or wait_until(lambda: sandbox.actor_pid(name))
        before = _lines(sandbox)
        wait_until(lambda b=before: _lines(sandbox) > b + 50)  # mid-stream
        os.kill(supervisor, signal.SIGKILL)
        up = events.wait_for(lambda e, s=supervisor: e.data["pid"] != s, timeout=5)
        assert up is not None
        assert sandbox.wait_state("counter", "running")["pid"] == job_pid
    count = _lines(sandbox)
    wait_until(lambda: _lines(sandbox) > count + 200)  # the new supervisor reads on
    sandbox.cli("stop", "counter", check=True)
    text = sandbox.home.job_log("counter").read_text()
    assert sandbox.job("counter")["restarts"] == 0
    events.close()
    return [int(line) for line in text.splitlines()]


def job_ended_unsupervised(sandbox) -> dict:
    """A job SIGTERMed while its supervisor is frozen, then the supervisor killed: the
    job's facts once a replacement has recorded it."""
    sandbox.run_jobs("jobs:\n  brief:\n    cmd: sleep 300\n")
    sandbox.cli("start", "brief", check=True)
    job = sandbox.job("brief")
    _, supervisor = sandbox.supervisor_of("brief")
    os.kill(supervisor, signal.SIGSTOP)  # freeze it, so the job dies unsupervised
    try:
        os.kill(job["pid"], signal.SIGTERM)
        wait_until(lambda: is_gone(job["pid"]))
    finally:
        os.kill(supervisor, signal.SIGKILL)
    return sandbox.wait_state("brief", "failed")


def test_a_job_that_exits_while_its_supervisor_is_dead_is_seen_with_its_exit_code(sandbox):
    assert job_ended_unsupervised(sandbox)["last_exit"] == "killed by SIGTERM"


def test_kill_9_of_root_leaves_jobs_running_and_the_next_daemon_adopts_them(sandbox):
    sandbox.run_jobs(COUNTER)
    job_pid = sandbox.wait_state("counter", "running")["pid"]
    name, supervisor = sandbox.supervisor_of("counter")
    tree = sandbox.remember_tree()
    root = sandbox.client().daemon_pid()
    os.kill(root, signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None)
    lines = _lines(sandbox)
    wait_until(lambda: _lines(sandbox) > lines + 100)  # still running, still logged
    assert psutil.Process(job_pid).is_running()

    sandbox.start_daemon()
    # The orphaned supervisor checks in as soon as the new root listens.
    wait_until(lambda: sandbox.actor_pid(name) == supervisor, timeout=5)
    tree |= sandbox.remember_tree()
    job = sandbox.wait_state("counter", "running")
    assert job["pid"] == job_pid
    sandbox.cli("stop", "counter", check=True)
    wait_until(lambda: is_gone(job_pid))
    numbers = [int(line) for line in sandbox.home.job_log("counter").read_text().splitlines()]
    assert numbers == list(range(len(numbers)))
    sandbox.cli("daemon", "stop", check=True)
    assert not [pid for pid in tree if not is_gone(pid)]


def test_after_root_and_supervisor_both_died_the_job_is_adopted_by_pid_and_start_time(sandbox):
    sandbox.run_jobs("""\
        jobs:
          quiet:
            type: continuous
            cmd: sleep 300
        """)
    job_pid = sandbox.wait_state("quiet", "running")["pid"]
    _, supervisor = sandbox.supervisor_of("quiet")
    sandbox.remember_tree()
    os.kill(sandbox.client().daemon_pid(), signal.SIGKILL)
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None)
    wait_until(lambda: is_gone(supervisor))

    sandbox.start_daemon()
    job = sandbox.wait_state("quiet", "running")
    assert job["pid"] == job_pid
    sandbox.cli("stop", "quiet", check=True)
    wait_until(lambda: is_gone(job_pid))


def test_a_reused_pid_is_never_adopted_or_signalled(sandbox):
    sandbox.run_jobs("jobs:\n  quiet:\n    type: continuous\n    cmd: sleep 300\n")
    sandbox.wait_state("quiet", "running")
    sandbox.remember_tree()
    os.kill(sandbox.client().daemon_pid(), signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None)
    # Kill the job and its supervisor, then point the record's pids at a bystander:
    # the pid now belongs to another process, as after pid reuse.
    store = Store(sandbox.home.db_file)
    facts = store.job_states()["quiet"]
    for pid in (facts["pid"], facts["sup_pid"]):
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: is_gone(facts["pid"]))
    bystander = psutil.Popen(["sleep", "300"])
    try:
        facts.update(pid=bystander.pid, sup_pid=bystander.pid)  # a pid, wrong start time
        store.save_job_state("quiet", facts)
        store.close()
        sandbox.start_daemon()
        job = sandbox.wait_state("quiet", "running")
        assert job["pid"] != bystander.pid  # started afresh
        assert bystander.is_running() and bystander.status() != psutil.STATUS_ZOMBIE
    finally:
        bystander.kill()
        bystander.wait()


def test_a_stop_under_way_survives_the_death_of_the_supervisor(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          stubborn:
            cmd: python3 {PROGRAMS}/ignore_term.py
            shutdown: {{grace_period: 2}}
        """)
    sandbox.cli("start", "stubborn", check=True)
    sandbox.wait_output("stubborn", "up")  # SIGTERM is ignored from here on
    job_pid = sandbox.job("stubborn")["pid"]
    events = sandbox.subscribe("job.stubborn.")
    sandbox.client().call("stop", {"job": "stubborn"})
    assert events.wait_for(lambda e: e.topic == "job.stubborn.stopping", timeout=5)
    os.kill(sandbox.supervisor_of("stubborn")[1], signal.SIGKILL)
    stopped = events.wait_for(lambda e: e.topic == "job.stubborn.stopped", timeout=10)
    assert stopped is not None  # the replacement kept the grace deadline and killed it
    wait_until(lambda: is_gone(job_pid))
    events.close()


def test_a_job_that_ended_while_its_supervisor_was_recording_it_is_not_run_again(sandbox):
    sandbox.run_jobs("jobs:\n  once:\n    cmd: sh -c 'echo hi; exit 4'\n    isolate: true\n")
    controller = sandbox.actor_pid("controller")
    os.kill(controller, signal.SIGSTOP)  # reports cannot be acknowledged now
    try:
        client = sandbox.client()
        client.call_endpoint("daemon", "supervise", _supervise_args(sandbox, "once"))
        ended = wait_until(lambda: _held_state(client, "job-once", "once") == "failed")
        assert ended  # and not on record: the controller is frozen
        os.kill(sandbox.actor_pid("job-once"), signal.SIGKILL)
    finally:
        os.kill(controller, signal.SIGCONT)
    job = sandbox.wait_state("once", "failed")
    assert job["last_exit"] == "exit code 4"
    wait_until(lambda: sandbox.actor("job-once") is None)
    assert sandbox.home.job_log("once").read_text() == "hi\n"  # ran once


def _held_state(client, supervisor, job_id):
    try:
        return client.call_endpoint(supervisor, "state", {"job": job_id}, timeout=1)["state"]
    except ClientError:
        return None  # not up yet


def _supervise_args(box, job_id):
    """What the controller sends root to start a job (the controller is frozen here)."""
    from procclaw.config import load_config
    from procclaw.config.job_wire import job_to_wire
    from procclaw.placement import Placement

    job = load_config(box.home).job(job_id)
    placement = Placement(job_id, f"job-{job_id}", job_to_wire(job), generation=1, isolated=True)
    return {"placements": [placement.to_wire()]}


@pytest.mark.parametrize("victim", ["supervisor", "controller"])
def test_an_actor_that_dies_during_daemon_stop_is_replaced_and_the_job_still_stops(sandbox, victim):
    """Only a supervisor stops its jobs gracefully, and it exits only once the controller
    has its last reports on record: root replaces either one that dies while the jobs
    stop (a stop with no controller used to wait for good)."""
    import subprocess

    sandbox.run_jobs(f"""\
        jobs:
          stubborn:
            type: continuous
            cmd: python3 {PROGRAMS}/ignore_term.py
            shutdown: {{grace_period: 2}}
        """)
    job_pid = sandbox.wait_state("stubborn", "running")["pid"]
    sandbox.wait_output("stubborn", "up")  # SIGTERM is ignored from here on
    if victim == "supervisor":
        victim_pid = sandbox.supervisor_of("stubborn")[1]
    else:
        victim_pid = sandbox.actor_pid("controller")
    tree = sandbox.remember_tree()
    events = sandbox.subscribe("job.stubborn.")
    stopping = subprocess.Popen(
        [sandbox.cli_path(), "daemon", "stop"],
        env=sandbox.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    began = events.wait_for(lambda e: e.topic == "job.stubborn.stopping", timeout=10)
    assert began is not None
    os.kill(victim_pid, signal.SIGKILL)
    assert stopping.wait(timeout=30) == 0
    assert time.time() - began.ts >= 2  # the grace period was kept
    assert is_gone(job_pid)  # and the job killed at its end
    assert all(is_gone(pid) for pid in tree)
    events.close()
    replaced = {"supervisor": "stopping its jobs", "controller": "the supervisors stop"}
    assert f"died while {replaced[victim]}" in sandbox.home.daemon_log.read_text()


def test_a_job_left_by_an_earlier_procclaw_is_taken_over_by_pid(sandbox):
    """An earlier release's supervisor speaks another protocol: it is retired, and its
    job kept running under a supervisor of ours."""
    from actors.runtime.job_process import process_start_time

    sandbox.run_jobs("jobs:\n  quiet:\n    type: continuous\n    cmd: sleep 300\n")
    job_pid = sandbox.wait_state("quiet", "running")["pid"]
    _, supervisor = sandbox.supervisor_of("quiet")
    sandbox.remember_tree()
    os.kill(sandbox.client().daemon_pid(), signal.SIGKILL)
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None and is_gone(supervisor))
    earlier = psutil.Popen(["sleep", "300"])  # stands in for the earlier supervisor
    try:
        store = Store(sandbox.home.db_file)
        facts = store.job_states()["quiet"]
        del facts["supervisor"]  # earlier releases named none: one supervisor per job
        facts.update(sup_pid=earlier.pid, sup_start=process_start_time(earlier.pid))
        store.save_job_state("quiet", facts)
        store.close()
        sandbox.start_daemon()
        assert earlier.wait(timeout=10) == -signal.SIGKILL
        job = sandbox.wait_state("quiet", "running")
        assert job["pid"] == job_pid and job["supervisor"]
    finally:
        if earlier.poll() is None:
            earlier.kill()
            earlier.wait()
    sandbox.cli("stop", "quiet", check=True)
    wait_until(lambda: is_gone(job_pid))
