"""The alerter actor in a real daemon: alerts through a fake `openclaw` CLI or a fake
gateway, notes in the OpenClaw memory, folding, retries, and `procclaw openclaw status`."""

from __future__ import annotations

import json

import pytest
import zmq
from conftest import Sandbox, is_gone, wait_until
from openclaw_helpers import (
    BusPublisher,
    FakeGateway,
    alerter_status,
    openclaw_settings,
    today_memory,
)

from procclaw import protocol
from procclaw.bus_events import ScheduleMissed
from procclaw.bus_seal import KEY_VARIABLE, new_key
from procclaw.job_facts import JobFacts
from procclaw.reports import HealthReport

FAILING_JOB = """\
jobs:
  backup:
    cmd: sh -c "echo disk full >&2; exit 3"
"""


@pytest.fixture
def bus(sandbox: Sandbox):
    """Publishers of events as the actors would publish them: the daemon started after
    this takes their key."""
    key = new_key()
    sandbox.env[KEY_VARIABLE] = key
    publishers = []

    def open_publisher() -> BusPublisher:
        publishers.append(BusPublisher(sandbox.home, key))
        return publishers[-1]

    yield open_publisher
    for publisher in publishers:
        publisher.close()


def test_a_failed_job_alerts_through_the_openclaw_cli_and_is_noted_in_memory(
    sandbox, cli, workspace
):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace))
    sandbox.run_jobs(FAILING_JOB)
    sandbox.client().call("start", {"job": "backup"})
    wait_until(lambda: cli.calls(), timeout=15)
    [argv] = cli.calls()
    assert argv[:6] == ["message", "send", "--channel", "whatsapp", "--target", "+15555550123"]
    message = argv[argv.index("--message") + 1]
    assert ": job backup failed\n" in message and "reason: exit code 3" in message

    memory = today_memory(workspace)
    wait_until(lambda: memory.exists() and "- see:" in memory.read_text())
    blank, *lines = memory.read_text().splitlines()
    assert blank == ""
    assert lines[0].startswith("### ") and lines[0].endswith(" ProcClaw: job backup failed")
    assert lines[1:] == ["- reason: exit code 3", "- see: `procclaw status backup`"]
    assert not (workspace / "MEMORY.md").exists()

    status = wait_until(lambda: (s := alerter_status(sandbox))["totals"]["sent"] == 1 and s)
    assert status["transport"] == "cli"
    assert status["channels"] == {"whatsapp": {"sent": 1, "failed": 0, "retried": 0}}
    assert status["memory"]["written"] == 1 and status["memory"]["last_file"] == str(memory)
    [recent] = status["recent"]
    assert (recent["job"], recent["kind"], recent["result"]) == ("backup", "failed", "sent")
    shown = sandbox.cli("openclaw", "status", check=True).stdout
    assert "via the openclaw CLI" in shown and "sent      1" in shown
    assert "whatsapp  1     0       0" in shown
    assert json.loads(sandbox.cli("openclaw", "status", "--json", check=True).stdout) == (
        alerter_status(sandbox)
    )


def test_health_dependency_and_missed_run_events_each_alert(sandbox, cli, workspace, bus):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, "    window: 0\n"))
    sandbox.start_daemon()
    events = bus()
    # In no shape of ours: dropped (and logged), and the alerter carries on.
    events.publish_raw("job.api.health", {"healthy": "no"})
    events.publish_raw("job.web.failed", {"job": "web", "reason": 5})
    # A job's first passing check is no news.
    events.publish("job.fresh.health", HealthReport("fresh", "run-1", True))
    events.publish("job.api.health", HealthReport("api", "run-1", False, "HTTP 503 from /health"))
    events.publish("job.api.health", HealthReport("api", "run-1", True))
    reason = "dependency 'db' not ready after 60 s"
    events.publish("job.web.failed", JobFacts("web", "failed", reason=reason))
    events.publish(
        "schedule.report.missed",
        ScheduleMissed("report", 0.0, "2026-03-08T02:30:00-05:00", 1, ""),
    )
    wait_until(lambda: len(cli.messages()) == 4, timeout=15)
    firsts = [message.splitlines()[0].split(": ", 1)[1] for message in cli.messages()]
    assert firsts == [
        "job api is unhealthy",
        "job api is healthy again",
        "job web gave up waiting for a dependency",
        "job report missed a scheduled run",
    ]
    assert "reason: HTTP 503 from /health" in cli.messages()[0]
    assert "reason: run due at 2026-03-08T02:30:00-05:00" in cli.messages()[3]
    wait_until(lambda: today_memory(workspace).read_text().count("### ") == 4)


def test_an_alert_storm_is_folded_into_one_message(sandbox, cli, workspace, bus):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, "    window: 2s\n"))
    sandbox.start_daemon()
    events = bus()
    for attempt in range(20):
        facts = JobFacts("flappy", "failed", reason=f"exit code {attempt}", restarts=attempt)
        events.publish("job.flappy.failed", facts)
    # Another job: its own window.
    events.publish("job.steady.failed", JobFacts("steady", "failed", reason="exit code 1"))
    wait_until(lambda: len(cli.messages()) == 3, timeout=20)
    first, steady, summary = cli.messages()
    assert "job flappy failed\nreason: exit code 0" in first
    assert "job steady failed" in steady
    assert "job flappy: 19 more alerts\n" in summary
    assert "failed ×19" in summary and "reason: exit code 19" in summary
    status = wait_until(lambda: (s := alerter_status(sandbox))["totals"]["sent"] == 3 and s)
    assert status["totals"]["folded"] == 19
    assert today_memory(workspace).read_text().count("### ") == 3


def test_alerts_reach_the_gateway_with_a_secret_token_and_wake_the_agent(sandbox, workspace, bus):
    gateway = FakeGateway(token="gw-s3cret", hooks_token="hooks-s3cret")
    try:
        sandbox.cli("secret", "set", "GW_TOKEN", "gw-s3cret", check=True)
        sandbox.write(
            "procclaw.yaml",
            openclaw_settings(
                workspace,
                "    wake: true\n",
                f"  gateway:\n    url: {gateway.url}\n    token: ${{secret:GW_TOKEN}}\n"
                "    hooks_token: hooks-s3cret\n",
            ),
        )
        sandbox.start_daemon()
        bus().publish("job.api.failed", JobFacts("api", "failed", reason="exit code 1"))
        wait_until(lambda: gateway.sent() and gateway.sent("/hooks/wake"), timeout=15)
        [send] = gateway.sent()
        assert send["authorization"] == "Bearer gw-s3cret"
        args = send["body"]["args"]
        assert (send["body"]["tool"], args["action"], args["channel"], args["target"]) == (
            "message",
            "send",
            "whatsapp",
            "+15555550123",
        )
        assert ": job api failed\n" in args["message"]
        [wake] = gateway.sent("/hooks/wake")
        assert wake["body"] == {"text": args["message"], "mode": "now"}
        assert wake["authorization"] == "Bearer hooks-s3cret"
        status = wait_until(lambda: (s := alerter_status(sandbox))["wake"].get("sent") and s)
        assert status["transport"] == "http" and status["totals"]["sent"] == 1
        assert "gw-s3cret" not in json.dumps(status)
    finally:
        gateway.close()


def test_a_send_that_keeps_failing_is_retried_then_counted_as_failed(sandbox, workspace, bus):
    gateway = FakeGateway(token="t", statuses=[503, 503, 503, 200])
    try:
        sandbox.env["OPENCLAW_GATEWAY_TOKEN"] = "t"
        sandbox.write(
            "procclaw.yaml",
            openclaw_settings(
                workspace,
                "    window: 0\n    retry_delays: [100ms, 100ms]\n",
                f"  gateway: {{url: '{gateway.url}'}}\n",
            ),
        )
        sandbox.start_daemon()
        events = bus()
        events.publish("job.api.failed", JobFacts("api", "failed", reason="exit code 1"))
        status = wait_until(lambda: (s := alerter_status(sandbox))["totals"]["failed"] and s)
        assert len(gateway.sent()) == 3  # the first try and two retries
        assert status["channels"]["whatsapp"] == {"sent": 0, "failed": 1, "retried": 2}
        [recent] = status["recent"]
        assert recent["result"] == "failed" and recent["attempts"] == 3
        assert recent["error"] == f"gateway answered 503 from {gateway.url}/tools/invoke"
        # The gateway is back.
        events.publish("job.api.failed", JobFacts("api", "failed", reason="exit code 1"))
        wait_until(lambda: alerter_status(sandbox)["totals"]["sent"] == 1)
        assert len(gateway.sent()) == 4
        log = sandbox.home.daemon_log.read_text()
        assert "alert for job api to whatsapp failed after 3 attempts: gateway answered 503" in log
    finally:
        gateway.close()


def test_a_refused_token_is_not_retried(sandbox, workspace, bus):
    gateway = FakeGateway(token="right")
    try:
        sandbox.env["OPENCLAW_GATEWAY_TOKEN"] = "wrong"
        sandbox.write(
            "procclaw.yaml",
            openclaw_settings(workspace, gateway=f"  gateway: {{url: '{gateway.url}'}}\n"),
        )
        sandbox.start_daemon()
        bus().publish("job.api.failed", JobFacts("api", "failed", reason="exit code 1"))
        status = wait_until(lambda: (s := alerter_status(sandbox))["totals"]["failed"] and s)
        assert status["channels"]["whatsapp"] == {"sent": 0, "failed": 1, "retried": 0}
        assert "gateway refused the token (401" in status["recent"][0]["error"]
        assert len(gateway.sent()) == 1
    finally:
        gateway.close()


def test_a_failing_cli_is_retried_and_only_the_chosen_events_alert(sandbox, cli, workspace, bus):
    cli.exit_with(1)
    sandbox.write(
        "procclaw.yaml",
        openclaw_settings(workspace, "    on: [failed]\n    retry_delays: [100ms]\n"),
    )
    sandbox.start_daemon()
    events = bus()
    # Not in `on`.
    events.publish("job.api.health", HealthReport("api", "run-1", False, "HTTP 503"))
    events.publish("job.api.failed", JobFacts("api", "failed", reason="exit code 1"))
    status = wait_until(lambda: (s := alerter_status(sandbox))["totals"]["failed"] and s)
    assert len(cli.calls()) == 2
    assert status["channels"]["whatsapp"] == {"sent": 0, "failed": 1, "retried": 1}
    assert status["recent"][0]["error"] == (
        "openclaw exited with status 1: fake openclaw: channel not linked"
    )
    assert today_memory(workspace).read_text().count("### ") == 1


def test_with_alerts_disabled_events_are_only_noted_in_memory(sandbox, cli, workspace, bus):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, "    enabled: false\n"))
    sandbox.start_daemon()
    bus().publish("job.api.failed", JobFacts("api", "failed", reason="exit code 1"))
    wait_until(lambda: today_memory(workspace).exists())
    assert cli.calls() == [] and alerter_status(sandbox)["totals"]["sent"] == 0


def test_openclaw_status_without_a_daemon_says_so(sandbox):
    result = sandbox.cli("openclaw", "status")
    assert result.returncode == 1 and "daemon not running" in result.stderr


def test_a_forged_event_reaches_no_subscriber_and_sends_no_alert(sandbox, cli, workspace):
    """A process that can reach run/bus-in.sock but has not the daemon's key cannot make
    the alerter alert for a job that runs, nor show a subscriber a failure."""
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, "    window: 0\n"))
    sandbox.run_jobs(FAILING_JOB + "  svc:\n    type: continuous\n    cmd: sleep 300\n")
    pid = sandbox.wait_state("svc", "running")["pid"]
    watcher = sandbox.subscribe("job.")
    forged = JobFacts("svc", "failed", reason="forged")
    with_a_key_of_its_own = BusPublisher(sandbox.home, new_key())
    with_a_key_of_its_own.publish("job.svc.failed", forged)
    unsealed = zmq.Context.instance().socket(zmq.PUSH)
    unsealed.setsockopt(zmq.LINGER, 1000)
    unsealed.connect(sandbox.home.endpoint("bus-in"))
    unsealed.send_multipart(protocol.EventSource("x").frames("job.svc.failed", forged.to_wire()))

    sandbox.client().call("start", {"job": "backup"})  # a real failure, after the forged ones
    seen: list[str] = []
    real = watcher.wait_for(
        lambda e: seen.append(e.topic) or e.topic == "job.backup.failed", timeout=15
    )
    assert real is not None
    assert "job.svc.failed" not in seen
    wait_until(lambda: cli.calls(), timeout=15)
    assert ": job backup failed\n" in cli.calls()[0][-1]
    assert len(cli.calls()) == 1
    assert (sandbox.job("svc")["state"], sandbox.job("svc")["pid"]) == ("running", pid)
    log = sandbox.home.daemon_log.read_text()
    assert "dropped an event without our seal ('job.svc.failed'; 1 so far)" in log
    for sock in (with_a_key_of_its_own, unsealed):
        sock.close()
    watcher.close()


def test_daemon_stop_ends_an_openclaw_sender_under_way_and_its_child(sandbox, workspace):
    bin_dir = sandbox.home.root / "bin"
    bin_dir.mkdir()
    child_pid = sandbox.home.root / "child.pid"
    hanging = bin_dir / "openclaw"  # re-runs itself as a child, as `message send` does
    hanging.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {child_pid}\nwait\n")
    hanging.chmod(0o755)
    sandbox.env["PATH"] = f"{bin_dir}:{sandbox.env['PATH']}"
    sandbox.write("procclaw.yaml", openclaw_settings(workspace))
    sandbox.run_jobs(FAILING_JOB)
    sandbox.client().call("start", {"job": "backup"})
    child = int(wait_until(lambda: child_pid.exists() and child_pid.read_text().strip(), 15))
    sandbox.cli("daemon", "stop", check=True)
    wait_until(lambda: is_gone(child), timeout=5)
