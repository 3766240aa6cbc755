"""A reply that cannot be sent becomes an error reply; the server never dies of it."""

import threading

import pytest
import zmq

from actors.runtime.command_server import CommandServer
from actors.runtime.loop import EventLoop
from procclaw import commands, protocol
from procclaw.protocol import ErrorCode


@pytest.fixture
def server(tmp_path):
    """A real command server on an ipc socket, its loop run in a thread of the test."""
    context = zmq.Context()
    loop = EventLoop()
    endpoint = f"ipc://{tmp_path}/commands.sock"
    results = {
        "ping": lambda _req: {"pid": 1},
        "config": lambda _req: {"max_bytes": 2**70},  # more than msgpack's 64 bits
        "list": lambda _req: ["x" * 1024] * 2048,  # 2 MiB: more than a request may be
        # More than a reply may be.
        "runs_summary": lambda _req: ["x" * 1024**2] * (protocol.MAX_REPLY_BYTES // 1024**2),
    }
    served = CommandServer(context, loop, endpoint, results, commands.CONTROLLER_ARGS)
    done = threading.Event()

    def serve():
        while not done.is_set():
            loop.run_once(max_wait=0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield endpoint
    done.set()
    thread.join(timeout=5)
    served.close()
    context.term()


def _ask(endpoint, cmd):
    with zmq.Context() as context, context.socket(zmq.DEALER) as sock:
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, 5000)
        sock.connect(endpoint)
        sock.send(protocol.encode({"v": protocol.VERSION, "id": cmd, "cmd": cmd, "args": {}}))
        return protocol.decode(sock.recv(), protocol.MAX_REPLY_BYTES)


@pytest.mark.parametrize(
    ("cmd", "words"),
    [
        ("config", "internal error: the reply could not be encoded (Integer value out of range)"),
        ("runs_summary", "internal error: the reply is too large (67,"),
    ],
)
def test_an_unsendable_reply_is_an_error_reply_and_the_next_one_is_answered(server, cmd, words):
    reply = _ask(server, cmd)
    assert reply["ok"] is False and reply["id"] == cmd
    assert reply["error"]["code"] == ErrorCode.INTERNAL
    assert reply["error"]["message"].startswith(words)
    assert _ask(server, "ping")["result"] == {"pid": 1}


def test_a_reply_larger_than_a_request_may_be_is_answered(server):
    reply = _ask(server, "list")
    assert reply["ok"] is True and len(reply["result"]) == 2048
