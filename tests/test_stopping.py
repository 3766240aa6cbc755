"""Stopping a job: signal to the group, grace period, then SIGKILL to everything it left."""

import os
import signal
import time

import psutil
import pytest
from conftest import PROGRAMS, is_gone, wait_until

from procclaw.client import ClientError

TREE = """\
    jobs:
      tree:
        shell: true
        cmd: >-
          (setsid sleep 301 &) ;
          sleep 300 &
          echo started; wait
        shutdown:
          grace_period: 5
    """


def _sleeps_of(job_id, seconds):
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            mine = process.info["cmdline"] == ["sleep", seconds]
            if mine and process.environ().get("PROCCLAW_JOB") == job_id:
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def test_stop_kills_the_group_and_a_grandchild_that_left_it(sandbox):
    sandbox.run_jobs(TREE)
    sandbox.cli("start", "tree", check=True)
    pid = sandbox.job("tree")["pid"]
    in_group = wait_until(lambda: _sleeps_of("tree", "300"))
    escaped = wait_until(lambda: _sleeps_of("tree", "301"))
    assert os.getpgid(in_group[0]) == pid
    assert os.getsid(escaped[0]) == escaped[0]  # setsid'd: neither our group nor session
    sandbox.remember_tree()

    result = sandbox.cli("stop", "tree", check=True)
    assert result.stdout.strip() == "tree: stopped"
    for leftover in (pid, *in_group, *escaped):
        wait_until(lambda p=leftover: is_gone(p), timeout=5)


def test_stop_kills_a_grandchild_that_left_the_group_and_cleared_its_environment(sandbox):
    """No group and no run marker to find it by: it was below the run when the stop began."""
    sandbox.run_jobs("jobs:\n  hider:\n    cmd: sh -c 'setsid env -i sleep 303 & wait'\n")
    sandbox.cli("start", "hider", check=True)
    pid = sandbox.job("hider")["pid"]
    hidden = wait_until(lambda: psutil.Process(pid).children())[0]
    wait_until(lambda: hidden.cmdline() == ["sleep", "303"])
    assert os.getsid(hidden.pid) == hidden.pid and "PROCCLAW_RUN" not in hidden.environ()
    sandbox.remember_tree()

    assert sandbox.cli("stop", "hider", check=True).stdout.strip() == "hider: stopped"
    wait_until(lambda: is_gone(hidden.pid), timeout=5)


def test_what_a_finished_run_left_behind_is_killed_and_reaped(sandbox):
    go = sandbox.home.root / "go"  # the job ends once the test has seen what it left
    sandbox.run_jobs(f"""\
        jobs:
          leaver:
            shell: true
            cmd: (setsid sleep 302 &); for i in $(seq 999); do [ -e {go} ] && break; sleep .02; done
        """)
    events = sandbox.subscribe("job.leaver.")
    sandbox.cli("start", "leaver", check=True)
    escaped = wait_until(lambda: _sleeps_of("leaver", "302"))
    go.touch()
    assert events.wait_for(lambda e: e.topic == "job.leaver.completed", timeout=10)
    wait_until(lambda: is_gone(escaped[0]), timeout=5)
    events.close()


def test_a_job_ignoring_sigterm_is_killed_when_its_grace_period_ends(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          stubborn:
            cmd: python3 {PROGRAMS}/ignore_term.py
            shutdown:
              grace_period: 1.5
        """)
    sandbox.cli("start", "stubborn", check=True)
    sandbox.wait_output("stubborn", "up")
    events = sandbox.subscribe("job.stubborn.")
    started = time.monotonic()
    sandbox.cli("stop", "stubborn", check=True)
    took = time.monotonic() - started
    assert took >= 1.5
    stopped = events.wait_for(lambda e: e.topic == "job.stubborn.stopped", timeout=5)
    assert stopped is not None and stopped.data["last_exit"] == "killed by SIGKILL"
    run = sandbox.job("stubborn")["last_run"]
    assert (run["signal"], run["result"]) == ("SIGKILL", "stopped")
    events.close()


def test_nothing_respawns_between_sigterm_and_sigkill(sandbox):
    sandbox.run_jobs("""\
        jobs:
          svc:
            type: continuous
            shell: true
            cmd: trap 'exit 0' TERM; while true; do sleep 0.05; done
            shutdown:
              grace_period: 10
        """)
    sandbox.wait_state("svc", "running")
    events = sandbox.subscribe("job.svc.")
    sandbox.cli("stop", "svc", check=True)
    seen = []
    while (event := events.wait_for(lambda e: True, timeout=0.5)) is not None:
        seen.append(event.topic)
    # The first run's own `starting` and `running` may still be on their way when we
    # subscribe (a supervisor publishes them once the controller has them on record);
    # one supervisor's events come in order, so a respawn is one after the stop began.
    assert "job.svc.stopping" in seen, seen
    after_stop = seen[seen.index("job.svc.stopping") :]
    assert "job.svc.starting" not in after_stop and "job.svc.backoff" not in after_stop, seen
    assert sandbox.job("svc")["state"] == "stopped"
    events.close()


def test_a_stopped_sigstop_job_is_woken_and_stops_within_its_grace(sandbox):
    sandbox.run_jobs("jobs:\n  frozen:\n    cmd: sleep 300\n    shutdown: {grace_period: 30}\n")
    sandbox.cli("start", "frozen", check=True)
    pid = sandbox.job("frozen")["pid"]
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: psutil.Process(pid).status() == psutil.STATUS_STOPPED)
    started = time.monotonic()
    sandbox.cli("stop", "frozen", check=True)
    assert time.monotonic() - started < 10  # SIGTERM acted: no wait for the 30 s grace
    assert sandbox.job("frozen")["last_exit"] == "killed by SIGTERM"


def test_stop_force_kills_at_once(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          stubborn:
            cmd: python3 {PROGRAMS}/ignore_term.py
            shutdown: {{grace_period: 60}}
        """)
    sandbox.cli("start", "stubborn", check=True)
    started = time.monotonic()
    sandbox.cli("stop", "stubborn", "--force", check=True)
    assert time.monotonic() - started < 10
    assert sandbox.job("stubborn")["last_exit"] == "killed by SIGKILL"


def test_a_job_that_exits_between_check_and_kill_is_no_error(sandbox):
    sandbox.run_jobs("""\
        jobs:
          quick:
            type: continuous
            cmd: sh -c 'sleep 0.2'
            retry: {delays: [0.3], max_attempts: 100}
        """)
    for _ in range(5):
        sandbox.wait_state("quick", "running", "backoff")
        sandbox.cli("stop", "quick", check=True)
        assert sandbox.job("quick")["state"] == "stopped"
        sandbox.cli("start", "quick", check=True)


def test_daemon_stop_stops_jobs_gracefully_first(sandbox):
    sandbox.run_jobs("""\
        jobs:
          polite:
            type: continuous
            shell: true
            cmd: trap 'echo got TERM; exit 0' TERM; echo up; while true; do sleep 0.05; done
        """)
    sandbox.wait_state("polite", "running")
    sandbox.wait_output("polite", "up")
    tree = sandbox.remember_tree()
    sandbox.cli("daemon", "stop", check=True)
    assert "got TERM" in sandbox.home.job_log("polite").read_text()
    assert not [pid for pid in tree if not is_gone(pid)]


def test_the_configured_stop_signal_is_the_one_sent(sandbox):
    sandbox.run_jobs("""\
        jobs:
          polite:
            shell: true
            cmd: >-
              trap 'echo got INT; exit 0' INT; trap 'echo got TERM; exit 0' TERM;
              while true; do sleep 0.05; done
            shutdown: {signal: SIGINT, grace_period: 10}
        """)
    sandbox.cli("start", "polite", check=True)
    sandbox.cli("stop", "polite", check=True)
    assert sandbox.home.job_log("polite").read_text() == "got INT\n"


def test_status_names_what_stops_a_running_job(sandbox):
    """Its cgroup where the daemon made one (linux, a writable cgroup v2), else the
    group and the run marker."""
    sandbox.run_jobs("jobs:\n  named:\n    cmd: sleep 300\n")
    sandbox.cli("start", "named", check=True)
    sandbox.remember_tree()
    job = sandbox.job("named")
    text = sandbox.cli("status", "named", check=True).stdout
    subtree = sandbox.cgroup_subtree()
    if subtree is None:
        assert (job["stops_by"], job["cgroup"]) == ("process group + run marker", None)
        assert "stops by   process group + run marker" in text
    else:
        assert job["stops_by"] == "cgroup"
        assert job["cgroup"].startswith(f"{subtree}/jobs/named/run-")
        assert f"stops by   cgroup ({job['cgroup']})" in text


QUICK = "jobs:\n  quick:\n    cmd: sleep 600\n  other:\n    cmd: sleep 600\n"


def test_a_stop_sent_right_after_a_start_stops_the_job(sandbox):
    """The start's placement goes through root; the stop goes straight to the supervisor,
    and must not reach it first and leave the job running."""
    sandbox.run_jobs(QUICK)
    client = sandbox.client()
    for _ in range(20):
        client.call("start", {"job": "quick"})
        assert client.call("stop", {"job": "quick"})["state"] in ("stopping", "stopped")
        sandbox.wait_state("quick", "stopped")


def test_a_stop_of_many_right_after_their_start_stops_each(sandbox):
    sandbox.run_jobs(QUICK)
    client = sandbox.client()
    for _ in range(10):
        client.call("start_many", {"jobs": ["quick", "other"]})
        answers = client.call("stop_many", {"jobs": ["quick", "other"]})
        assert {job: answers[job]["state"] in ("stopping", "stopped") for job in answers} == {
            "quick": True,
            "other": True,
        }
        for job in ("quick", "other"):
            sandbox.wait_state(job, "stopped")


def test_a_stop_of_a_job_root_has_not_handed_over_says_so_in_time(sandbox):
    root = sandbox.run_jobs(QUICK)
    client = sandbox.client()
    os.kill(root, signal.SIGSTOP)  # the placement waits in root's queue
    try:
        client.call("start", {"job": "quick"})
        with pytest.raises(ClientError, match="still on its way to its supervisor"):
            client.call("stop", {"job": "quick"})
    finally:
        os.kill(root, signal.SIGCONT)
    sandbox.wait_state("quick", "running")  # as the failed stop left it: try again
    client.call("stop", {"job": "quick"})
    sandbox.wait_state("quick", "stopped")
