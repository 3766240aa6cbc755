"""Who may use the API: bearer tokens (literal, file, secret), the Host check, and the
refusal to serve other machines without auth."""

from __future__ import annotations

import pytest
from http_helpers import get, request

from procclaw.api.openapi import SPEC

TOKEN = "s3cret-token-for-tests"
JOBS = "jobs:\n  idle:\n    cmd: 'true'\n"


def _with_auth(sandbox, auth_lines: str) -> None:
    sandbox.write("procclaw.yaml", f"api:\n  auth:\n    enabled: true\n{auth_lines}")
    sandbox.run_jobs(JOBS)


@pytest.fixture
def guarded(sandbox):
    _with_auth(sandbox, f"    token: {TOKEN}\n")
    return sandbox


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        "Bearer " + "☃" * 8,
        "Bearer " + "x" * 20000,
    ],
    ids=["missing", "empty", "no-token", "blank", "wrong", "longer", "basic", "non-ascii", "huge"],
)
def test_a_missing_or_wrong_token_is_a_json_401(guarded, authorization):
    headers = {} if authorization is None else {"Authorization": authorization.encode()}
    reply = request(guarded.api_port, "GET", "/api/v1/jobs", headers=headers)
    assert reply.status == 401
    assert reply.json["error"]["code"] == "unauthorized"
    assert reply.headers["www-authenticate"].startswith("Bearer")


def test_every_route_but_the_open_ones_needs_the_token(guarded):
    """Open: /health, the dashboard's login form and static files. The dashboard's pages
    lead to the login form instead of a 401."""
    for path, operations in SPEC["paths"].items():
        concrete = path.replace("{id}", "idle").replace("{name}", "common.js")
        for method, operation in operations.items():
            reply = request(guarded.api_port, method.upper(), concrete)
            if operation.get("security") == []:  # the login form may refuse a wrong token
                assert "www-authenticate" not in reply.headers, (method, path)
            elif path in ("/", "/jobs/{id}"):
                assert (reply.status, reply.headers["location"]) == (303, "/login")
            else:
                assert reply.status == 401, (method, path)


def test_the_right_token_opens_the_api(guarded):
    reply = get(guarded.api_port, "/api/v1/jobs", token=TOKEN)
    assert reply.status == 200 and reply.json["jobs"][0]["id"] == "idle"
    assert get(guarded.api_port, "/metrics", token=TOKEN).status == 200


def test_metrics_can_be_left_open_to_scrapers(sandbox):
    _with_auth(sandbox, f"    token: {TOKEN}\n    metrics: false\n")
    assert get(sandbox.api_port, "/metrics").status == 200
    assert get(sandbox.api_port, "/api/v1/jobs").status == 401


def test_the_token_may_come_from_a_file(sandbox):
    token_file = sandbox.write("api-token", f"{TOKEN}\n")
    _with_auth(sandbox, f"    token_file: {token_file}\n")
    assert get(sandbox.api_port, "/api/v1/jobs", token=TOKEN).status == 200
    assert get(sandbox.api_port, "/api/v1/jobs", token="nope").status == 401


def test_the_token_may_be_a_secret(sandbox):
    sandbox.cli("secret", "set", "API_TOKEN", TOKEN, check=True)
    _with_auth(sandbox, "    token: ${secret:API_TOKEN}\n")
    assert get(sandbox.api_port, "/api/v1/jobs", token=TOKEN).status == 200
    assert get(sandbox.api_port, "/api/v1/jobs", token="${secret:API_TOKEN}").status == 401


# Host header -> refused (403) or served (200); the API listens on 127.0.0.1.
HOSTS = [
    ("evil.example", 403),
    ("evil.example:80", 403),
    ("10.1.2.3", 403),
    ("localhost:1@evil", 403),
    ("[::1].evil.com", 403),
    ("[::1]evil", 403),
    ("[::1", 403),
    ("[evil]", 403),
    ("127.0.0.1.evil", 403),
    ("localhost:", 403),
    ("localhost:123456", 403),
    ("localhost:80:80", 403),
    ("localhost", 200),
    ("LocalHost:{port}", 200),
    ("127.0.0.1:{port}", 200),
    ("[::1]:{port}", 200),
    ("[0:0:0:0:0:0:0:1]", 200),
]


def test_the_host_header_is_read_strictly_as_host_and_port(sandbox):
    sandbox.run_jobs(JOBS)
    for host, status in HOSTS:
        reply = get(
            sandbox.api_port, "/api/v1/jobs", headers={"Host": host.format(port=sandbox.api_port)}
        )
        assert reply.status == status, host
        if status == 403:
            assert reply.json["error"]["code"] == "forbidden_host", host


def test_the_daemon_refuses_to_serve_other_machines_without_auth(sandbox):
    sandbox.write("procclaw.yaml", "daemon:\n  host: 0.0.0.0\n")
    sandbox.write("jobs.yaml", JOBS)
    result = sandbox.cli("daemon", "start")
    assert result.returncode == 1
    assert (
        f"{sandbox.home.config_file}:2: daemon.host 0.0.0.0 is reachable from other machines:"
        " set api.auth.enabled: true with a token, or use 127.0.0.1"
    ) in result.stderr
    assert sandbox.client().daemon_pid() is None


def test_a_token_that_cannot_be_read_lets_nobody_in(sandbox):
    _with_auth(sandbox, f"    token_file: {sandbox.home.root / 'missing-token'}\n")
    reply = get(sandbox.api_port, "/api/v1/jobs", token="anything")
    assert reply.status == 503
    assert reply.json["error"]["message"].startswith("the API token cannot be read:")
    assert get(sandbox.api_port, "/health").status == 200
    assert "the API token cannot be read" in sandbox.home.daemon_log.read_text()


def test_a_token_file_that_is_not_ascii_lets_nobody_in(sandbox):
    token_file = sandbox.write("token", "tök€n\n")
    _with_auth(sandbox, f"    token_file: {token_file}\n")
    sent = {"Authorization": "Bearer tök€n".encode()}
    reply = get(sandbox.api_port, "/api/v1/jobs", headers=sent)
    assert reply.status == 503
    assert "printable ASCII" in reply.json["error"]["message"]


def test_a_literal_token_that_is_not_ascii_is_a_config_error(sandbox):
    sandbox.write("procclaw.yaml", "api:\n  auth:\n    enabled: true\n    token: tök€n\n")
    result = sandbox.cli("config", "--validate")
    assert result.returncode != 0
    assert (
        f"{sandbox.home.config_file}:4: api.auth.token: must be printable ASCII:"
        " it travels in an HTTP header"
    ) in result.stdout


@pytest.mark.parametrize(
    ("auth_line", "where"),
    [
        ("token: ${secret:NO_SUCH_SECRET}", "api.auth.token"),
        ("token_file: /nonexistent/procclaw-token", "api.auth.token_file"),
    ],
    ids=["secret", "file"],
)
def test_a_reload_to_a_token_that_cannot_be_read_is_refused(guarded, auth_line, where):
    guarded.write(
        "procclaw.yaml",
        f"daemon:\n  port: {guarded.api_port}\napi:\n  auth:\n    enabled: true\n    {auth_line}\n",
    )
    result = guarded.cli("reload")
    assert result.returncode != 0
    assert f"{guarded.home.config_file}: {where}: the API token cannot be read:" in result.stderr
    assert get(guarded.api_port, "/api/v1/jobs", token=TOKEN).status == 200  # as it was


def test_a_reload_with_a_token_file_gone_bad_is_refused(sandbox):
    token_file = sandbox.write("token", f"{TOKEN}\n")
    _with_auth(sandbox, f"    token_file: {token_file}\n")
    # The gateway, started by this first request, has read the token.
    assert get(sandbox.api_port, "/api/v1/jobs", token=TOKEN).status == 200
    token_file.write_text("tök€n\n")  # the settings stay as they were
    result = sandbox.cli("reload")
    assert result.returncode != 0
    assert "api.auth.token_file: the API token has characters other than printable ASCII" in (
        result.stderr
    )
    assert get(sandbox.api_port, "/api/v1/jobs", token=TOKEN).status == 200
