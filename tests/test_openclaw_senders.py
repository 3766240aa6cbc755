"""Sending a message through the `openclaw` CLI and through the gateway's HTTP API."""

from __future__ import annotations

import socket
import threading

import pytest
from conftest import is_gone, wait_until
from openclaw_helpers import FakeGateway, FakeOpenClawCli

from procclaw.home import Home
from procclaw.openclaw.senders import (
    CliSender,
    HttpSender,
    SendError,
    choose_sender,
    gateway_token,
    stop_senders,
)


@pytest.fixture
def gateway():
    server = FakeGateway(token="gw-token")
    yield server
    server.close()


def test_the_cli_gets_channel_target_and_message_as_arguments(tmp_path):
    cli = FakeOpenClawCli(tmp_path)
    CliSender(str(cli.path)).send("whatsapp", "+15555550123", "job backup failed\nsee: x")
    assert cli.calls() == [
        [
            "message",
            "send",
            "--channel",
            "whatsapp",
            "--target",
            "+15555550123",
            "--message",
            "job backup failed\nsee: x",
        ]
    ]


def test_a_failing_cli_is_a_retryable_error_with_what_it_said(tmp_path):
    cli = FakeOpenClawCli(tmp_path)
    cli.exit_with(2)
    with pytest.raises(SendError) as caught:
        CliSender(str(cli.path)).send("telegram", "@ops", "hi")
    assert str(caught.value) == "openclaw exited with status 2: fake openclaw: channel not linked"
    assert caught.value.retryable


def test_a_cli_that_hangs_is_given_up_on_at_its_timeout(tmp_path):
    slow = tmp_path / "openclaw"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    with pytest.raises(SendError, match="did not finish within 0.5 s"):
        CliSender(str(slow), timeout=0.5).send("telegram", "@ops", "hi")


def _rerunning_cli(tmp_path):
    """An `openclaw` that re-runs itself as a child, as `openclaw message send` does, and
    hangs; the child's pid lands in child.pid."""
    cli = tmp_path / "openclaw"
    cli.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {tmp_path}/child.pid\nwait\n")
    cli.chmod(0o755)
    return cli


def _child(tmp_path) -> int:
    pid_file = tmp_path / "child.pid"
    return int(wait_until(lambda: pid_file.exists() and pid_file.read_text().strip()))


def test_a_timeout_ends_the_sender_and_the_child_it_runs(tmp_path):
    # Long enough for the shell to have started its child even on a loaded machine.
    with pytest.raises(SendError, match="did not finish within 2 s"):
        CliSender(str(_rerunning_cli(tmp_path)), timeout=2).send("telegram", "@ops", "hi")
    child = _child(tmp_path)
    wait_until(lambda: is_gone(child), timeout=5)  # SIGKILL is sent; death follows


def test_stopping_the_senders_ends_one_under_way_and_its_child(tmp_path):
    sender = CliSender(str(_rerunning_cli(tmp_path)), timeout=60)
    failures = []

    def send():
        try:
            sender.send("telegram", "@ops", "hi")
        except SendError as exc:
            failures.append(str(exc))

    thread = threading.Thread(target=send)
    thread.start()
    child = _child(tmp_path)
    stop_senders()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert failures == ["openclaw exited with status -9"]
    wait_until(lambda: is_gone(child), timeout=5)


def test_the_gateway_gets_the_message_tool_with_the_bearer_token(gateway):
    HttpSender(gateway.url, "gw-token").send("whatsapp", "+15555550123", "job api is unhealthy")
    [request] = gateway.sent()
    assert request["authorization"] == "Bearer gw-token"
    assert request["body"] == {
        "tool": "message",
        "args": {
            "action": "send",
            "channel": "whatsapp",
            "target": "+15555550123",
            "message": "job api is unhealthy",
        },
    }


def test_wake_posts_the_text_to_the_wake_hook(gateway):
    HttpSender(gateway.url, "gw-token").wake("job api failed")
    [request] = gateway.sent("/hooks/wake")
    assert request["body"] == {"text": "job api failed", "mode": "now"}


def test_a_wake_refused_names_the_hooks_token():
    server = FakeGateway(token="gw-token", hooks_token="hooks-token")
    try:
        with pytest.raises(SendError) as caught:
            HttpSender(server.url, "gw-token").wake("job api failed")
    finally:
        server.close()
    assert str(caught.value) == (
        f"gateway refused the token (401 from {server.url}/hooks/wake):"
        " set openclaw.gateway.hooks_token"
    )


def test_a_wrong_token_is_not_retried(gateway):
    with pytest.raises(SendError) as caught:
        HttpSender(gateway.url, "wrong").send("whatsapp", "+1", "hi")
    assert not caught.value.retryable
    assert "gateway refused the token (401" in str(caught.value)
    assert "OPENCLAW_GATEWAY_TOKEN" in str(caught.value)


def test_a_gateway_error_reports_what_the_gateway_said():
    server = FakeGateway(token="gw-token", statuses=[500])
    try:
        with pytest.raises(SendError) as caught:
            HttpSender(server.url, "gw-token").send("whatsapp", "+1", "hi")
    finally:
        server.close()
    assert str(caught.value) == (
        f"gateway answered 500 from {server.url}/tools/invoke:"
        " message tool failed: channel not linked"
    )


def test_a_gateway_that_is_unavailable_may_be_retried(gateway):
    gateway.statuses = [503]
    with pytest.raises(SendError) as caught:
        HttpSender(gateway.url, "gw-token").send("whatsapp", "+1", "hi")
    assert caught.value.retryable and "gateway answered 503" in str(caught.value)


def test_a_gateway_that_is_not_running_may_be_retried():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nobody listens there
    with pytest.raises(SendError) as caught:
        HttpSender(f"http://127.0.0.1:{port}", None).send("whatsapp", "+1", "hi")
    assert caught.value.retryable and "gateway not reachable" in str(caught.value)


def test_the_token_comes_from_the_config_else_the_environment(tmp_path, monkeypatch):
    home = Home(tmp_path)
    monkeypatch.setenv("OPENCLAW_GATEWAY_TOKEN", "from-env")
    assert gateway_token(home, "from-config") == "from-config"
    assert gateway_token(home, None) == "from-env"
    monkeypatch.delenv("OPENCLAW_GATEWAY_TOKEN")
    assert gateway_token(home, None) is None


def test_a_missing_secret_for_the_token_is_not_retried(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(SendError) as caught:
        gateway_token(Home(tmp_path), "${secret:GW_TOKEN}")
    assert not caught.value.retryable
    assert str(caught.value) == "openclaw.gateway.token: secret 'GW_TOKEN' not found"


def test_the_cli_is_used_when_it_is_on_path(tmp_path, monkeypatch):
    FakeOpenClawCli(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert choose_sender(Home(tmp_path), "http://127.0.0.1:1", None).transport == "cli"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert choose_sender(Home(tmp_path), "http://127.0.0.1:1", None).transport == "http"
