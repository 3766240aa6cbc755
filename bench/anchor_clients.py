"""In-process API clients of the two anchors, so the benchmark times their API, not a CLI.

Neither anchor's own package can be imported here (they live in their own virtualenv,
with their own pyzmq), so these speak the same protocol the same way their libraries
do: supervisor's `SupervisorTransport` (XML-RPC over the unix socket, one persistent
HTTP/1.1 connection) and circus's `CircusClient` (one DEALER socket, a JSON request
with an `id`, the reply with the same `id`).
"""

from __future__ import annotations

import http.client
import json
import socket
import uuid
import xmlrpc.client
from pathlib import Path

import zmq

TIMEOUT = 60.0  # a start or stop of every job answers only once all got there


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: Path, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = str(socket_path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    """xmlrpc's transport keeps its connection between calls, as supervisorctl's does."""

    def __init__(self, socket_path: Path):
        super().__init__()
        self.socket_path = socket_path

    def make_connection(self, host):
        if self._connection[1] is None:
            self._connection = host, _UnixConnection(self.socket_path, TIMEOUT)
        return self._connection[1]


def supervisor_rpc(socket_path: Path) -> xmlrpc.client.ServerProxy:
    """`proxy.supervisor.getAllProcessInfo()` and so on, on supervisord's unix socket."""
    return xmlrpc.client.ServerProxy("http://localhost", transport=_UnixTransport(socket_path))


class CircusClient:
    """circus.client.CircusClient: `call("status")` is `circusctl status` without the CLI."""

    def __init__(self, endpoint: str):
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.IDENTITY, uuid.uuid4().hex.encode())
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.poller = zmq.Poller()
        self.poller.register(self.socket, zmq.POLLIN)

    def call(self, command: str, **properties) -> dict:
        call_id = uuid.uuid4().hex
        message = {"command": command, "properties": properties, "id": call_id}
        self.socket.send(json.dumps(message).encode())
        while True:
            if not self.poller.poll(TIMEOUT * 1000):
                raise TimeoutError(f"circusd did not answer {command!r} in {TIMEOUT:g} s")
            reply = json.loads(self.socket.recv())
            if reply.get("id") != call_id:
                continue  # an answer to an earlier call that timed out
            if reply.get("status") != "ok":
                raise RuntimeError(f"circusd: {command}: {reply}")
            return reply

    def cast(self, command: str, **properties) -> None:
        """A command whose answer nobody waits for (circus's `msg_type: cast`)."""
        message = {"command": command, "msg_type": "cast", "properties": properties}
        self.socket.send(json.dumps(message).encode())

    def close(self) -> None:
        self.socket.close(0)
