"""The REST API over real HTTP: jobs, logs, errors as JSON, and the OpenAPI document."""

from __future__ import annotations

import contextlib
import os
import re
import signal

import falcon.inspect
import pytest
from conftest import wait_until
from http_helpers import get, post, request

from procclaw import protocol
from procclaw.api.app import ApiApp
from procclaw.api.job_list import job_of_topic
from procclaw.api.token_check import TokenCheck
from procclaw.client import Client
from procclaw.home import Home

JOBS = """\
jobs:
  ticker:
    cmd: python3 -u -c "import time; print('tick', flush=True); time.sleep(600)"
    type: continuous
    tags: [web]
    shutdown: {grace_period: 5}
  once:
    cmd: sh -c 'echo one; echo two; echo oops >&2'
    tags: [batch]
"""


@pytest.fixture
def api(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("ticker", "running")
    return sandbox


def test_health_answers_with_the_controller_up(api):
    reply = get(api.api_port, "/health")
    assert reply.status == 200
    assert reply.json["status"] == "ok" and reply.json["jobs"] == 2


def test_jobs_are_listed_and_filtered_by_status_and_tag(api):
    jobs = get(api.api_port, "/api/v1/jobs").json["jobs"]
    assert [job["id"] for job in jobs] == ["ticker", "once"]
    running = get(api.api_port, "/api/v1/jobs?status=running").json["jobs"]
    assert [job["id"] for job in running] == ["ticker"]
    batch = get(api.api_port, "/api/v1/jobs?tag=batch").json["jobs"]
    assert [job["id"] for job in batch] == ["once"]
    assert get(api.api_port, "/api/v1/jobs?status=running&tag=batch").json["jobs"] == []


def test_the_list_is_current_as_soon_as_the_bus_told_of_a_change(api):
    events = api.subscribe("job.once.")
    for _ in range(3):
        assert get(api.api_port, "/api/v1/jobs").json["jobs"][1]["state"] != "running"
        api.client().call("start", {"job": "once"})
        for state in ("running", "completed"):
            assert events.wait_for(lambda e, s=state: e.topic == f"job.once.{s}", timeout=15)
            # The gateway hears the bus on a subscription of its own, which may get the
            # event a moment after ours: what it serves follows within that moment. A
            # run is over within the second request's time, so "completed" may come early.
            wait_until(lambda s=state: _state_of(api, "once") in (s, "completed"), timeout=1)
        assert _state_of(api, "once") == "completed"
    events.close()


def _state_of(box, job_id: str) -> str:
    listed = get(box.api_port, "/api/v1/jobs").json["jobs"]
    return next(job["state"] for job in listed if job["id"] == job_id)


def test_the_list_follows_a_reload_at_once(api):
    get(api.api_port, "/api/v1/jobs")  # the gateway has a list to keep
    events = api.subscribe(protocol.CONFIG_RELOADED)
    api.write("jobs.yaml", JOBS.replace("  once:", "  extra:"))
    api.cli("reload", check=True)
    assert events.wait_for(lambda e: e.topic == protocol.CONFIG_RELOADED, timeout=15)
    events.close()
    listed = get(api.api_port, "/api/v1/jobs").json["jobs"]
    assert [job["id"] for job in listed] == ["ticker", "extra"]


@pytest.mark.parametrize(
    ("topic", "job"),
    [
        ("job.api.running", "api"),
        ("job.v1.2.failed", "v1.2"),
        ("schedule.nightly.fired", "nightly"),
        ("actor.sup-41-0.down", None),
        ("actor.controller.up", None),
        ("config.reloaded", None),
    ],
)
def test_the_job_an_event_is_about(topic, job):
    assert job_of_topic(topic) == job


def test_one_job_in_detail(api):
    job = get(api.api_port, "/api/v1/jobs/ticker").json
    assert job["state"] == "running" and job["pid"] and job["config"]["tags"] == ["web"]


def test_start_stop_and_restart_over_http(api):
    port = api.api_port
    reply = post(port, "/api/v1/jobs/once/start")
    assert reply.status == 200 and reply.json["action"] == "start"
    api.wait_state("once", "completed")
    old_pid = api.job("ticker")["pid"]
    restarted = post(port, "/api/v1/jobs/ticker/restart")
    assert restarted.status == 200
    assert set(restarted.json) <= {"job", "action", "state", "pid", "reason", "note"}
    wait_until(lambda: (job := api.job("ticker"))["state"] == "running" and job["pid"] != old_pid)
    assert post(port, "/api/v1/jobs/ticker/stop?force=true").status == 200
    api.wait_state("ticker", "stopped")


def test_logs_give_the_last_lines_of_either_stream(api):
    post(api.api_port, "/api/v1/jobs/once/start")
    api.wait_state("once", "completed")
    out = get(api.api_port, "/api/v1/jobs/once/logs?lines=1").json
    assert out["lines"] == ["two"] and out["stream"] == "stdout"
    err = get(api.api_port, "/api/v1/jobs/once/logs?stream=stderr").json
    assert err["lines"] == ["oops"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/jobs/nope", 404, "no_such_job"),
        ("POST", "/api/v1/jobs/nope/start", 404, "no_such_job"),
        ("GET", "/api/v1/jobs/once/logs?lines=-3", 400, "bad_request"),
        ("GET", "/api/v1/jobs/once/logs?lines=abc", 400, "bad_request"),
        ("GET", "/api/v1/jobs/once/logs?lines=%C2%B2", 400, "bad_request"),  # "²"
        pytest.param(
            "GET", "/api/v1/jobs/once/logs?lines=" + "9" * 5000, 400, "bad_request", id="huge"
        ),
        ("GET", "/api/v1/jobs/once/logs?stream=both", 400, "bad_request"),
        ("GET", "/api/v1/jobs?status=sleeping", 400, "bad_request"),
        ("POST", "/api/v1/jobs/ticker/stop?force=maybe", 400, "bad_request"),
        ("POST", "/api/v1/jobs/ticker/stop?forse=true", 400, "bad_request"),
        ("POST", "/api/v1/jobs/ticker/restart?force=true", 400, "bad_request"),
        ("GET", "/api/v1/nothing-here", 404, "not_found"),
        ("PUT", "/api/v1/jobs/ticker", 405, "method_not_allowed"),
    ],
)
def test_errors_are_json_with_the_right_status(api, method, path, status, code):
    reply = request(api.api_port, method, path)
    assert reply.status == status, reply.body
    assert reply.json["error"]["code"] == code
    assert reply.json["error"]["message"]


def test_start_of_a_running_job_changes_nothing_and_says_so(api):
    running = api.wait_state("ticker", "running")
    reply = request(api.api_port, "POST", "/api/v1/jobs/ticker/start")
    assert reply.status == 200
    assert (reply.json["note"], reply.json["pid"]) == ("already started", running["pid"])
    assert api.job("ticker")["pid"] == running["pid"]


def test_a_controller_that_does_not_answer_is_a_503(api):
    """Also at the API's first request: root starts the gateway, which cannot learn its
    settings, and answers the waiting client all the same."""
    controller = api.actor_pid("controller")
    os.kill(controller, signal.SIGSTOP)
    try:
        reply = get(api.api_port, "/api/v1/jobs/ticker", timeout=30)
        assert reply.status == 503 and reply.json["error"]["code"] == "unavailable"
        assert get(api.api_port, "/health", timeout=30).status == 503
        assert api.actor("gateway")["problem"].startswith("no settings from the controller")
    finally:
        # Root may already have replaced it: it stopped heartbeating.
        with contextlib.suppress(ProcessLookupError):
            os.kill(controller, signal.SIGCONT)
    # Once the settings come, the problem is over: `daemon status` shows the address.
    gateway = wait_until(lambda: "listening" in (a := api.actor("gateway")) and a, timeout=30)
    assert "problem" not in gateway
    assert get(api.api_port, "/api/v1/jobs/ticker").status == 200


def test_the_openapi_document_lists_every_route_and_nothing_else(api):
    spec = get(api.api_port, "/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["servers"] == [{"url": f"http://127.0.0.1:{api.api_port}"}]
    documented = {
        (_shape(path), method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
    }
    app = ApiApp(Home(api.home.root), Client(api.home), "127.0.0.1", TokenCheck(False), 1)
    served = {
        (_shape(route.path), method.method)
        for route in falcon.inspect.inspect_routes(app.wsgi)
        for method in route.methods
        if not method.internal
    }
    assert documented == served


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_logs_over_http_mask_the_jobs_secrets(sandbox):
    sandbox.cli("secret", "set", "PASSWORD", "hunter2-very-secret", check=True)
    sandbox.run_jobs(
        "jobs:\n  leaky:\n    cmd: sh -c 'echo \"password is $PW\"'\n"
        "    env:\n      PW: ${secret:PASSWORD}\n"
    )
    sandbox.cli("start", "leaky", check=True)
    sandbox.wait_state("leaky", "completed")
    assert "hunter2" in sandbox.home.job_log("leaky").read_text()  # the job's own file
    lines = get(sandbox.api_port, "/api/v1/jobs/leaky/logs").json["lines"]
    assert lines == ["password is ********"]
