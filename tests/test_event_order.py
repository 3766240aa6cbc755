"""A job's events come after the controller has recorded them: whoever sees an event
and then asks about the job is told at least that much."""

import os
import signal

from conftest import wait_until


def test_an_event_waits_until_the_controller_has_recorded_it(sandbox):
    sandbox.run_jobs("jobs:\n  svc:\n    type: continuous\n    cmd: sleep 300\n")
    job_pid = sandbox.wait_state("svc", "running")["pid"]
    events = sandbox.subscribe("job.svc.")
    controller = sandbox.actor_pid("controller")
    os.kill(controller, signal.SIGSTOP)  # nothing can be recorded now
    try:
        os.kill(job_pid, signal.SIGKILL)
        assert events.wait_for(lambda e: e.topic == "job.svc.exited", timeout=1) is None
    finally:
        os.kill(controller, signal.SIGCONT)
    exited = events.wait_for(lambda e: e.topic == "job.svc.exited", timeout=10)
    assert exited is not None
    # The moment the restart is announced, the controller knows the new process.
    running = events.wait_for(lambda e: e.topic == "job.svc.running", timeout=10)
    assert running is not None
    assert sandbox.job("svc")["pid"] == running.data["pid"] != job_pid
    events.close()


def test_stop_then_status_never_shows_the_job_still_stopping(sandbox):
    sandbox.run_jobs("jobs:\n  svc:\n    type: continuous\n    cmd: sleep 300\n")
    for _ in range(5):
        sandbox.wait_state("svc", "running")
        sandbox.cli("stop", "svc", check=True)
        assert sandbox.job("svc")["state"] == "stopped"
        sandbox.cli("start", "svc", check=True)
        assert sandbox.job("svc")["state"] == "running"
    wait_until(lambda: sandbox.job("svc")["state"] == "running")
