"""Crash and restart notices in a real daemon, and a job's own alerts: which exits
alert, how a crash loop folds, and where each job's alerts go."""

from __future__ import annotations

import json
import os
import signal

import pytest
from conftest import Sandbox, wait_until
from openclaw_helpers import alerter_status, openclaw_settings, today_memory

CRASHES_AND_RESTARTS = "    on: [crash, restart]\n    window: 0\n"
# Its crash notice marks a point: whatever came before it has been judged by then.
MARKER = "  marker:\n    cmd: sh -c 'exit 3'\n"


def headings(messages: list[str]) -> list[str]:
    """Each message's first line without the `ProcClaw (host): ` before it."""
    return [message.splitlines()[0].split(": ", 1)[1] for message in messages]


def exited(sandbox: Sandbox, job_id: str, start: tuple[str, ...] = ()):
    """Wait for the next `job.<id>.exited` on the bus, after running `procclaw *start`."""
    events = sandbox.subscribe(f"job.{job_id}.exited")
    try:
        if start:
            sandbox.cli(*start, check=True)
        assert events.wait_for(lambda _event: True, timeout=15) is not None
    finally:
        events.close()


def test_a_crash_sends_one_notice_and_the_restart_that_mends_it_another(sandbox, cli, workspace):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, CRASHES_AND_RESTARTS))
    sandbox.run_jobs(
        "jobs:\n  svc:\n    type: continuous\n    cmd: sleep 300\n    retry: {delays: [0.2]}\n"
    )
    pid = sandbox.wait_state("svc", "running")["pid"]
    os.kill(pid, signal.SIGKILL)

    wait_until(lambda: len(cli.messages()) == 2, timeout=15)
    crash, restart = cli.messages()
    assert crash.split("\n", 1)[1] == "reason: killed by SIGKILL\nsee: procclaw status svc"
    assert headings([crash, restart]) == ["job svc crashed", "job svc was restarted"]
    assert "reason: killed by SIGKILL\nrestarts: 1\n" in restart
    assert sandbox.job("svc")["pid"] != pid
    recent = wait_until(lambda: len(r := alerter_status(sandbox)["recent"]) == 2 and r)
    assert [item["kind"] for item in recent] == ["crash", "restart"]
    assert today_memory(workspace).read_text().count("### ") == 2


def test_a_crash_loop_folds_into_one_notice_and_one_summary(sandbox, cli, workspace):
    sandbox.write(
        "procclaw.yaml", openclaw_settings(workspace, "    on: [crash]\n    window: 4s\n")
    )
    sandbox.run_jobs(
        "jobs:\n  loop:\n    type: continuous\n    cmd: sh -c 'exit 1'\n"
        "    retry: {delays: [0, 0, 0, 0]}\n"
        "    enabled: false\n"  # started once the alerter listens: none of it is missed
    )
    sandbox.cli("start", "loop", check=True)
    sandbox.wait_state("loop", "failed")  # five crashes, then it gave up

    wait_until(lambda: len(cli.messages()) >= 2, timeout=15)
    first, summary = cli.messages()
    assert headings([first, summary]) == ["job loop crashed", "job loop: 4 more alerts"]
    assert "in the last 4s: crash ×4\nlatest: crashed\nreason: exit code 1\n" in summary
    status = wait_until(lambda: (s := alerter_status(sandbox))["totals"]["sent"] == 2 and s)
    assert status["totals"]["folded"] == 4


def test_stops_clean_exits_and_a_silenced_job_send_no_notice(sandbox, cli, workspace):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, CRASHES_AND_RESTARTS))
    sandbox.run_jobs(
        "jobs:\n"
        "  svc:\n    type: continuous\n    cmd: sleep 300\n"
        "  done:\n    type: continuous\n    restart: on-failure\n    cmd: 'true'\n"
        "    enabled: false\n"
        "  once:\n    cmd: 'true'\n"
        "  quiet:\n    cmd: sh -c 'exit 1'\n    alerts: {on: []}\n" + MARKER
    )
    sandbox.wait_state("svc", "running")
    exited(sandbox, "done", ("start", "done"))  # exit 0 under on-failure: it is done
    assert sandbox.wait_state("done", "completed")
    exited(sandbox, "svc", ("restart", "svc"))
    sandbox.wait_state("svc", "running")
    exited(sandbox, "svc", ("stop", "svc"))
    exited(sandbox, "once", ("start", "once"))
    exited(sandbox, "quiet", ("start", "quiet"))
    sandbox.cli("start", "marker", check=True)

    wait_until(lambda: cli.messages(), timeout=15)
    assert headings(cli.messages()) == ["job marker crashed"]
    memory = wait_until(lambda: today_memory(workspace).exists() and today_memory(workspace))
    assert memory.read_text().count("### ") == 1


def test_a_jobs_own_alerts_go_to_its_own_target_for_its_own_events(sandbox, cli, workspace):
    sandbox.write(
        "procclaw.yaml",
        openclaw_settings(workspace, "    on: [crash, failed]\n    window: 0\n"),
    )
    sandbox.run_jobs(
        "jobs:\n"
        "  own:\n    cmd: sh -c 'exit 4'\n"
        "    alerts:\n"
        "      on: [failed]\n"
        "      channels: [telegram]\n"
        "      targets: {telegram: '@own-team'}\n" + MARKER
    )
    sandbox.cli("start", "marker", check=True)
    wait_until(lambda: len(cli.calls()) == 1, timeout=15)
    sandbox.cli("start", "own", check=True)
    wait_until(lambda: len(cli.calls()) == 2, timeout=15)
    marker, own = cli.calls()
    assert marker[2:6] == ["--channel", "whatsapp", "--target", "+15555550123"]
    # A run's crash is its failure too: told once, not again as `failed`.
    assert headings([marker[-1]]) == ["job marker crashed"]
    assert own[2:6] == ["--channel", "telegram", "--target", "@own-team"]
    assert headings([own[-1]]) == ["job own failed"]  # its crash is not in its `on`

    shown = {"on": ["failed"], "channels": ["telegram"], "targets": {"telegram": "@own-team"}}
    assert alerter_status(sandbox)["jobs"] == {"own": shown}
    as_json = json.loads(sandbox.cli("status", "own", "--json", check=True).stdout)
    assert as_json["config"]["alerts"] == shown


def test_a_restarted_alerter_learns_each_jobs_alerts_again(sandbox, cli, workspace):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, "    window: 0\n"))
    sandbox.run_jobs(
        "jobs:\n  own:\n    cmd: sh -c 'exit 4'\n"
        "    alerts: {on: [crash], targets: {whatsapp: '+15555550199'}}\n"
    )
    old = sandbox.actor_pid("alerter")
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid("alerter") not in (None, old))

    sandbox.cli("start", "own", check=True)
    wait_until(lambda: cli.calls(), timeout=15)
    [call] = cli.calls()
    assert call[4:6] == ["--target", "+15555550199"] and headings([call[-1]]) == ["job own crashed"]


@pytest.mark.timeout(90)
def test_a_reload_applies_a_jobs_new_alerts_without_restarting_it(sandbox, cli, workspace):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace, "    window: 0\n"))
    service = "jobs:\n  svc:\n    type: continuous\n    cmd: sleep 300\n"
    sandbox.run_jobs(service + "    alerts: {on: []}\n")
    pid = sandbox.wait_state("svc", "running")["pid"]

    sandbox.write("jobs.yaml", service + "    alerts: {on: [crash, crashed]}\n")
    refused = sandbox.cli("reload")
    assert refused.returncode == 1
    assert (
        f"{sandbox.home.jobs_file}:5: job 'svc': alerts.on[1]: expected one of failed,"
        in refused.stderr
    )
    assert "got 'crashed' (did you mean 'crash'?)" in refused.stderr
    validated = sandbox.cli("config", "--validate")
    assert validated.returncode == 1 and f"{sandbox.home.jobs_file}:5:" in validated.stdout

    sandbox.write("jobs.yaml", service + "    alerts: {on: [crash]}\n")
    assert sandbox.cli("reload", check=True).stdout.strip() == "config reloaded: 1 unchanged"
    assert sandbox.job("svc")["pid"] == pid
    wait_until(lambda: alerter_status(sandbox)["jobs"].get("svc", {}).get("on") == ["crash"])
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: cli.messages(), timeout=15)
    assert headings(cli.messages()) == ["job svc crashed"]
