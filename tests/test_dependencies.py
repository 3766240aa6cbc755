"""Jobs that wait for other jobs: readiness, timeouts, failures, start and stop order."""

import os
import shutil
import signal
import subprocess

import pytest
from conftest import wait_until
from dependency_helpers import events_until, free_port, program, topics


def test_an_http_service_gates_its_dependent_until_its_check_passes(sandbox):
    port = free_port()
    sandbox.run_jobs(
        f"""\
        jobs:
          web:
            cmd: {program("http_service.py", port, 0.5)}
            type: continuous
            enabled: false
            health_check:
              type: http
              url: http://127.0.0.1:{port}/health
              expected_body: ok
              interval: 0.2
              timeout: 2
              start_period: 60
          worker:
            cmd: sleep 600
            type: continuous
            enabled: false
            depends_on: [{{job: web, timeout: 60}}]
        """
    )
    events = sandbox.subscribe("job.")
    started = sandbox.cli("start", "worker", check=True)
    assert "worker: waiting for 'web' to be ready" in started.stdout
    assert "worker: running" in started.stdout
    seen = topics(events_until(events, lambda e: e.topic == "job.worker.running"))
    assert seen.index("job.worker.waiting") < seen.index("job.web.running")
    assert seen.index("job.web.health") < seen.index("job.worker.running")
    web = sandbox.job("web")
    assert (web["state"], web["health"]) == ("running", "healthy")
    listed = sandbox.cli("list", check=True).stdout
    assert any(line.split()[:3] == ["web", "continuous", "running"] for line in listed.splitlines())
    assert "healthy" in listed
    events.close()


NOTIFIERS = {
    "python-sendto": lambda: program("notifier.py", 0.5),
    "systemd-notify": lambda: (
        "sh -c 'sleep 0.5; systemd-notify --ready --status=serving; exec sleep 600'"
    ),
}


@pytest.mark.parametrize("notifier", sorted(NOTIFIERS))
def test_a_notify_job_gates_its_dependent_until_it_says_ready(sandbox, notifier):
    if notifier == "systemd-notify" and not shutil.which("systemd-notify"):
        pytest.skip("systemd-notify is not installed")
    sandbox.run_jobs(
        f"""\
        jobs:
          db:
            cmd: {NOTIFIERS[notifier]()}
            type: continuous
            enabled: false
            ready: notify
          app:
            cmd: sleep 600
            depends_on: [{{job: db, condition: after_start}}]
        """
    )
    events = sandbox.subscribe("job.")
    sandbox.cli("start", "app", check=True)
    seen = topics(events_until(events, lambda e: e.topic == "job.app.running"))
    assert seen.index("job.db.running") < seen.index("job.db.ready") < seen.index("job.app.running")
    status = sandbox.cli("status", "db", check=True).stdout
    assert "says       serving" in status
    assert sandbox.job("db")["status_text"] == "serving"
    events.close()


def never_ready(timeout: int) -> str:
    """`late` waits up to `timeout` s for `never`, which never says READY=1."""
    return (
        "jobs:\n  never:\n    cmd: sleep 600\n    ready: notify\n"
        f"  late:\n    cmd: sleep 600\n    depends_on: [{{job: never, timeout: {timeout}}}]\n"
    )


def test_a_dependency_that_is_never_ready_times_the_dependent_out(sandbox):
    sandbox.run_jobs(never_ready(timeout=1))
    events = sandbox.subscribe("job.late.")
    result = sandbox.cli("start", "late")
    assert result.returncode == 1
    assert "late: failed: dependency timeout: 'never' to be ready within 1 s" in result.stdout
    failed = events.wait_for(lambda e: e.topic == "job.late.failed", timeout=10)
    assert failed is not None and failed.data["reason"].startswith("dependency")
    assert sandbox.job("never")["state"] == "running"  # what was waited for is left alone
    events.close()


def test_a_start_waiting_for_a_dependency_returns_when_a_stop_ends_the_wait(sandbox):
    sandbox.run_jobs(never_ready(timeout=600))
    starting = subprocess.Popen(
        [sandbox.cli_path(), "start", "late"],
        env=sandbox.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        sandbox.wait_state("late", "waiting")
        sandbox.cli("stop", "late", check=True)
        out, err = starting.communicate(timeout=30)  # not the start's own 90 s
    finally:
        if starting.poll() is None:
            starting.kill()
            starting.wait()
    assert starting.returncode == 1, err
    assert out.splitlines()[-1] == "late: stopped"


def test_a_failed_dependency_fails_its_waiters_and_stops_who_asked_to_be_stopped(sandbox):
    sandbox.run_jobs(
        """\
        jobs:
          setup:
            cmd: sh -c 'sleep 0.3; exit 3'
          after-setup:
            cmd: sleep 600
            depends_on: [{job: setup, condition: after_complete}]
          base:
            cmd: sleep 600
            retry: {preset: none}
          stopper:
            cmd: sleep 600
            on_dependency_failure: stop
            depends_on: [{job: base}]
          keeper:
            cmd: sleep 600
            depends_on: [{job: base}]
        """
    )
    failed = sandbox.cli("start", "after-setup")
    assert failed.returncode == 1
    assert "after-setup: failed: dependency 'setup' failed: exit code 3" in failed.stdout

    sandbox.cli("start", "stopper", "keeper", check=True)
    base = sandbox.job("base")
    os.kill(base["pid"], signal.SIGKILL)
    sandbox.wait_state("base", "failed")
    sandbox.wait_state("stopper", "stopped")
    assert sandbox.job("keeper")["state"] == "running"


def _recorded_chain(sandbox, record):
    """Jobs a <- b <- c and a <- d (each depends on the one before), recording starts and stops."""
    jobs = ["jobs:"]
    for name, needs in (("c", "b"), ("b", "a"), ("a", None), ("d", "a")):
        jobs += [
            f"  {name}:",
            f"    cmd: {program('record_stop.py', name, record)}",
            "    type: continuous",
            "    ready: notify",
        ]
        if needs:
            jobs.append(f"    depends_on: [{{job: {needs}}}]")
    sandbox.run_jobs("\n".join(jobs) + "\n")
    wait_until(lambda: all(sandbox.job(name)["state"] == "running" for name in "abcd"))
    wait_until(lambda: len(record.read_text().split("\n")) == 5)


def _order(record) -> list[str]:
    lines = record.read_text().split()
    return [" ".join(pair) for pair in zip(lines[::2], lines[1::2], strict=True)]


def _assert_stopped_in_reverse(order: list[str]) -> None:
    assert order.index("stop c") < order.index("stop b") < order.index("stop a")
    assert order.index("stop d") < order.index("stop a")
    assert sorted(order[4:]) == ["stop a", "stop b", "stop c", "stop d"]


def test_daemon_start_follows_dependency_order_and_daemon_stop_reverses_it(sandbox):
    record = sandbox.home.root / "order.txt"
    _recorded_chain(sandbox, record)
    sandbox.cli("daemon", "stop", check=True)
    order = _order(record)
    assert order[0] == "start a"
    assert order.index("start b") < order.index("start c")
    _assert_stopped_in_reverse(order)


def test_supervisors_adopted_after_a_root_kill_still_stop_in_dependency_order(sandbox):
    record = sandbox.home.root / "order.txt"
    _recorded_chain(sandbox, record)
    supervisors = dict(sandbox.supervisor_of(name) for name in "abcd")
    os.kill(sandbox.client().daemon_pid(), signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None)
    sandbox.start_daemon()
    wait_until(lambda: all(sandbox.actor_pid(n) == p for n, p in supervisors.items()))
    sandbox.cli("daemon", "stop", check=True)
    _assert_stopped_in_reverse(_order(record))


def test_a_dependency_cycle_is_refused_at_validation_with_the_cycle_printed(sandbox):
    sandbox.write(
        "jobs.yaml",
        """\
        jobs:
          a: {cmd: x, depends_on: [{job: b}]}
          b: {cmd: x, depends_on: [{job: c}]}
          c: {cmd: x, depends_on: [{job: a, condition: after_complete}]}
        """,
    )
    result = sandbox.cli("config", "--validate")
    assert result.returncode == 1
    assert "jobs.yaml:2: job 'a': dependency cycle: a -> b -> c -> a" in result.stdout


def test_a_job_waiting_through_a_controller_crash_starts_when_its_dependency_is_ready(sandbox):
    flag = sandbox.home.root / "up"
    sandbox.run_jobs(
        f"""\
        jobs:
          dep:
            cmd: sleep 600
            health_check: {{type: file, path: {flag}, max_age: 600, interval: 0.2,
                            start_period: 600}}
          app:
            cmd: sleep 600
            depends_on: [{{job: dep, timeout: 600}}]
        """
    )
    client = sandbox.client()
    assert client.call("start", {"job": "app"})["state"] == "waiting"
    sandbox.wait_state("dep", "running")
    events = sandbox.subscribe("actor.controller.up", "job.app.running")
    old = sandbox.actor_pid("controller")
    os.kill(old, signal.SIGKILL)
    assert events.wait_for(lambda e: e.topic == "actor.controller.up", timeout=10)
    assert sandbox.job("app")["state"] == "waiting"
    flag.touch()
    assert events.wait_for(lambda e: e.topic == "job.app.running", timeout=30)
    events.close()


def test_a_dependent_started_right_after_a_stop_waits_and_starts_every_time(sandbox):
    # The last supervisors' final reports may reach the controller after the new
    # start: they must neither hide the dependency's stop nor end the wait.
    sandbox.run_jobs(
        f"""\
        jobs:
          db:
            cmd: {program("notifier.py", 0.1)}
            ready: notify
          app:
            cmd: sleep 600
            depends_on: [{{job: db}}]
        """
    )
    client = sandbox.client()
    events = sandbox.subscribe("job.")
    for _ in range(10):
        assert client.call("start", {"job": "app"})["state"] == "waiting"
        assert events.wait_for(lambda e: e.topic == "job.app.running", timeout=20)
        client.call("stop_many", {"jobs": ["app", "db"]})
        stopped: set[str] = set()

        def both_stopped(event, stopped=stopped):
            if event.topic in ("job.app.stopped", "job.db.stopped"):
                stopped.add(event.topic)
            return len(stopped) == 2

        events.wait_for(both_stopped, timeout=20)
        assert len(stopped) == 2
    events.close()


def test_before_complete_runs_the_declaring_job_to_completion_first(sandbox):
    record = sandbox.home.root / "order.txt"
    sandbox.run_jobs(
        f"""\
        jobs:
          backup:
            cmd: sh -c 'echo backup >> {record}'
            depends_on: [{{job: upgrade, condition: before_complete}}]
          upgrade:
            cmd: sh -c 'echo upgrade >> {record}'
        """
    )
    result = sandbox.cli("start", "upgrade", check=True)
    assert "upgrade: waiting for 'backup' to be completed" in result.stdout
    sandbox.wait_state("upgrade", "completed")
    assert record.read_text().split() == ["backup", "upgrade"]
