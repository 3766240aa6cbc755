"""The gateway's waitress server: output a worker leaves behind still arrives, whole and in time.

A real server on 127.0.0.1 in this process, serving small WSGI apps, read by real
sockets; and its channel's one change checked on a real channel.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_port import free_port

from actors.gateway import http_server
from actors.runtime.api_listeners import bind_listeners

BIG = 24 * 1024 * 1024  # more than a socket takes at once, and than waitress buffers
CHUNK = 256 * 1024


class Served:
    """A waitress server (http_server.HttpServer) running `app` on a free port."""

    def __init__(self, app: Callable[..., Any]):
        self.port = free_port()
        listeners = bind_listeners("127.0.0.1", self.port)
        self.server = http_server.HttpServer(app, listeners, threads=4)
        self.server.start()

    def connect(self, **options: Any) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=20, **options)

    def close(self) -> None:
        self.server.stop(lambda: None)


@pytest.fixture
def serve():
    started: list[Served] = []

    def start(app: Callable[..., Any]) -> Served:
        started.append(Served(app))
        return started[-1]

    yield start
    for served in started:
        served.close()


def _chunks() -> Iterator[bytes]:
    for offset in range(0, BIG, CHUNK):
        yield bytes([offset // CHUNK % 251]) * CHUNK


def test_a_body_larger_than_the_socket_takes_arrives_whole(serve):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(BIG))])
        return _chunks()

    connection = serve(app).connect()
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"".join(_chunks())


def test_what_a_running_request_wrote_arrives_before_it_ends(serve):
    """An event stream: each write must reach the client while the request still runs."""
    read = threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first\n"
        if not read.wait(15):
            raise AssertionError("the client never got the first line")
        yield b"second\n"

    connection = serve(app).connect()
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.readline() == b"first\n"
    read.set()
    assert response.readline() == b"second\n"


def test_many_clients_at_once_each_get_their_own_whole_answers(serve):
    def app(environ, start_response):
        body = environ["PATH_INFO"].encode() * 4000
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    served = serve(app)
    failures: list[str] = []

    def client(number: int) -> None:
        connection = served.connect()
        for request in range(50):
            path = f"/{number}-{request}"
            connection.request("GET", path)
            if connection.getresponse().read() != path.encode() * 4000:
                failures.append(path)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(30)
    assert not any(thread.is_alive() for thread in clients)
    assert failures == []


def test_a_request_hears_at_once_that_its_client_left(serve):
    """An event stream waits on the bus, not the socket: the server must tell it."""
    registered, gone = threading.Event(), threading.Event()

    def app(environ, start_response):
        environ[http_server.CLIENT_GONE](gone.set)
        registered.set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"waiting\n"
        gone.wait(15)
        yield b"too late\n"

    connection = serve(app).connect()
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.readline() == b"waiting\n"
    assert registered.wait(10)
    response.close()
    connection.close()
    assert gone.wait(10)


def test_a_callback_registered_after_the_client_left_is_called_at_once(channel):
    channel.handle_close()
    called = threading.Event()
    channel.on_client_gone(called.set)
    assert called.is_set()


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: " + b"x" * 300_000 + b"\r\n\r\n",
            431,
            "request_header_fields_too_large",
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nine\r\n\r\n", 400, "bad_request"),
    ],
    ids=["huge header", "bad content-length"],
)
def test_requests_the_server_refuses_get_the_json_error_shape(serve, raw, status, code):
    served = serve(lambda environ, start_response: [])
    with socket.create_connection(("127.0.0.1", served.port), timeout=20) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == status
        assert response.getheader("Content-Type") == "application/json"
        error = json.loads(response.read())["error"]
        assert error["code"] == code and error["message"]


@pytest.fixture
def channel(serve):
    """A HandoffChannel of a real (not running) server, on one end of a socket pair."""
    served = serve(lambda environ, start_response: [])
    near, far = socket.socketpair()
    server = served.server.waitress
    yield http_server.HandoffChannel(server, near, ("127.0.0.1", 0), server.adj, map={})
    near.close()
    far.close()


def test_the_loop_does_not_ask_to_write_while_a_worker_holds_the_output(channel):
    """Asking would wake the loop at once, again and again, until the worker let go."""
    channel.requests = ["a request being served"]
    channel.total_outbufs_len = 10
    holding, let_go = threading.Event(), threading.Event()

    def worker() -> None:
        with channel.outbuf_lock:
            holding.set()
            let_go.wait(10)

    holder = threading.Thread(target=worker)
    holder.start()
    assert holding.wait(10)
    assert not channel.writable()
    channel.total_outbufs_len = channel.adj.outbuf_high_watermark + 1
    assert channel.writable()  # the worker waits for the loop to send: it must
    channel.total_outbufs_len = 10
    let_go.set()
    holder.join(10)
    assert channel.writable()


def test_a_worker_that_leaves_output_wakes_the_loop_once_it_let_go(channel):
    """Woken while the worker still held the lock, the loop would not ask to write."""
    wakes: list[bool] = []

    def pull_trigger() -> None:  # the loop's thread is not the one that may hold the lock
        loop = threading.Thread(target=lambda: wakes.append(channel._lock_is_free()))
        loop.start()
        loop.join(10)

    channel.server.pull_trigger = pull_trigger
    channel.requests = ["a request being served"]
    channel.write_soon(b"x" * BIG)  # the far end reads nothing: most of it stays
    assert channel.total_outbufs_len > 0
    assert wakes[-1] is True


def test_stop_ends_the_requests_then_the_loop_and_closes_the_port():
    ending = threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"open\n"
        ending.wait(15)

    served = Served(app)
    connection = served.connect()
    connection.request("GET", "/")
    assert connection.getresponse().readline() == b"open\n"
    before = threading.active_count()
    served.server.stop(ending.set)
    assert threading.active_count() <= before - 5  # four workers and the loop
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", served.port), timeout=5)


def test_an_address_in_use_is_an_oserror_and_leaves_no_socket_behind():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        before = set(os.listdir("/proc/self/fd"))
        with pytest.raises(OSError):
            bind_listeners("127.0.0.1", squatter.getsockname()[1])
        assert set(os.listdir("/proc/self/fd")) == before
