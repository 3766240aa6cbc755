"""`pause` and `resume` of any job, with a real daemon: held down across daemon restarts
and reloads, `start` refused, from the CLI and the API."""

from __future__ import annotations

import json

from conftest import is_gone, wait_until
from http_helpers import post
from openclaw_helpers import openclaw_settings, today_memory

SERVICES = """jobs:
  web:
    cmd: sleep 300
    type: continuous
    shutdown: {grace_period: 5}
  other:
    cmd: sleep 300
    type: continuous
"""


def test_pause_stops_a_service_and_refuses_start_until_resume(sandbox):
    sandbox.run_jobs(SERVICES)
    pid = sandbox.wait_state("web", "running")["pid"]
    events = sandbox.subscribe("job.web.")
    paused = sandbox.cli("pause", "web", check=True)
    assert paused.stdout == "web: paused; stopping\nweb: stopped\n"
    assert is_gone(pid)
    assert events.wait_for(lambda e: e.topic == "job.web.paused", 5).data["paused"] is True
    listed = {job["id"]: job for job in json.loads(sandbox.cli("list", "--json").stdout)}
    assert (listed["web"]["paused"], listed["other"]["paused"]) == (True, False)
    table = sandbox.cli("list", check=True).stdout
    assert [line.split()[2] for line in table.splitlines()[1:]] == ["paused", "running"]
    assert "since" in sandbox.cli("status", "web", check=True).stdout
    for command in ("start", "restart"):
        refused = sandbox.cli(command, "web")
        assert (refused.returncode, refused.stderr) == (
            1,
            "procclaw: job 'web' is paused: procclaw resume web\n",
        )
    several = sandbox.cli("restart", "web", "other")
    assert several.returncode == 1
    assert "procclaw: web: job 'web' is paused: procclaw resume web" in several.stderr
    assert "web" not in sandbox.cli("start", "--all", check=True).stdout

    resumed = sandbox.cli("resume", "web", check=True)
    assert resumed.stdout.startswith("web: resumed; starting\nweb: running (pid ")
    assert events.wait_for(lambda e: e.topic == "job.web.resumed", 5).data["paused"] is False
    assert sandbox.job("web")["paused"] is False
    events.close()


def test_a_pause_outlives_the_daemon_and_reloads_and_a_stop_does_not(sandbox):
    sandbox.run_jobs(SERVICES)
    sandbox.wait_state("web", "running")
    sandbox.wait_state("other", "running")
    sandbox.cli("pause", "web", check=True)
    sandbox.cli("stop", "other", check=True)
    sandbox.cli("daemon", "stop", check=True)
    sandbox.start_daemon()
    sandbox.wait_state("other", "running")  # a stop is undone by the next daemon start
    web = sandbox.job("web")
    assert (web["state"], web["paused"], web["pid"]) == ("stopped", True, None)

    sandbox.write("jobs.yaml", SERVICES.replace("sleep 300\n    type", "sleep 301\n    type", 1))
    reload = sandbox.client().call("reload")
    assert reload["changed"] == ["web"] and "web" not in reload["actions"]
    assert sandbox.job("web")["state"] == "stopped"
    assert sandbox.cli("resume", "web", check=True).returncode == 0
    assert sandbox.job("web")["config"]["cmd"] == "sleep 301"


def test_pause_stops_a_running_manual_job_and_a_second_pause_is_a_no_op(sandbox):
    sandbox.run_jobs("jobs:\n  task:\n    cmd: sleep 300\n")
    sandbox.cli("start", "task", check=True)
    sandbox.cli("pause", "task", check=True)
    assert sandbox.job("task")["state"] == "stopped"
    assert sandbox.cli("pause", "task", check=True).stdout == "task: already paused\n"
    resumed = sandbox.cli("resume", "task", check=True)
    assert resumed.stdout == "task: resumed\n"  # a manual job waits to be started
    assert sandbox.job("task")["state"] == "stopped"
    assert sandbox.cli("resume", "task", check=True).stdout == "task: not paused\n"
    missing = sandbox.cli("pause", "tsak")
    assert (missing.returncode, missing.stderr) == (
        1,
        "procclaw: no job 'tsak' (did you mean 'task'?)\n",
    )


def test_the_api_pauses_and_resumes_and_answers_409_paused_to_a_start(sandbox):
    sandbox.run_jobs(SERVICES)
    sandbox.wait_state("web", "running")
    paused = post(sandbox.api_port, "/api/v1/jobs/web/pause")
    assert paused.status == 200
    assert paused.json["action"] == "pause" and paused.json["paused"] is True
    sandbox.wait_state("web", "stopped")
    refused = post(sandbox.api_port, "/api/v1/jobs/web/start")
    assert refused.status == 409
    assert refused.json["error"] == {
        "code": "paused",
        "message": "job 'web' is paused: procclaw resume web",
    }
    resumed = post(sandbox.api_port, "/api/v1/jobs/web/resume")
    assert (resumed.status, resumed.json["paused"]) == (200, False)
    sandbox.wait_state("web", "running")
    wrong = post(sandbox.api_port, "/api/v1/jobs/web/pause?force=1")
    assert wrong.status == 400


def test_a_job_removed_from_the_config_forgets_its_pause(sandbox):
    sandbox.run_jobs(SERVICES)
    sandbox.cli("pause", "web", check=True)
    sandbox.write("jobs.yaml", "jobs:\n  other:\n    cmd: sleep 300\n    type: continuous\n")
    sandbox.cli("reload", check=True)
    sandbox.write("jobs.yaml", SERVICES)
    sandbox.cli("reload", check=True)
    wait_until(lambda: sandbox.job("web")["state"] == "running")
    assert sandbox.job("web")["paused"] is False


def test_pause_and_resume_are_noted_in_the_agents_memory_and_sent_nowhere(sandbox, cli, workspace):
    sandbox.write("procclaw.yaml", openclaw_settings(workspace))
    sandbox.run_jobs(SERVICES)
    sandbox.cli("pause", "web", check=True)
    sandbox.cli("resume", "web", check=True)
    memory = today_memory(workspace)
    wait_until(lambda: memory.exists() and "job web was resumed" in memory.read_text())
    assert "ProcClaw: job web was paused (held down until `procclaw resume`)" in memory.read_text()
    assert cli.calls() == []
