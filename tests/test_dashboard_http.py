"""The dashboard over plain HTTP: login and its cookie, the CSRF and cross-site checks,
auth off on loopback, the followed log, and what the page weighs."""

from __future__ import annotations

import re
from gzip import decompress
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from conftest import wait_until
from http_helpers import EventStream, get, request

from procclaw.api.sessions import SessionStore

TOKEN = "dashboard-test-token-0123456789"
JOBS = """\
jobs:
  idle:
    cmd: sleep 600
    type: continuous
    tags: [web]
  speaker:
    type: continuous
    cmd: sh -c 'echo "said $WORD"; while sleep 0.05; do [ -f say ] && cat say && rm say; done'
    cwd: {home}
    env:
      WORD: ${{secret:WORD}}
"""


IDLE = "jobs:\n  idle:\n    cmd: sleep 600\n    type: continuous\n"


def _form_post(port: int, path: str, fields: dict[str, str], headers: dict | None = None):
    body = urlencode(fields)
    sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return request(port, "POST", path, headers=sent, body=body)


@pytest.fixture
def guarded(sandbox, disk_keyring):
    sandbox.cli("secret", "set", "WORD", "xyzzy-not-shown", check=True)
    sandbox.write("procclaw.yaml", f"api:\n  auth:\n    enabled: true\n    token: {TOKEN}\n")
    sandbox.run_jobs(JOBS.format(home=sandbox.home.root))
    sandbox.wait_state("idle", "running")
    return sandbox


def _login(box) -> tuple[str, str]:
    """Log in; the cookie header to send, and the page's CSRF token."""
    reply = _form_post(box.api_port, "/login", {"token": TOKEN})
    assert (reply.status, reply.headers["location"]) == (303, "/")
    cookie = SimpleCookie(reply.headers["set-cookie"])
    (morsel,) = cookie.values()
    sent = f"{morsel.key}={morsel.value}"
    page = get(box.api_port, "/", headers={"Cookie": sent})
    assert page.status == 200
    csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page.body)[1].decode()
    return sent, csrf


def test_login_sets_a_session_cookie_with_its_flags_and_not_the_token(guarded):
    reply = _form_post(guarded.api_port, "/login", {"token": TOKEN})
    assert reply.status == 303
    header = reply.headers["set-cookie"]
    (morsel,) = SimpleCookie(header).values()
    assert morsel.key == f"procclaw_session_{guarded.api_port}"
    assert TOKEN not in header and len(morsel.value) >= 40
    flags = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "path", "expires", "max-age", "samesite"} <= flags
    assert "SameSite=Strict" in header and "Path=/" in header
    assert "Max-Age=43200" in header


def test_a_wrong_token_gets_the_form_again_and_no_cookie(guarded):
    reply = _form_post(guarded.api_port, "/login", {"token": "nope"})
    assert reply.status == 403
    assert "set-cookie" not in reply.headers
    assert b"Wrong token." in reply.body


def test_without_a_session_the_pages_lead_to_the_login_form(guarded):
    for path in ("/", "/jobs/idle"):
        reply = get(guarded.api_port, path)
        assert (reply.status, reply.headers["location"]) == (303, "/login")
    assert get(guarded.api_port, "/login").status == 200
    assert get(guarded.api_port, "/api/v1/jobs").status == 401


def test_the_session_opens_the_api_and_the_token_is_nowhere_in_the_page(guarded):
    cookie, csrf = _login(guarded)
    page = get(guarded.api_port, "/", headers={"Cookie": cookie})
    assert TOKEN.encode() not in page.body
    assert b'id="job-idle"' in page.body
    assert get(guarded.api_port, "/api/v1/jobs", headers={"Cookie": cookie}).status == 200
    assert get(guarded.api_port, "/api/v1/jobs", headers={"Cookie": cookie + "x"}).status == 401
    stream = EventStream(
        guarded.api_port, "/api/v1/events?names=false", headers={"Cookie": cookie}, timeout=10
    )
    try:
        assert stream.response.status == 200
        assert stream.next_block() == [": subscribed"]
        guarded.cli("stop", "idle", check=True)
        event = stream.next_event()
        while event["data"]["topic"].endswith(".health"):  # a run's first verdict, come late
            event = stream.next_event()
        assert "event" not in event and event["data"]["topic"] == "job.idle.stopping"
    finally:
        stream.close()


def test_a_change_on_a_session_needs_the_csrf_token(guarded):
    cookie, csrf = _login(guarded)
    stop = "/api/v1/jobs/idle/stop"
    refused = request(guarded.api_port, "POST", stop, headers={"Cookie": cookie})
    assert (refused.status, refused.json["error"]["code"]) == (403, "csrf")
    wrong = request(guarded.api_port, "POST", stop, headers={"Cookie": cookie, "X-CSRF-Token": "x"})
    assert wrong.status == 403
    assert guarded.job("idle")["state"] == "running"
    sent = {"Cookie": cookie, "X-CSRF-Token": csrf}
    assert request(guarded.api_port, "POST", stop, headers=sent).status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["foreign-origin", "null-origin", "cross-site", "same-site"],
)
def test_a_cross_site_change_is_refused_even_with_the_csrf_token(guarded, headers):
    cookie, csrf = _login(guarded)
    sent = {"Cookie": cookie, "X-CSRF-Token": csrf, **headers}
    reply = request(guarded.api_port, "POST", "/api/v1/jobs/idle/stop", headers=sent)
    assert (reply.status, reply.json["error"]["code"]) == (403, "cross_site")
    assert guarded.job("idle")["state"] == "running"


def test_a_bearer_client_needs_no_csrf_token(guarded):
    reply = request(guarded.api_port, "POST", "/api/v1/jobs/idle/stop", token=TOKEN)
    assert reply.status == 200


def test_logout_ends_the_session(guarded):
    cookie, csrf = _login(guarded)
    sent = {
        "Cookie": cookie,
        "X-CSRF-Token": csrf,
        "Origin": f"http://127.0.0.1:{guarded.api_port}",
    }
    assert request(guarded.api_port, "POST", "/logout", headers=sent).status == 200
    assert get(guarded.api_port, "/api/v1/jobs", headers={"Cookie": cookie}).status == 401


def test_a_new_token_ends_every_session(guarded):
    cookie, _ = _login(guarded)
    auth = "api:\n  auth:\n    enabled: true\n    token: other\n"
    guarded.write("procclaw.yaml", f"daemon:\n  port: {guarded.api_port}\n{auth}")
    guarded.cli("reload", check=True)
    wait_until(lambda: get(guarded.api_port, "/api/v1/jobs", token="other").status == 200)
    assert get(guarded.api_port, "/api/v1/jobs", headers={"Cookie": cookie}).status == 401


def test_the_followed_log_masks_secrets_and_brings_new_lines(guarded):
    guarded.wait_output("speaker", "said")
    cookie, _ = _login(guarded)
    path = "/api/v1/jobs/speaker/logs/stream"
    stream = EventStream(guarded.api_port, path, headers={"Cookie": cookie}, timeout=10)
    try:
        assert stream.next_block() == [": following"]
        first = stream.next_event()["data"]
        assert first == {"stream": "stdout", "line": "said ********"}
        (guarded.home.root / "say").write_text("fresh line\n")
        assert stream.next_event()["data"] == {"stream": "stdout", "line": "fresh line"}
    finally:
        stream.close()


def test_with_auth_off_on_loopback_the_page_needs_no_login(sandbox):
    sandbox.run_jobs(IDLE)
    page = get(sandbox.api_port, "/")
    assert page.status == 200 and b'id="job-idle"' in page.body
    assert get(sandbox.api_port, "/login").headers["location"] == "/"
    foreign = {"Origin": "http://evil.example"}
    reply = request(sandbox.api_port, "POST", "/api/v1/jobs/idle/stop", headers=foreign)
    assert reply.status == 403
    assert request(sandbox.api_port, "POST", "/api/v1/jobs/idle/stop").status == 200
    reply = get(sandbox.api_port, "/api/v1/events?names=maybe")
    assert (reply.status, reply.json["error"]["message"]) == (
        400,
        "names must be true or false, not 'maybe'",
    )


def test_the_page_of_100_jobs_weighs_under_100_kb_and_needs_nothing_from_elsewhere(sandbox):
    jobs = "".join(
        f"  job{number:03}:\n    cmd: 'true'\n    tags: [t{number % 7}]\n" for number in range(100)
    )
    sandbox.run_jobs("jobs:\n" + jobs)
    gzip = {"Accept-Encoding": "gzip, deflate"}
    page = get(sandbox.api_port, "/", headers=gzip)
    assert page.headers["content-encoding"] == "gzip"
    text = decompress(page.body)
    assert text.count(b'<tr id="job-') == 100
    assets = re.findall(rb'(?:src|href)="(/static/[^"]+)"', text)
    assert len(assets) == 3
    sent = [get(sandbox.api_port, asset.decode(), headers=gzip).body for asset in assets]
    assert len(page.body) + sum(map(len, sent)) < 100_000  # what the browser downloads
    plain = len(get(sandbox.api_port, "/").body)
    assert plain + sum(len(decompress(body)) for body in sent) < 100_000  # even unpacked
    assert not re.search(rb'(?:src|href)="(?:https?:)?//', text)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert get(sandbox.api_port, "/static/nope.js").status == 404


def test_a_session_ends_at_its_expiry():
    now = [1000.0]
    store = SessionStore(lifetime=60, clock=lambda: now[0])
    session = store.open(b"digest")
    assert store.find(session.key, b"digest") is session
    assert store.find(session.key, b"other") is None  # and it is gone for good
    session = store.open(b"digest")
    now[0] += 61
    assert store.find(session.key, b"digest") is None
    assert store.find(None, b"digest") is None


def test_the_job_page_shows_its_config_with_secrets_masked(guarded):
    cookie, _ = _login(guarded)
    page = get(guarded.api_port, "/jobs/speaker", headers={"Cookie": cookie}).body.decode()
    assert "******** (secret WORD)" in page
    assert "xyzzy" not in page
    assert get(guarded.api_port, "/jobs/nope", headers={"Cookie": cookie}).status == 404


def test_the_job_page_lists_the_health_changes_heard_since_the_gateway_started(sandbox):
    sandbox.run_jobs(IDLE)
    page = get(sandbox.api_port, "/jobs/idle").body
    assert b"No change since the gateway started." in page or b'class="healthy"' in page
    sandbox.cli("restart", "idle", check=True)  # a new run: its first verdict is news
    wait_until(lambda: b'<li class="healthy"><time' in get(sandbox.api_port, "/jobs/idle").body)
