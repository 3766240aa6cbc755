"""What running jobs cost, in every view, and the memory limit enforced by sampling."""

from __future__ import annotations

import json
import re
import sys

import pytest
from conftest import wait_until
from http_helpers import get

BUSY = json.dumps([sys.executable, "-c", "while True: pass"])
HOG = json.dumps([sys.executable, "-c", "import time; x = b'x' * (200 << 20); time.sleep(300)"])

JOBS = f"""\
jobs:
  busy:
    cmd: {BUSY}
    type: continuous
  family:
    cmd: sh -c 'sleep 300 & sleep 300 & wait'
    type: continuous
  idle:
    cmd: sleep 300
"""


def test_list_shows_cpu_and_memory_of_running_jobs_and_none_of_stopped_ones(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("busy", "running")
    sandbox.wait_state("family", "running")
    jobs = {job["id"]: job for job in json.loads(sandbox.cli("list", "--json", check=True).stdout)}
    busy, family, idle = jobs["busy"], jobs["family"], jobs["idle"]
    assert busy["cpu"] > 20 and busy["cpu_seconds"] > 0  # a core's worth, on a busy machine too
    assert busy["memory"] > 1 << 20 and busy["processes"] == 1
    assert family["processes"] == 3 and family["cpu"] < 20
    assert busy["memory_pss"] is None or 0 < busy["memory_pss"] <= busy["memory"]
    keys = ("cpu", "cpu_window", "cpu_seconds", "memory", "memory_pss", "processes")
    assert [idle[key] for key in keys] == [None] * 6
    table = sandbox.cli("list", check=True).stdout.splitlines()
    assert table[0].split()[:7] == ["JOB", "TYPE", "STATE", "PID", "UPTIME", "CPU", "MEM"]
    idle_row = next(line.split() for line in table if line.startswith("idle"))
    assert idle_row[5:7] == ["-", "-"]  # cpu, mem
    status = sandbox.cli("status", "family", check=True).stdout
    assert "3 processes" in status and " RSS" in status


def test_the_api_and_metrics_show_usage(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("busy", "running")
    listed = {job["id"]: job for job in get(sandbox.api_port, "/api/v1/jobs").json["jobs"]}
    assert listed["busy"]["memory"] > 0 and listed["idle"]["memory"] is None
    detail = get(sandbox.api_port, "/api/v1/jobs/busy").json
    assert detail["processes"] == 1 and detail["cpu_seconds"] > 0
    metrics = get(sandbox.api_port, "/metrics").body.decode()
    assert 'procclaw_job_cpu_seconds_total{job="busy"}' in metrics
    assert 'procclaw_job_memory_bytes{job="busy"}' in metrics
    assert 'procclaw_job_memory_bytes{job="idle"}' not in metrics


def test_a_job_over_its_memory_limit_is_restarted_with_the_reason(sandbox):
    sandbox.run_jobs(
        f"jobs:\n  hog:\n    cmd: {HOG}\n    type: continuous\n    enabled: false\n"
        "    limits: {memory: 100M}\n    retry: {delays: [0.1, 0.1]}\n"
    )
    events = sandbox.subscribe("job.hog.")
    sandbox.cli("start", "hog", check=True)
    over = events.wait_for(lambda e: e.topic == "job.hog.limit", timeout=20)
    assert over is not None
    reason = over.data["reason"]
    assert reason.startswith("memory limit 100M exceeded (") and reason.endswith("M)"), reason
    assert int(reason.split("(")[1].rstrip("M)").split(".")[0]) >= 190
    first = over.data["pid"]
    again = events.wait_for(lambda e: e.topic == "job.hog.running" and e.data["pid"] != first, 20)
    assert again is not None and again.data["restarts"] == 1
    # The run that replaced it was started by the retry policy.
    assert (over.data["cause"], again.data["cause"]) == ("cli", "retry")
    events.close()


def test_daemon_status_says_what_procclaw_itself_costs(sandbox):
    sandbox.run_jobs(JOBS)
    costs = next(
        line
        for line in sandbox.cli("daemon", "status", check=True).stdout.splitlines()
        if line.startswith("costs")
    )
    assert " PSS (" in costs or " RSS" in costs
    footprint = json.loads(sandbox.cli("daemon", "status", "--json", check=True).stdout)[
        "footprint"
    ]
    actors = sandbox.daemon_status()["actors"]
    assert footprint["processes"] == 1 + sum(1 for actor in actors if actor["pid"])
    assert footprint["memory"] > 10 << 20 and footprint["cpu_seconds"] > 0


def test_a_list_after_one_jobs_status_shows_every_jobs_usage(sandbox):
    """`status` measures one job; a `list` soon after asks its supervisor for that job
    (measured lately) and the others (not yet) in one request."""
    sandbox.write("procclaw.yaml", "daemon:\n  supervisors: 1\n")  # one holds them all
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("busy", "running")
    sandbox.wait_state("family", "running")
    assert "3 processes" in sandbox.cli("status", "family", check=True).stdout
    jobs = {job["id"]: job for job in json.loads(sandbox.cli("list", "--json", check=True).stdout)}
    assert jobs["family"]["processes"] == 3 and jobs["busy"]["processes"] == 1
    assert "command usage failed" not in sandbox.home.daemon_log.read_text()


WORKED_THEN_SLEPT = json.dumps(
    [
        sys.executable,
        "-c",
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
        "print('worked', flush=True)\ntime.sleep(300)",
    ]
)


def test_a_runs_first_look_is_its_average_since_it_started_and_the_next_since_the_first(
    sandbox,
):
    """Answered at once from one measure: a job that worked, then slept, shows its work
    at the first look (since the run started) and none at the next (since that look)."""
    sandbox.run_jobs(f"jobs:\n  worker:\n    cmd: {WORKED_THEN_SLEPT}\n    type: continuous\n")
    log = sandbox.home.logs_dir / "worker.log"
    wait_until(lambda: log.exists() and "worked" in log.read_text(), 20)
    first = json.loads(sandbox.cli("status", "worker", "--json", check=True).stdout)
    assert first["cpu_seconds"] >= 0.4
    assert first["cpu"] > 1.0, first  # 0.4 s or more of CPU over a few seconds at most
    assert first["cpu"] == pytest.approx(100 * first["cpu_seconds"] / first["cpu_window"], 0.1)
    assert first["cpu_window"] >= first["cpu_seconds"]  # one core at most, since its start
    second = json.loads(sandbox.cli("status", "worker", "--json", check=True).stdout)
    assert second["cpu"] is not None and second["cpu"] < 1.0, second
    assert second["cpu_window"] < first["cpu_window"]  # since the first look only
    shown = sandbox.cli("status", "worker", check=True).stdout
    assert re.search(r"^cpu +\d+\.\d% over \d+\.\ds \(\d+s in all\)$", shown, re.M), shown
