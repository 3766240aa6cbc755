"""Commands and crashes that arrive at awkward moments."""

import os
import signal

import psutil
from conftest import PROGRAMS, is_gone, wait_until


def test_a_second_start_before_the_supervisor_is_up_starts_nothing_more(sandbox):
    sandbox.run_jobs("jobs:\n  svc:\n    cmd: sleep 300\n    isolate: true\n")
    client = sandbox.client()
    client.call("start", {"job": "svc"})
    second = sandbox.cli("start", "svc")
    assert second.returncode == 0 and second.stdout.startswith("svc: already ")
    pid = sandbox.wait_state("svc", "running")["pid"]
    assert [p.pid for p in psutil.Process(pid).parent().children() if p.name() == "sleep"] == [pid]
    sandbox.cli("stop", "svc", check=True)
    wait_until(lambda: sandbox.actor("job-svc") is None)
    assert sandbox.job("svc")["state"] == "stopped"  # and nothing queued starts it again


def test_a_stop_right_after_a_start_stops_the_job(sandbox):
    sandbox.run_jobs("jobs:\n  svc:\n    cmd: sleep 300\n    isolate: true\n")
    client = sandbox.client()
    client.call("start", {"job": "svc"})
    client.call("stop", {"job": "svc"})
    job = sandbox.wait_state("svc", "stopped")
    assert job["pid"] is None
    wait_until(lambda: sandbox.actor("job-svc") is None)


def test_restart_of_a_job_in_backoff_starts_it_at_once(sandbox):
    sandbox.run_jobs("""\
        jobs:
          flaky:
            type: continuous
            cmd: sh -c 'exit 1'
            retry: {delays: [60]}
        """)
    sandbox.wait_state("flaky", "backoff")
    result = sandbox.cli("restart", "flaky")
    assert result.stdout.startswith("flaky: ")
    # Its run under way reports `restarts: 0` (a restart begins the count anew); within
    # its 60 s backoff, a failed run counted means the restart started it at once.
    wait_until(lambda: sandbox.job("flaky")["restarts"] >= 1, timeout=10)


def test_daemon_stop_while_the_controller_restarts_still_stops_every_job(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          svc:
            type: continuous
            cmd: python3 {PROGRAMS}/counter.py
        """)
    job_pid = sandbox.wait_state("svc", "running")["pid"]
    tree = sandbox.remember_tree()
    for _ in range(3):  # the third death puts it in a 1 s backoff
        controller = wait_until(lambda: sandbox.actor_pid("controller"))
        os.kill(controller, signal.SIGKILL)
        wait_until(lambda c=controller: sandbox.actor_pid("controller") != c)
    sandbox.cli("daemon", "stop", "--timeout", "20", check=True)
    assert is_gone(job_pid)
    assert all(is_gone(pid) for pid in tree)


def test_an_orphaned_supervisor_that_dies_is_replaced_by_the_new_daemon(sandbox):
    sandbox.run_jobs("jobs:\n  svc:\n    type: continuous\n    cmd: sleep 300\n")
    job_pid = sandbox.wait_state("svc", "running")["pid"]
    name, supervisor = sandbox.supervisor_of("svc")
    sandbox.remember_tree()
    os.kill(sandbox.client().daemon_pid(), signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None)
    sandbox.start_daemon()
    wait_until(lambda: (sandbox.actor(name) or {}).get("pid") == supervisor)
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid(name) not in (None, supervisor), timeout=10)
    job = sandbox.wait_state("svc", "running")
    assert job["pid"] == job_pid  # adopted again, by the replacement
    sandbox.cli("stop", "svc", check=True)
    wait_until(lambda: is_gone(job_pid))


def test_list_answers_from_the_cache_when_supervisors_are_frozen(sandbox):
    """`list` asks no supervisor: it answers from what they reported, hung or not."""
    sandbox.run_jobs("""\
        jobs:
          a:
            type: continuous
            cmd: sleep 300
          b:
            type: continuous
            cmd: sleep 300
          c:
            type: continuous
            cmd: sleep 300
        """)
    for job in "abc":
        sandbox.wait_state(job, "running")
    frozen = {sandbox.supervisor_of("a")[1], sandbox.supervisor_of("b")[1]}
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        jobs = {job["id"]: job["state"] for job in sandbox.client().call("list")}
        assert jobs == {"a": "running", "b": "running", "c": "running"}
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
