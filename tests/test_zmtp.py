"""The client's own ZMTP: one exchange with a real libzmq ROUTER, and every way a peer
can fail it (gone, silent, not ZMTP, another mechanism, too large an answer)."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zmq

from procclaw import zmtp
from procclaw.client import Client, DaemonNotAnswering
from procclaw.home import Home
from procclaw.pidfile import PidFile

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "endpoint.sock")


@pytest.fixture
def context() -> Iterator[zmq.Context]:
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def echo_router(context: zmq.Context, path: str, answers: int = 1) -> threading.Thread:
    """A ROUTER on `path` that answers each of `answers` requests with the request twice."""
    router = context.socket(zmq.ROUTER)
    router.bind(f"ipc://{path}")

    def serve() -> None:
        for _ in range(answers):
            identity, body = router.recv_multipart()
            router.send_multipart([identity, body * 2])
        # Left open: the context's teardown closes it, once the answer has been read.

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("size", [0, 1, 255, 256, 300_000])
def test_a_request_gets_its_answer_from_a_libzmq_router(context, path, size):
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    server = echo_router(context, path)
    assert zmtp.exchange(path, body, soon(), max_reply=1 << 20) == body * 2
    server.join(5)


def test_connections_one_after_another_each_get_their_answer(context, path):
    server = echo_router(context, path, answers=20)
    for n in range(20):
        assert zmtp.exchange(path, b"%d" % n, soon(), 1 << 20) == b"%d" % n * 2
    server.join(5)


def test_an_endpoint_bound_after_the_first_try_still_gets_the_request(context, path, monkeypatch):
    """An actor being replaced binds its endpoint anew: the client tries again."""
    retried = threading.Event()
    real_sleep = time.sleep

    def note_retry(seconds: float) -> None:
        retried.set()
        real_sleep(seconds)

    monkeypatch.setattr(zmtp.time, "sleep", note_retry)
    answers: list[bytes | None] = []
    client = threading.Thread(
        target=lambda: answers.append(zmtp.exchange(path, b"late", soon(), 1 << 20))
    )
    client.start()
    assert retried.wait(5), "the client never found the endpoint missing"
    echo_router(context, path).join(5)
    client.join(5)
    assert answers == [b"latelate"]


def test_a_router_that_never_answers_gives_none_at_the_deadline(context, path):
    router = context.socket(zmq.ROUTER)
    router.bind(f"ipc://{path}")
    assert zmtp.exchange(path, b"anyone?", soon(0.3), 1 << 20) is None
    assert router.poll(5000), "the request never reached the router"


def test_a_socket_nobody_listens_on_gives_none_at_the_deadline(path):
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(path)  # the file of a dead actor: bound, not listening
        assert zmtp.exchange(path, b"x", soon(0.2), 1 << 20) is None


def raw_peer(path: str, behave: Callable[[socket.socket], None]) -> threading.Thread:
    """A stream server on `path` that accepts one connection and does `behave` on it."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection, listener:
            behave(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def read_exactly(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        assert chunk, "the client hung up"
        data += chunk
    return data


def greeted(connection: socket.socket, mechanism: bytes = b"NULL") -> None:
    """Our side of the greeting and READY, as libzmq's ROUTER gives them."""
    read_exactly(connection, 64)
    connection.sendall(zmtp._GREETING.replace(b"NULL".ljust(20, b"\0"), mechanism.ljust(20, b"\0")))


def ready(connection: socket.socket) -> None:
    ready_command = b"\x05READY" + zmtp._property(b"Socket-Type", b"ROUTER")
    connection.sendall(zmtp._frame(zmtp._COMMAND, ready_command))


def test_a_peer_that_hangs_up_before_answering_is_peer_gone(path):
    def hang_up_after_the_request(connection: socket.socket) -> None:
        greeted(connection)
        ready(connection)
        connection.recv(4096)

    raw_peer(path, hang_up_after_the_request)
    with pytest.raises(zmtp.PeerGone):
        zmtp.exchange(path, b"x", soon(), 1 << 20)


def test_a_peer_that_hangs_up_before_its_greeting_is_tried_again(context, path):
    """An actor killed as we connect: its successor gets the request, sent once."""
    answers: list[bytes | None] = []
    dying = raw_peer(path, lambda connection: None)  # accepts, then closes at once
    client = threading.Thread(
        target=lambda: answers.append(zmtp.exchange(path, b"again", soon(), 1 << 20))
    )
    client.start()
    dying.join(5)
    os.unlink(path)
    echo_router(context, path).join(5)
    client.join(5)
    assert answers == [b"againagain"]


def test_heartbeats_before_the_answer_are_skipped(path):
    """ZMTP 3.1's PING is a command: not the answer."""

    def ping_then_answer(connection: socket.socket) -> None:
        greeted(connection)
        ready(connection)
        for _frame in ("READY", "request"):
            flags, size = read_exactly(connection, 2)
            body = read_exactly(connection, size)
        ping = b"\x04PING" + struct.pack(">H", 0)
        connection.sendall(zmtp._frame(zmtp._COMMAND, ping) + zmtp._frame(0, b"re:" + body))
        connection.recv(1)  # until the client hangs up

    raw_peer(path, ping_then_answer)
    assert zmtp.exchange(path, b"ask", soon(), 1 << 20) == b"re:ask"


def test_a_peer_that_speaks_something_else_is_a_zmtp_error(path):
    def http(connection: socket.socket) -> None:
        read_exactly(connection, 64)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\n".ljust(64, b" "))

    raw_peer(path, http)
    with pytest.raises(zmtp.ZmtpError, match="not a ZMTP 3 peer"):
        zmtp.exchange(path, b"x", soon(), 1 << 20)


def test_a_peer_asking_for_another_security_mechanism_is_a_zmtp_error(path):
    raw_peer(path, lambda connection: greeted(connection, b"CURVE"))
    with pytest.raises(zmtp.ZmtpError, match="CURVE"):
        zmtp.exchange(path, b"x", soon(), 1 << 20)


def test_a_peer_that_refuses_the_handshake_says_why(path):
    def refuse(connection: socket.socket) -> None:
        greeted(connection)
        reason = b"not allowed"
        connection.sendall(zmtp._frame(zmtp._COMMAND, b"\x05ERROR" + bytes([len(reason)]) + reason))

    raw_peer(path, refuse)
    with pytest.raises(zmtp.ZmtpError, match="handshake refused: not allowed"):
        zmtp.exchange(path, b"x", soon(), 1 << 20)


def test_an_error_command_cut_short_is_still_a_zmtp_error(path):
    def refuse_without_a_reason(connection: socket.socket) -> None:
        greeted(connection)
        connection.sendall(zmtp._frame(zmtp._COMMAND, b"\x05ERROR"))

    raw_peer(path, refuse_without_a_reason)
    with pytest.raises(zmtp.ZmtpError, match="handshake refused: $"):
        zmtp.exchange(path, b"x", soon(), 1 << 20)


def test_an_answer_larger_than_allowed_is_refused_before_it_is_read(context, path):
    server = echo_router(context, path)
    with pytest.raises(zmtp.ZmtpError, match="too large"):
        zmtp.exchange(path, b"y" * 600, soon(), max_reply=1000)
    server.join(5)


def test_a_client_whose_socket_cannot_be_reached_says_where_and_why(tmp_path):
    """A daemon holds its lock, but its run directory is a file: no retrying helps."""
    home = Home(tmp_path)
    lock = PidFile(home.pid_file)
    lock.acquire()
    try:
        home.run_dir.write_text("not a directory")
        with pytest.raises(DaemonNotAnswering) as caught:
            Client(home, timeout=5).call("list")
        assert caught.value.message == (
            f"cannot reach controller at {home.run_dir}/controller.sock: Not a directory"
        )
    finally:
        lock.release()
