"""POST /api/v1/jobs, PATCH and DELETE /api/v1/jobs/{id} over real HTTP: jobs added,
switched and removed at run time, the token required."""

from __future__ import annotations

import pytest
from conftest import is_gone, wait_until
from http_helpers import request

SLEEP = 'python3 -c "import time; time.sleep(600)"'
TOKEN = "edit-token-for-tests"
JOBS = f"jobs:\n  keep:\n    cmd: {SLEEP}\n    type: continuous\n"
DEEP: list = []
for _ in range(100):
    DEEP = [DEEP]


@pytest.fixture
def api(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("keep", "running")
    return sandbox


def _call(sandbox, method: str, path: str, body=None, token: str | None = None):
    return request(sandbox.api_port, method, path, body=body, token=token)


def _listed(sandbox) -> list[str]:
    return [job["id"] for job in _call(sandbox, "GET", "/api/v1/jobs").json["jobs"]]


def test_post_adds_a_job_that_runs_and_delete_removes_it(api):
    job = {"id": "web", "cmd": SLEEP, "type": "continuous", "env": {"PORT": 8080}}
    created = _call(api, "POST", "/api/v1/jobs", job)
    assert created.status == 201, created.body
    assert created.headers["location"].endswith("/api/v1/jobs/web")
    assert created.json["actions"] == {"web": "started"}
    assert (api.home.jobs_dir / "web.yaml").exists()
    pid = api.wait_state("web", "running")["pid"]
    assert api.job("web")["config"]["env"] == {"PORT": "8080"}
    assert api.job("web")["cause"] == "api"
    wait_until(lambda: _listed(api) == ["keep", "web"])  # the list is refreshed by events

    deleted = _call(api, "DELETE", "/api/v1/jobs/web")
    assert deleted.status == 200 and deleted.json["actions"] == {"web": "stopped"}
    wait_until(lambda: is_gone(pid))
    assert not (api.home.jobs_dir / "web.yaml").exists()


def test_post_of_a_scheduled_job_shows_its_next_runs(api):
    job = {"id": "nightly", "cmd": "echo hi", "type": "scheduled", "schedule": "0 3 * * *",
           "timezone": "America/Sao_Paulo"}  # fmt: skip
    assert _call(api, "POST", "/api/v1/jobs", job).status == 201
    shown = _call(api, "GET", "/api/v1/jobs/nightly").json
    assert shown["next_runs"][0].endswith("T03:00:00-03:00")


def test_patch_disables_and_enables_a_job_of_jobs_yaml(api):
    pid = api.job("keep")["pid"]
    disabled = _call(api, "PATCH", "/api/v1/jobs/keep", {"enabled": False})
    assert disabled.status == 200 and disabled.json["actions"] == {"keep": "stopped"}
    wait_until(lambda: is_gone(pid))
    assert _call(api, "GET", "/api/v1/jobs/keep").json["enabled"] is False
    enabled = _call(api, "PATCH", "/api/v1/jobs/keep", {"enabled": True})
    assert enabled.status == 200 and enabled.json["actions"] == {"keep": "started"}
    api.wait_state("keep", "running")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "says"),
    [
        ("POST", "/api/v1/jobs", {"id": "keep", "cmd": "echo"}, 409, "conflict", "jobs.yaml:2"),
        ("POST", "/api/v1/jobs", {"id": "x", "cmd": "echo", "schedule": "1 2"}, 400,
         "invalid_config", "job 'x': schedule is only used by type: scheduled"),
        ("POST", "/api/v1/jobs", {"id": "x", "comand": "echo"}, 400, "invalid_config",
         "unknown key 'comand'"),
        ("POST", "/api/v1/jobs", {"id": "../x", "cmd": "echo"}, 400, "invalid_config",
         "job id '../x' is invalid"),
        ("POST", "/api/v1/jobs", {"cmd": "echo"}, 400, "bad_request", '"id"'),
        ("POST", "/api/v1/jobs", ["not", "a", "job"], 400, "bad_request", "JSON object"),
        ("POST", "/api/v1/jobs", {"id": "x", "cmd": DEEP}, 400, "bad_request",
         "nested more than 64 levels deep"),
        ("PATCH", "/api/v1/jobs/keep", {"cmd": "echo"}, 400, "bad_request", '"enabled"'),
        ("PATCH", "/api/v1/jobs/nope", {"enabled": False}, 404, "no_such_job", "no job 'nope'"),
        ("DELETE", "/api/v1/jobs/nope", None, 404, "no_such_job", "no job 'nope'"),
        ("DELETE", "/api/v1/jobs/keep", None, 409, "conflict", "jobs.yaml:2"),
    ],
)  # fmt: skip
def test_a_refused_change_is_an_error_and_changes_nothing(
    api, method, path, body, status, code, says
):
    pid = api.job("keep")["pid"]
    reply = _call(api, method, path, body)
    assert reply.status == status, reply.body
    assert reply.json["error"]["code"] == code and says in reply.json["error"]["message"]
    assert not api.home.jobs_dir.exists()
    assert api.job("keep")["pid"] == pid


def test_a_job_sent_as_a_form_or_text_is_refused_so_no_web_page_can_add_one(api):
    for media_type in ("text/plain", "application/x-www-form-urlencoded"):
        reply = request(
            api.api_port,
            "POST",
            "/api/v1/jobs",
            headers={"Content-Type": media_type},
            body={"id": "evil", "cmd": "touch /tmp/owned"},
        )
        assert reply.status == 415 and reply.json["error"]["code"] == "unsupported_media_type"
    assert not api.home.jobs_dir.exists()


def test_changes_need_the_token_when_auth_is_on(sandbox):
    sandbox.write("procclaw.yaml", f"api:\n  auth:\n    enabled: true\n    token: {TOKEN}\n")
    sandbox.run_jobs(JOBS)
    job = {"id": "web", "cmd": SLEEP}
    assert _call(sandbox, "POST", "/api/v1/jobs", job).status == 401
    assert _call(sandbox, "PATCH", "/api/v1/jobs/keep", {"enabled": False}).status == 401
    assert _call(sandbox, "DELETE", "/api/v1/jobs/keep").status == 401
    assert not sandbox.home.jobs_dir.exists()
    assert _call(sandbox, "POST", "/api/v1/jobs", job, token=TOKEN).status == 201
    assert _call(sandbox, "DELETE", "/api/v1/jobs/web", token=TOKEN).status == 200
