"""Garbage on the command sockets: the actors stay up and keep answering."""

import os
import time

import msgpack
import zmq

from procclaw import protocol


def _send_garbage(endpoint, seconds):
    context = zmq.Context.instance()
    rng = os.urandom
    sent = 0
    deadline = time.monotonic() + seconds
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    payloads = [
        lambda: rng(1 + sent % 300),
        lambda: msgpack.packb({"v": 2, "id": "x", "cmd": "list"}),
        lambda: msgpack.packb({"v": 1, "id": "x", "cmd": "__init__", "args": {}}),
        lambda: msgpack.packb({"v": 1, "id": "x", "cmd": "status", "args": {"job": ["no"]}}),
        lambda: msgpack.packb({"v": 1, "id": None, "cmd": "list"}),
        lambda: msgpack.packb("just a string"),
    ]
    replies = 0
    while time.monotonic() < deadline:
        frames = [payloads[sent % len(payloads)]()]
        if sent % 7 == 0:
            frames = [rng(8), *frames, rng(3)]  # extra frames too
        sock.send_multipart(frames)
        sent += 1
        while sock.poll(0):
            sock.recv_multipart()
            replies += 1
    sock.close(0)
    return sent, replies


def test_random_bytes_and_wrong_versions_leave_the_controller_up(running):
    pid = running.actor_pid("controller")
    sent, replies = _send_garbage(running.home.endpoint("controller"), seconds=3)
    assert sent > 100 and replies > 0
    assert running.client().call("ping")["pid"] == pid
    assert running.actor_pid("controller") == pid
    assert running.actor("controller")["restarts"] == 0


def test_random_bytes_on_roots_sockets_leave_the_daemon_up(running):
    root = running.client().daemon_pid()
    _send_garbage(running.home.endpoint("daemon"), seconds=1)
    push = zmq.Context.instance().socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.connect(running.home.endpoint("actors"))
    for size in range(1, 200):
        push.send(os.urandom(size))
    push.send(protocol.encode({"v": 1, "cmd": "hello", "name": "x", "pid": "nope"}))
    push.close(0)
    assert running.client().call_endpoint("daemon", "ping")["pid"] == root
    assert running.client().call("ping")


def test_wrong_version_gets_an_error_reply_that_says_so(running):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(running.home.endpoint("controller"))
    sock.send(msgpack.packb({"v": 2, "id": "q1", "cmd": "list"}))
    assert sock.poll(5000)
    reply = protocol.decode(sock.recv())
    sock.close(0)
    assert reply["ok"] is False and reply["id"] == "q1"
    assert reply["error"]["code"] == protocol.ErrorCode.VERSION_MISMATCH


def _ask_raw(endpoint: str, cmd: str, args: object) -> dict:
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    try:
        sock.send(protocol.encode({"v": 1, "id": "raw", "cmd": cmd, "args": args}))
        assert sock.poll(5000), "no reply"
        return protocol.decode(sock.recv())
    finally:
        sock.close(0)


def test_arguments_of_the_wrong_shape_are_refused_saying_which_and_the_controller_goes_on(
    running,
):
    endpoint = running.home.endpoint("controller")
    cases = [
        ("start", (), "args must be a map"),
        ("start", {}, "start: field 'job' is missing"),
        (
            "stop",
            {"job": "svc", "force": "yes"},
            "stop: field 'force' must be true or false, not 'yes'",
        ),
        ("list", {"jobs": "svc"}, "list: field 'jobs' must be a list, not 'svc'"),
        ("start", {"job": "svc", "colour": "red"}, "start: unknown field 'colour'"),
        (
            "fire",
            {"fires": [{"job": "svc", "due": "soon"}]},
            "fire: field 'due' must be a number, not 'soon'",
        ),
    ]
    for cmd, args, message in cases:
        reply = _ask_raw(endpoint, cmd, args)
        assert reply["ok"] is False
        assert reply["error"] == {"code": "bad_request", "message": message}
    assert running.client().call("ping")["pid"] == running.actor_pid("controller")
    assert running.actor("controller")["restarts"] == 0
