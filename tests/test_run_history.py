"""`procclaw runs <job>` and `GET /api/v1/jobs/{id}/runs`: past runs, and who started each."""

import json
import os
import signal
import time

import pytest
from conftest import PROGRAMS, wait_until
from http_helpers import get, post

JOBS = f"""\
jobs:
  svc:
    cmd: sleep 300
    type: continuous
  once:
    cmd: "true"
  tick:
    cmd: "true"
    type: scheduled
    schedule: "0 0 1 1 *"
  flaky:
    cmd: sh -c 'sleep 0.2; exit 3'
    type: continuous
    enabled: false
    retry: {{delays: [0.1], max_attempts: 1}}
  base:
    cmd: "true"
  top:
    cmd: "true"
    depends_on: [{{job: base, condition: after_complete}}]
  stubborn:  # only SIGKILL ends it
    cmd: python3 {PROGRAMS}/ignore_term.py
    shutdown: {{grace_period: 2}}
"""


def runs_of(sandbox, job_id: str, count: int) -> list[dict]:
    """The job's runs once it has `count` of them (the latest first)."""
    return wait_until(
        lambda: (
            len(runs := sandbox.client().call("runs", {"job": job_id, "limit": 100})) >= count
            and runs
        )
    )


def causes(runs: list[dict]) -> list[str]:
    return [run["cause"] for run in runs]


@pytest.mark.timeout(120)
def test_each_run_records_how_it_was_started(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("svc", "running")

    sandbox.cli("start", "once", check=True)
    runs_of(sandbox, "once", 1)
    assert post(sandbox.api_port, "/api/v1/jobs/once/start").status == 200
    assert causes(runs_of(sandbox, "once", 2)) == ["api", "cli"]

    due = time.time() + 3600
    sandbox.client().call("fire", {"fires": [{"job": "tick", "due": due, "action": "run"}]})
    assert causes(runs_of(sandbox, "tick", 1)) == ["schedule"]

    sandbox.cli("start", "flaky")  # exits 3, is retried once, then fails
    sandbox.wait_state("flaky", "failed")
    flaky = runs_of(sandbox, "flaky", 2)
    assert causes(flaky) == ["retry", "cli"]
    assert [(run["result"], run["exit_code"]) for run in flaky] == [("failed", 3)] * 2

    sandbox.cli("start", "top", check=True)
    assert causes(runs_of(sandbox, "base", 1)) == ["dependency"]
    assert causes(runs_of(sandbox, "top", 1)) == ["cli"]

    sandbox.cli("restart", "svc", check=True)
    (stopped,) = runs_of(sandbox, "svc", 1)
    assert (stopped["cause"], stopped["result"], stopped["signal"]) == (
        "daemon",
        "stopped",
        "SIGTERM",
    )
    assert stopped["exit_code"] is None and stopped["run_id"]
    assert stopped["duration"] > 0
    sandbox.cli("stop", "svc", check=True)
    assert causes(runs_of(sandbox, "svc", 2)) == ["cli", "daemon"]


def test_status_says_who_started_the_run_under_way(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("svc", "running")
    assert _started_by(sandbox, "svc") == ["started", "by", "daemon"]
    sandbox.cli("restart", "svc", check=True)
    assert _started_by(sandbox, "svc") == ["started", "by", "cli"]
    sandbox.cli("stop", "svc", check=True)
    assert _started_by(sandbox, "svc") is None  # nothing under way


def _started_by(sandbox, job_id: str) -> list[str] | None:
    lines = sandbox.cli("status", job_id, check=True).stdout.splitlines()
    return next((line.split() for line in lines if line.startswith("started by")), None)


@pytest.mark.timeout(90)
def test_runs_lists_them_as_text_json_and_over_http(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.cli("start", "flaky")
    sandbox.wait_state("flaky", "failed")
    runs_of(sandbox, "flaky", 2)

    text = sandbox.cli("runs", "flaky", check=True).stdout.splitlines()
    assert text[0].split() == ["STARTED", "DURATION", "RESULT", "EXIT", "CAUSE"]
    assert [line.split()[3:] for line in text[1:]] == [
        ["failed", "exit", "code", "3", "retry"],
        ["failed", "exit", "code", "3", "cli"],
    ]

    listed = json.loads(sandbox.cli("runs", "flaky", "-n", "1", "--json", check=True).stdout)
    assert len(listed) == 1
    assert {key: listed[0][key] for key in ("result", "exit_code", "signal", "cause")} == {
        "result": "failed",
        "exit_code": 3,
        "signal": None,
        "cause": "retry",
    }
    assert listed[0]["ended_at"] - listed[0]["started_at"] == pytest.approx(listed[0]["duration"])

    reply = get(sandbox.api_port, "/api/v1/jobs/flaky/runs?limit=5")
    assert reply.status == 200
    assert reply.json["job"] == "flaky"
    assert causes(reply.json["runs"]) == ["retry", "cli"]
    assert reply.json["runs"][0] == listed[0]
    assert get(sandbox.api_port, "/api/v1/jobs/flaky/runs?limit=0").status == 400
    assert get(sandbox.api_port, "/api/v1/jobs/flakey/runs").status == 404

    assert sandbox.cli("runs", "svc", check=True).stdout == "svc: no finished runs yet\n"
    assert json.loads(sandbox.cli("runs", "svc", "--json", check=True).stdout) == []


@pytest.mark.timeout(60)
def test_runs_of_an_unknown_job_suggests_the_nearest(sandbox):
    sandbox.run_jobs(JOBS)
    result = sandbox.cli("runs", "flakey")
    assert (result.returncode, result.stderr) == (
        1,
        "procclaw: no job 'flakey' (did you mean 'flaky'?)\n",
    )


@pytest.mark.parametrize("count", ["0", "x", "10001"])
def test_a_bad_count_is_a_usage_error(sandbox, count):
    result = sandbox.cli("runs", "web", "-n", count)
    assert (result.returncode, result.stderr) == (
        2,
        f"procclaw: runs: -n expects a number of runs from 1 to 10000, got '{count}'\n"
        "Usage:\n  procclaw runs <job> [-n N] [--json]\n",
    )


@pytest.mark.timeout(90)
def test_a_restart_keeps_its_cause_when_the_supervisor_dies_during_its_stop(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.cli("start", "stubborn", check=True)
    sandbox.wait_output("stubborn", "up")  # SIGTERM is ignored from here on
    events = sandbox.subscribe("job.stubborn.")
    assert post(sandbox.api_port, "/api/v1/jobs/stubborn/restart").status == 200
    assert events.wait_for(lambda e: e.topic == "job.stubborn.stopping", timeout=5)
    os.kill(sandbox.supervisor_of("stubborn")[1], signal.SIGKILL)
    assert events.wait_for(lambda e: e.topic == "job.stubborn.running", timeout=15)
    events.close()
    sandbox.cli("stop", "stubborn", "--force", check=True)
    assert causes(runs_of(sandbox, "stubborn", 2)) == ["api", "cli"]
