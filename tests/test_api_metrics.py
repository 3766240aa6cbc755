"""`/metrics`, read back with prometheus_client's own text parser."""

from __future__ import annotations

import os
import signal

from conftest import wait_until
from http_helpers import get
from openclaw_helpers import FakeOpenClawCli
from prometheus_client.parser import text_string_to_metric_families

JOBS = """\
jobs:
  web:
    cmd: python3 -c "import time; time.sleep(600)"
    type: continuous
  ok:
    cmd: 'true'
  bad:
    cmd: sh -c 'exit 3'
    retry: {preset: none}
"""


def _scrape(port: int) -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted label items: value}}."""
    reply = get(port, "/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metrics_describe_jobs_runs_and_actors(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("web", "running")
    for job, outcome in (("ok", "completed"), ("ok", "completed"), ("bad", "failed")):
        sandbox.cli("start", job)
        sandbox.wait_state(job, outcome)
    controller = sandbox.actor_pid("controller")
    os.kill(controller, signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid("controller") not in (None, controller))

    # Also until the health actor has told the new controller its verdicts again.
    metrics = wait_until(
        lambda: (
            (m := _scrape(sandbox.api_port))["procclaw_job_runs_total"].get(
                (("job", "bad"), ("result", "failed"))
            )
            and "procclaw_job_health" in m
            and m
        )
    )
    assert metrics["procclaw_jobs_total"] == {(): 3.0}
    assert metrics["procclaw_job_status"] == {
        (("job", "web"),): 1.0,
        (("job", "ok"),): 0.0,
        (("job", "bad"),): 0.0,
    }
    assert metrics["procclaw_job_uptime_seconds"][(("job", "web"),)] > 0
    assert metrics["procclaw_job_restart_count_total"][(("job", "web"),)] == 0
    assert metrics["procclaw_job_runs_total"] == {
        (("job", "ok"), ("result", "completed")): 2.0,
        (("job", "bad"), ("result", "failed")): 1.0,
    }
    assert metrics["procclaw_job_run_duration_seconds_count"][(("job", "ok"),)] == 2.0
    assert metrics["procclaw_job_run_duration_seconds_bucket"][(("job", "ok"), ("le", "+Inf"))] == 2
    assert metrics["procclaw_job_run_duration_seconds_sum"][(("job", "bad"),)] >= 0
    assert metrics["procclaw_actor_restarts_total"][(("actor", "controller"),)] == 1.0
    assert metrics["procclaw_actor_restarts_total"][(("actor", "gateway"),)] == 0.0
    # The running job's verdict (its default process check); none made up for the others.
    assert metrics["procclaw_job_health"] == {(("job", "web"),): 1.0}


def test_metrics_count_alerts_by_channel_and_outcome(sandbox, tmp_path):
    fake = FakeOpenClawCli(tmp_path / "bin")
    fake.exit_with(1)
    sandbox.env["PATH"] = f"{fake.bin_dir}:{sandbox.env['PATH']}"
    sandbox.write(
        "procclaw.yaml",
        f"""\
        daemon: {{port: {sandbox.api_port}}}
        openclaw:
          memory_logging: false
          alerts:
            channels: [telegram]
            targets: {{telegram: "@ops"}}
            retry_delays: []
        """,
    )
    sandbox.run_jobs("jobs:\n  bad:\n    cmd: sh -c 'exit 3'\n    retry: {preset: none}\n")
    sandbox.cli("start", "bad")
    sandbox.wait_state("bad", "failed")

    metrics = wait_until(
        lambda: (
            (m := _scrape(sandbox.api_port))
            .get("procclaw_alerts_total", {})
            .get((("channel", "telegram"), ("result", "failed")))
            and m
        )
    )
    assert metrics["procclaw_alerts_total"][(("channel", "telegram"), ("result", "sent"))] == 0
    assert metrics["procclaw_alerts_folded_total"] == {(): 0.0}


class _Answers:
    """Stands in for the daemon's replies to a metrics source: only the data matters."""

    def __init__(self, **replies):
        self.replies = replies

    def call_endpoint(self, target, cmd, args=None, timeout=None):
        return self.replies[cmd]


def test_job_health_is_one_zero_or_absent_by_the_summary_health_key():
    from procclaw.api.metric_families import job_metrics

    base = {"state": "running", "uptime": 1.0, "restarts": 0, "tags": []}
    jobs = [
        {**base, "id": "up", "health": "healthy"},
        {**base, "id": "sick", "health": "unhealthy"},
        {**base, "id": "early", "health": "starting"},
        {**base, "id": "plain", "health": None},
        {**base, "id": "older"},  # a controller from before health checks
    ]
    families = {family.name: family for family in job_metrics(_Answers(list=jobs))}
    health = {
        sample.labels["job"]: sample.value for sample in families["procclaw_job_health"].samples
    }
    assert health == {"up": 1.0, "sick": 0.0}
