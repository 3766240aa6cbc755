"""The gateway actor's life: a port in use, a crash, and settings changed by reload."""

from __future__ import annotations

import os
import signal
import socket

import pytest
from api_port import free_port
from conftest import wait_until
from http_helpers import EventStream, get

JOBS = "jobs:\n  idle:\n    cmd: 'true'\n"


def _answers(port: int, token: str | None = None) -> bool:
    try:
        return get(port, "/api/v1/jobs", token=token, timeout=5).status == 200
    except OSError:
        return False


def _move_api_behind_a_token(sandbox) -> None:
    """Reload onto a new port with a token, and see the new port answer it."""
    new_port = free_port()
    sandbox.write(
        "procclaw.yaml",
        f"daemon:\n  port: {new_port}\napi:\n  auth:\n    enabled: true\n    token: t0ken\n",
    )
    sandbox.cli("reload", check=True)
    wait_until(lambda: _answers(new_port, token="t0ken"), timeout=15)
    assert get(new_port, "/api/v1/jobs").status == 401


def test_a_port_in_use_is_reported_and_retried_not_crash_looped(sandbox):
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", sandbox.api_port))
    squatter.listen()
    try:
        sandbox.run_jobs(JOBS)  # the daemon starts all the same
        gateway = wait_until(lambda: (a := sandbox.actor("gateway")) and "problem" in a and a)
        assert gateway["problem"] == (
            f"cannot listen on 127.0.0.1:{sandbox.api_port}: Address already in use"
        )
        status = sandbox.cli("daemon", "status", check=True).stdout
        assert "Address already in use" in status
        assert "cannot listen on 127.0.0.1" in sandbox.home.daemon_log.read_text()
    finally:
        squatter.close()
    wait_until(lambda: _answers(sandbox.api_port), timeout=30)
    gateway = sandbox.actor("gateway")
    assert gateway["restarts"] == 0
    assert gateway["listening"] == f"http://127.0.0.1:{sandbox.api_port}"


def test_a_killed_gateway_is_back_and_serving(sandbox):
    sandbox.run_jobs(JOBS)
    assert _answers(sandbox.api_port)  # root starts the gateway for its first client
    old = sandbox.actor_pid("gateway")
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid("gateway") not in (None, old))
    wait_until(lambda: _answers(sandbox.api_port), timeout=15)


def test_a_killed_gateways_address_is_not_shown_as_its_replacements(sandbox):
    """`daemon status` says `listening` only of a gateway that listens: not of the
    replacement of one killed, on the dead one's word, before it has bound."""
    sandbox.run_jobs(JOBS)
    assert _answers(sandbox.api_port)
    first = sandbox.actor_pid("gateway")
    events = sandbox.subscribe("actor.gateway.down")
    os.kill(first, signal.SIGKILL)
    assert events.wait_for(lambda e: e.data["pid"] == first, timeout=10) is not None
    events.close()
    gateway = sandbox.actor("gateway")
    assert gateway["pid"] != first
    if "listening" in gateway:  # the replacement's own word: it answers
        assert get(sandbox.api_port, "/health", timeout=10).status == 200


def test_reload_moves_the_api_to_a_new_port_and_token(sandbox):
    sandbox.run_jobs(JOBS)
    assert _answers(sandbox.api_port)
    _move_api_behind_a_token(sandbox)
    wait_until(lambda: not _answers(sandbox.api_port))


def test_an_open_event_stream_ends_when_the_api_moves(sandbox):
    """The old server stops in order: its streams end at once, not at their keepalive."""
    sandbox.run_jobs(JOBS)
    stream = EventStream(sandbox.api_port, "/api/v1/events", timeout=10)
    try:
        assert stream.next_block() == [": subscribed"]
        sandbox.write("procclaw.yaml", f"daemon:\n  port: {free_port()}\n")
        sandbox.cli("reload", check=True)
        with pytest.raises(EOFError):  # after the reload's own event, if it came first
            for _ in range(10):
                stream.next_block()  # a read times out at 10 s, before any keepalive
    finally:
        stream.close()


def _web_code_loaded(pid: int) -> bool:
    """Falcon's compiled modules are mapped in once the web server is built."""
    with open(f"/proc/{pid}/maps") as maps:
        return "/falcon/" in maps.read()


def test_the_web_server_is_loaded_for_the_first_client_who_gets_an_answer(sandbox):
    """A replacement gateway binds the address itself, and builds its web server only
    once a client connects."""
    sandbox.run_jobs(JOBS)
    assert _answers(sandbox.api_port)  # root starts the gateway for its first client
    first = sandbox.actor_pid("gateway")
    os.kill(first, signal.SIGKILL)
    gateway = wait_until(
        lambda: (
            (a := sandbox.actor("gateway"))["pid"] not in (None, first) and "listening" in a and a
        )
    )
    assert gateway["listening"] == f"http://127.0.0.1:{sandbox.api_port}"
    assert not _web_code_loaded(gateway["pid"])
    assert get(sandbox.api_port, "/health", timeout=10).status == 200
    assert _web_code_loaded(gateway["pid"])


def test_reload_before_the_first_client_moves_the_unbuilt_api(sandbox):
    sandbox.run_jobs(JOBS)
    _move_api_behind_a_token(sandbox)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sandbox.api_port), timeout=5)
