"""The scheduler, the health actor, the alerter and the gateway run only once needed.

A daemon of continuous jobs driven from the CLI runs root, the zygote, the controller
and its supervisors: nothing else. The others start when the config needs them (at
`daemon start`, or at the reload that brings what needs them), and the gateway when a
first client connects to the API's address, which root holds until then.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time

from api_port import free_port
from conftest import wait_until
from http_helpers import get

from procclaw import protocol
from procclaw.rules.needed_actors import WHEN_NEEDED, needed_actors

SERVICE = "jobs:\n  web:\n    cmd: sleep 600\n    type: continuous\n"
SCHEDULED = """\
  nightly:
    cmd: 'true'
    type: scheduled
    schedule: "0 3 * * *"
"""
# Healthy while the checked file is younger than a year: the sandbox's fresh home.
CHECKED = """\
  checked:
    cmd: sleep 600
    type: continuous
    health_check: {type: file, path: HOME, max_age: 365d}
"""
ON_DEMAND = ("scheduler", "health", "alerter", "gateway")


def _checked(sandbox) -> str:
    return CHECKED.replace("HOME", str(sandbox.home.root))


def _states(sandbox) -> dict[str, str]:
    return {actor["name"]: actor["state"] for actor in sandbox.daemon_status()["actors"]}


def _answers(port: int) -> bool:
    try:
        return get(port, "/api/v1/jobs", timeout=10).status == 200
    except OSError:
        return False


def _all_come_up(events, actors: tuple[str, ...], timeout: float = 10) -> bool:
    """Whether each actor's `up` is published, in whatever order they come up."""
    awaited = {protocol.actor_topic(actor, "up") for actor in actors}
    deadline = time.monotonic() + timeout
    while awaited and (left := deadline - time.monotonic()) > 0:
        event = events.wait_for(lambda e: e.topic in awaited, left)
        if event is None:
            return False
        awaited.discard(event.topic)
    return not awaited


def test_a_daemon_of_services_runs_only_the_actors_it_needs(sandbox):
    sandbox.run_jobs(SERVICE)
    states = _states(sandbox)
    assert {name: states[name] for name in ON_DEMAND} == dict.fromkeys(ON_DEMAND, "off")
    assert states["controller"] == "up"
    shown = sandbox.cli("daemon", "status", check=True).stdout
    assert "scheduler            off       pid -" in shown
    assert "starts with the first scheduled job" in shown
    assert f"http://127.0.0.1:{sandbox.api_port}, starts with the first request" in shown
    # The process check, the default, is the controller's own to judge.
    assert sandbox.wait_state("web", "running")["health"] == "healthy"


def test_the_dashboard_shows_what_starts_an_actor_that_is_off(sandbox):
    sandbox.run_jobs(SERVICE)
    page = get(sandbox.api_port, "/", timeout=15).body.decode()
    assert (
        '<tr data-actor="scheduler"><th scope="row">scheduler</th>'
        '<td><span class="badge actor-off" title="starts with the first scheduled job">off'
    ) in page


def test_a_process_check_verdict_is_published_at_each_run(sandbox):
    sandbox.run_jobs(SERVICE)
    first = sandbox.wait_state("web", "running")
    events = sandbox.subscribe("job.web.running", "job.web.health")
    sandbox.cli("restart", "web", check=True)
    running = events.wait_for(lambda e: e.data["run_id"] != first["run_id"], timeout=15)
    verdict = events.wait_for(lambda e: True, timeout=15)  # its supervisor's, after it
    assert running is not None and running.topic == "job.web.running"
    assert verdict is not None and verdict.topic == "job.web.health"
    assert verdict.data == {
        "job": "web",
        "run_id": running.data["run_id"],
        "healthy": True,
        "reason": None,
    }
    assert sandbox.job("web")["health"] == "healthy"
    events.close()


def test_daemon_start_returns_with_the_actors_the_config_needs_up(sandbox):
    sandbox.run_jobs(SERVICE + SCHEDULED + _checked(sandbox))
    states = _states(sandbox)  # at once: `daemon start` waited for them
    assert (states["scheduler"], states["health"]) == ("up", "up")
    assert (states["alerter"], states["gateway"]) == ("off", "off")
    assert sandbox.job("nightly")["next_runs"]
    wait_until(lambda: sandbox.job("checked")["health"] == "healthy", timeout=15)


def test_a_reload_starts_what_the_new_config_needs_and_keeps_it(sandbox):
    sandbox.run_jobs(SERVICE)
    events = sandbox.subscribe("actor.")
    sandbox.write("jobs.yaml", SERVICE + SCHEDULED + _checked(sandbox))
    sandbox.cli("reload", check=True)
    assert _all_come_up(events, ("scheduler", "health"))
    assert sandbox.job("nightly")["next_runs"]
    wait_until(lambda: sandbox.job("checked")["health"] == "healthy", timeout=15)
    # An OpenClaw workspace to note events in wakes the alerter at the next reload.
    os.mkdir(sandbox.env["OPENCLAW_WORKSPACE_DIR"])
    sandbox.cli("reload", check=True)
    assert events.wait_for(lambda e: e.topic == protocol.actor_topic("alerter", "up"), 10)
    assert sandbox.client().call_endpoint("alerter", "ping")["pid"]
    # Once started, they stay: a reload that no longer needs them stops none.
    sandbox.write("jobs.yaml", SERVICE)
    sandbox.cli("reload", check=True)
    states = _states(sandbox)
    assert [states[name] for name in ("scheduler", "health", "alerter")] == ["up"] * 3
    events.close()


def test_without_an_alerter_its_status_and_metrics_say_so_at_once(sandbox):
    sandbox.run_jobs(SERVICE)
    shown = sandbox.cli("openclaw", "status", check=True).stdout
    assert shown == f"alerts    none to send: the alerter {WHEN_NEEDED['alerter']}\n"
    assert "starts with the first alert channel or `wake`" in shown
    as_json = json.loads(sandbox.cli("openclaw", "status", "--json", check=True).stdout)
    assert as_json == {"alerter": "off", "note": WHEN_NEEDED["alerter"]}
    metrics = get(sandbox.api_port, "/metrics", timeout=10)
    assert metrics.status == 200 and b"procclaw_jobs" in metrics.body
    assert b"procclaw_alerts" not in metrics.body


def test_an_alert_channel_starts_the_alerter(sandbox, cli):
    sandbox.write(
        "procclaw.yaml",
        "openclaw:\n  alerts:\n    channels: [telegram]\n    targets: {telegram: '@ops'}\n",
    )
    sandbox.run_jobs(SERVICE)
    assert _states(sandbox)["alerter"] == "up"
    assert "alerts    on" in sandbox.cli("openclaw", "status", check=True).stdout


def test_the_first_request_starts_the_gateway_and_is_answered(sandbox):
    sandbox.run_jobs(SERVICE)
    assert _states(sandbox)["gateway"] == "off"
    events = sandbox.subscribe("actor.gateway.up")
    reply = get(sandbox.api_port, "/api/v1/jobs", timeout=15)
    assert reply.status == 200 and [job["id"] for job in reply.json["jobs"]] == ["web"]
    assert events.wait_for(lambda e: True, 5) is not None
    gateway = sandbox.actor("gateway")
    assert gateway["listening"] == f"http://127.0.0.1:{sandbox.api_port}"
    assert "starting the gateway: a first client" in sandbox.home.daemon_log.read_text()
    events.close()


def test_many_first_clients_at_once_are_all_answered(sandbox):
    sandbox.run_jobs(SERVICE)
    waiting = [socket.create_connection(("127.0.0.1", sandbox.api_port)) for _ in range(5)]
    try:
        for client in waiting:
            client.sendall(b"GET /api/v1/jobs HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        for client in waiting:
            client.settimeout(15)
            assert client.recv(64).startswith(b"HTTP/1.0 200")
    finally:
        for client in waiting:
            client.close()
    assert [a["name"] for a in sandbox.daemon_status()["actors"]].count("gateway") == 1


def test_an_address_changed_before_the_first_request_is_held_anew(sandbox):
    sandbox.run_jobs(SERVICE)
    old_port, new_port = sandbox.api_port, free_port()
    sandbox.write("procclaw.yaml", f"daemon:\n  port: {new_port}\n")
    sandbox.cli("reload", check=True)
    wait_until(lambda: f":{new_port}, starts" in sandbox.actor("gateway")["note"])
    assert not _answers(old_port)
    assert _answers(new_port)


def test_the_api_address_is_let_go_when_the_daemon_stops(sandbox):
    sandbox.run_jobs(SERVICE)
    sandbox.cli("daemon", "stop", check=True)
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", sandbox.api_port))  # nothing holds it any more


def test_a_host_given_by_name_starts_the_gateway_at_once(sandbox):
    """Root looks up no name (a slow resolver would hold up its loop): the gateway does."""
    sandbox.write("procclaw.yaml", f"daemon:\n  host: localhost\n  port: {sandbox.api_port}\n")
    sandbox.run_jobs(SERVICE)
    wait_until(lambda: "listening" in sandbox.actor("gateway"))
    assert "the API's host localhost is a name" in sandbox.home.daemon_log.read_text()
    assert _answers(sandbox.api_port)


HOURLY = """\
  hourly:
    cmd: 'true'
    type: scheduled
    schedule: "0 * * * *"
    catchup: once
"""


def _schedule_mark(sandbox) -> tuple[float, str] | None:
    with contextlib.closing(sqlite3.connect(sandbox.home.db_file)) as db:
        return db.execute(
            "SELECT last_due, daemon_id FROM schedules WHERE job = 'hourly'"
        ).fetchone()


def test_a_scheduler_started_by_a_reload_starts_a_returning_job_from_now(sandbox):
    """A job back in the config after a daemon that ran it: no catch-up, no `missed`.

    Only at daemon start does a job's old mark mean runs went by while the daemon was
    down; the reload that brings it starts its schedule from now, scheduler or not.
    """
    sandbox.run_jobs(SERVICE + HOURLY)
    wait_until(lambda: _schedule_mark(sandbox) is not None)
    sandbox.cli("daemon", "stop", check=True)
    with contextlib.closing(sqlite3.connect(sandbox.home.db_file)) as db, db:
        db.execute("UPDATE schedules SET last_due = last_due - 7200 WHERE job = 'hourly'")
    old_mark = _schedule_mark(sandbox)
    sandbox.run_jobs(SERVICE)  # no scheduled job: no scheduler
    events = sandbox.subscribe("schedule.", "actor.scheduler.up")
    sandbox.write("jobs.yaml", SERVICE + HOURLY)
    reloaded_at = time.time()
    sandbox.cli("reload", check=True)
    # The new scheduler marks the job as this daemon's from now (a catch-up would have
    # recorded the last hourly due time instead, before the reload).
    mark = wait_until(lambda: (m := _schedule_mark(sandbox)) != old_mark and m, timeout=15)
    assert mark[0] >= reloaded_at
    seen = []
    while (event := events.receive(0.2)) is not None:
        seen.append(event.topic)
    assert seen == ["actor.scheduler.up"]
    assert sandbox.client().call("runs", {"job": "hourly", "limit": 5}) == []
    events.close()


# ---- the rule, without processes ---------------------------------------------------------


def _needs(jobs: str, settings: str | None = None, workspace: bool = False) -> list[str]:
    from procclaw.config import parse_config

    return needed_actors(parse_config(settings, jobs), lambda: workspace)


def test_the_rule_asks_for_each_actor_only_what_needs_it():
    assert _needs(SERVICE) == []
    assert _needs(SERVICE + SCHEDULED) == ["scheduler"]
    assert _needs(SERVICE + CHECKED.replace("HOME", "/")) == ["health"]
    output_check = "    health_check: {type: output, pattern: ok, max_age: 60}\n"
    assert _needs(SERVICE + output_check) == ["health"]
    assert _needs(SERVICE, workspace=True) == ["alerter"]
    assert _needs(SERVICE + SCHEDULED, workspace=True) == ["scheduler", "alerter"]


def test_the_alerter_is_needed_for_a_channel_or_for_memory_to_write():
    channels = "openclaw:\n  alerts:\n    channels: [telegram]\n    targets: {telegram: '@o'}\n"
    assert _needs(SERVICE, channels) == ["alerter"]
    job_channel = "    alerts: {channels: [telegram], targets: {telegram: '@o'}}\n"
    assert _needs(SERVICE + job_channel) == ["alerter"]
    off = "openclaw:\n  enabled: false\n  alerts:\n    channels: [telegram]\n"
    assert _needs(SERVICE, off + "    targets: {telegram: '@o'}\n", workspace=True) == []
    no_alerts = channels.replace("alerts:\n", "alerts:\n    enabled: false\n")
    assert _needs(SERVICE, no_alerts) == []
    no_memory = "openclaw:\n  memory_logging: false\n"
    assert _needs(SERVICE, no_memory, workspace=True) == []
    # Waking the agent alone is work for the alerter.
    wake = "openclaw:\n  alerts:\n    wake: true\n  gateway:\n    hooks_token: abcdef\n"
    assert _needs(SERVICE, wake) == ["alerter"]
