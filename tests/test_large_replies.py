"""Replies larger than a request may be: `list` and `config` grow with the jobs (2,000
plain jobs make a `list` of about 1 MB and a `config` of 1.5 MB), and they reach the
CLI (its own client), the health actor and the alerter (asynchronous calls) whole."""

from __future__ import annotations

import json

import pytest
from conftest import wait_until
from openclaw_helpers import openclaw_settings

from procclaw import protocol

pytestmark = pytest.mark.timeout(90)

# 300 jobs with 40 tags of 100-odd characters (one alias: jobs.yaml itself may not
# exceed 1 MiB): each reply is over a request's cap.
TAGS = json.dumps([f"t{i:02d}-" + "x" * 100 for i in range(40)])
MANY = f"  j0:\n    cmd: sleep 3600\n    tags: &tags {TAGS}\n" + "".join(
    f"  j{i}:\n    cmd: sleep 3600\n    tags: *tags\n" for i in range(1, 300)
)


def test_list_and_config_beyond_a_requests_size_reach_the_cli_health_and_alerter(
    sandbox, cli, workspace
):
    missing = sandbox.home.root / "never-touched"
    sandbox.write("procclaw.yaml", openclaw_settings(workspace))
    sandbox.run_jobs(
        "jobs:\n"
        + MANY
        + f"""\
  sick:
    cmd: sleep 3600
    type: continuous
    enabled: false
    alerts: {{on: []}}
    health_check: {{type: file, path: {missing}, max_age: 1, interval: 0.2, retries: 1}}
  backup:
    cmd: sh -c "exit 3"
    alerts: {{targets: {{whatsapp: "+15555550999"}}}}
"""
    )
    client = sandbox.client(timeout=30)
    jobs = client.call("list")
    assert len(jobs) == 302
    assert len(protocol.encode({"result": jobs})) > protocol.MAX_MESSAGE_BYTES
    config = client.call("config")
    assert len(protocol.encode({"result": config})) > protocol.MAX_MESSAGE_BYTES

    listed = sandbox.cli("list", check=True).stdout.splitlines()
    assert len(listed) == 303  # the heading and every job

    # The health actor knows the job's check only from `config`.
    events = sandbox.subscribe("job.sick.")
    client.call("start", {"job": "sick"})
    verdict = events.wait_for(
        lambda e: e.topic == "job.sick.health" and not e.data["healthy"], timeout=30
    )
    events.close()
    assert verdict is not None and "never-touched" in verdict.data["reason"]

    # The alerter knows the job's own target only from `config`.
    client.call("start", {"job": "backup"})
    [argv] = wait_until(lambda: cli.calls(), timeout=30)
    assert argv[argv.index("--target") + 1] == "+15555550999"
    assert "too large" not in sandbox.home.daemon_log.read_text()
