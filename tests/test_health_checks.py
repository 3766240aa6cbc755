"""The health actor: checks that restart a sick service, and survive their own crash."""

import os
import signal
import time

from conftest import wait_until
from dependency_helpers import program


def test_a_job_that_stops_touching_its_heartbeat_file_is_restarted(sandbox):
    beat = sandbox.home.root / "beat"
    sandbox.run_jobs(
        f"""\
        jobs:
          hb:
            cmd: {program("heartbeat.py", beat, 5)}
            type: continuous
            enabled: false
            retry: {{delays: [0.1, 0.1, 0.1, 0.1, 0.1]}}
            health_check: {{type: file, path: {beat}, max_age: 0.5, interval: 0.2, retries: 2}}
        """
    )
    events = sandbox.subscribe("job.hb.")
    beat.touch()  # fresh until the job takes over, however long its start takes
    sandbox.cli("start", "hb", check=True)
    first = sandbox.job("hb")["pid"]
    sick = events.wait_for(
        lambda e: e.topic == "job.hb.health" and not e.data["healthy"], timeout=30
    )
    assert sick is not None and "not touched for" in sick.data["reason"]
    again = events.wait_for(
        lambda e: e.topic == "job.hb.running" and e.data["pid"] != first, timeout=30
    )
    assert again is not None
    job = sandbox.job("hb")
    assert job["restarts"] >= 1
    assert job["health_detail"]["unhealthy_count"] >= 1
    events.close()
    # The failure is news in the daemon log; a run's first passing check is not.
    log = sandbox.home.daemon_log.read_text()
    assert "job hb: unhealthy: " in log and "job hb: healthy" not in log


def test_a_watchdog_job_that_falls_silent_is_restarted(sandbox):
    sandbox.run_jobs(
        f"""\
        jobs:
          dog:
            cmd: {program("notifier.py", 0, 5)}
            type: continuous
            enabled: false
            retry: {{delays: [0.1, 0.1, 0.1]}}
            health_check: {{type: watchdog, interval: 0.4, retries: 1}}
        """
    )
    events = sandbox.subscribe("job.dog.")
    sandbox.cli("start", "dog", check=True)
    healthy = events.wait_for(lambda e: e.topic == "job.dog.health", timeout=30)
    assert healthy is not None and healthy.data["healthy"] is True
    sick = events.wait_for(lambda e: e.topic == "job.dog.health", timeout=30)
    assert sick is not None and "no WATCHDOG=1" in sick.data["reason"]
    assert events.wait_for(lambda e: e.topic == "job.dog.backoff", timeout=30)
    events.close()


def test_a_watchdog_job_that_never_beat_is_not_ready(sandbox):
    sandbox.run_jobs(
        """\
        jobs:
          mute:
            cmd: sleep 600
            health_check: {type: watchdog, interval: 5, retries: 3}
          after:
            cmd: sleep 600
            depends_on: [{job: mute, timeout: 2}]
        """
    )
    result = sandbox.cli("start", "after")
    assert result.returncode == 1
    assert "after: failed: dependency timeout: 'mute' to be ready" in result.stdout
    assert sandbox.job("mute")["health"] != "healthy"


def test_kill_9_of_the_health_actor_restarts_no_job_and_its_checks_resume(sandbox):
    beat = sandbox.home.root / "beat"
    beat.touch()
    sandbox.run_jobs(
        f"""\
        jobs:
          svc:
            cmd: sleep 600
            type: continuous
            health_check: {{type: file, path: {beat}, max_age: 2, interval: 0.2, retries: 2}}
        """
    )
    wait_until(lambda: sandbox.job("svc")["health"] == "healthy")
    before = sandbox.job("svc")
    events = sandbox.subscribe("job.svc.", "actor.health.")
    old = sandbox.actor_pid("health")
    os.kill(old, signal.SIGKILL)
    up = events.wait_for(lambda e: e.topic == "actor.health.up", timeout=10)
    assert up is not None and up.data["pid"] != old
    beat.touch()
    # Past two intervals with the file fresh: a check that had restarted the job (or
    # forgot it was healthy) would have shown by now.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        beat.touch()
        assert events.wait_for(lambda e: e.topic.startswith("job.svc."), timeout=0.1) is None
    after = sandbox.job("svc")
    assert (after["pid"], after["restarts"], after["health"]) == (before["pid"], 0, "healthy")
    # The new actor checks: once the file goes stale, the verdict changes.
    sick = events.wait_for(lambda e: e.topic == "job.svc.health", timeout=30)
    assert sick is not None and sick.data["healthy"] is False
    events.close()
