"""The one way to talk to a running daemon: used by the CLI, the REST gateway and tests.

Every call has a timeout. A daemon that is not running, or that does not answer in
time, is a `ClientError` with a message for the person at the terminal, never a hang.
"""

from __future__ import annotations

import os
import time
from typing import Any

import zmq

from procclaw import protocol
from procclaw.home import Home
from procclaw.pidfile import PidFile

DEFAULT_TIMEOUT = 5.0

# Which endpoint serves which commands.
_ENDPOINTS = {
    "controller": protocol.CONTROLLER_COMMANDS,
    "daemon": protocol.ROOT_COMMANDS,
    "alerter": protocol.ALERTER_COMMANDS,
}


class ClientError(Exception):
    """Anything that kept a request from getting an answer; `code` says what kind."""

    def __init__(self, message: str, code: str = protocol.ErrorCode.UNAVAILABLE):
        super().__init__(message)
        self.message = message
        self.code = code


class DaemonNotRunning(ClientError):
    pass


class DaemonNotAnswering(ClientError):
    pass


class SocketGone(DaemonNotAnswering):
    """The daemon runs (it holds its lock) but a socket file it listens on was removed."""


class Client:
    """Request/reply with the daemon's command endpoints."""

    def __init__(
        self,
        home: Home,
        timeout: float = DEFAULT_TIMEOUT,
        caller: str = "cli",
        context: zmq.Context | None = None,
    ):
        self.home = home
        self.timeout = timeout
        self.caller = caller
        self._context = context or zmq.Context.instance()

    def daemon_pid(self) -> int | None:
        """The pid of the live daemon, or None when there is none."""
        return PidFile(self.home.pid_file).running_pid()

    def require_daemon(self) -> int:
        pid = self.daemon_pid()
        if pid is None:
            raise DaemonNotRunning(
                f"daemon not running (PROCCLAW_HOME={self.home.root}):"
                " start it with `procclaw daemon start`"
            )
        return pid

    def require_socket(self, target: str) -> None:
        """SocketGone if `target`'s socket file is not there to connect to."""
        path = self.home.socket_file(target)
        if not path.exists():
            raise SocketGone(
                f"{_who(target)} not answering: its socket {path} is gone (was"
                f" {self.home.run_dir} removed?); `procclaw daemon stop` still stops the daemon"
            )

    def call(self, cmd: str, args: dict[str, Any] | None = None, timeout: float | None = None):
        """Send `cmd` to the actor that serves it and return its result."""
        target = "daemon" if cmd in ("shutdown", "probe") else "controller"
        return self.call_endpoint(target, cmd, args, timeout)

    def call_endpoint(
        self,
        target: str,
        cmd: str,
        args: dict[str, Any] | None = None,
        timeout: float | None = None,
    ):
        served = _ENDPOINTS.get(target, protocol.SUPERVISOR_COMMANDS)
        if cmd not in served:
            raise ValueError(f"{target} does not serve {cmd!r}")
        self.require_daemon()
        wait = self.timeout if timeout is None else timeout
        request = protocol.request(cmd, args, caller=self.caller)
        sock = self._context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(self.home.endpoint(target))
            sock.send(protocol.encode(request))
            reply = self._await_reply(sock, request["id"], wait)
        finally:
            sock.close(0)
        if reply is None:
            self.require_daemon()  # it may have died while we waited
            self.require_socket(target)
            raise DaemonNotAnswering(f"{_who(target)} not answering after {wait:g} s")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise ClientError(str(error.get("message", "request failed")), str(error.get("code")))
        return reply.get("result")

    @staticmethod
    def _await_reply(sock: zmq.Socket, request_id: str, wait: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            if not sock.poll(int(left * 1000) + 1):
                return None
            try:
                reply = protocol.decode(sock.recv())
            except protocol.ProtocolError as exc:
                raise ClientError(f"bad reply from daemon: {exc.message}") from None
            if reply.get("id") == request_id:
                return reply
        return None


def _who(target: str) -> str:
    if target == "daemon":
        return "daemon"
    if target in ("controller", "alerter"):
        return target
    return f"supervisor {target}"


class Subscription:
    """A SUB socket on the bus, for `events` and for tests waiting on an event."""

    def __init__(
        self,
        home: Home,
        prefixes: tuple[str, ...] = ("",),
        context: zmq.Context | None = None,
    ):
        self.home = home
        self._context = context or zmq.Context.instance()
        self.socket = self._context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        for prefix in prefixes:
            self.socket.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self._probe = protocol.probe_topic("")
        self.socket.setsockopt(zmq.SUBSCRIBE, self._probe.encode())
        self.socket.connect(home.endpoint("bus"))

    def sync(self, client: Client, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once the subscription is live: nothing published later is missed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            token = os.urandom(16).hex()
            client.call("probe", {"token": token})
            topic = protocol.probe_topic(token)
            if self.wait_for(lambda e, t=topic: e.topic == t, timeout=0.2, skip_probes=False):
                return
        raise DaemonNotAnswering(f"event bus not answering after {timeout:g} s")

    def receive(self, timeout: float | None) -> protocol.Event | None:
        """The next event, or None after `timeout` seconds (None: wait for ever)."""
        wait = -1 if timeout is None else max(0, int(timeout * 1000))
        if not self.socket.poll(wait):
            return None
        return protocol.parse_event(self.socket.recv_multipart())

    def wait_for(self, predicate, timeout: float, skip_probes: bool = True):
        """The first event matching `predicate` within `timeout` seconds, or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self.receive(left)
            if event is None:
                return None
            if skip_probes and event.topic.startswith(self._probe):
                continue
            if predicate(event):
                return event
        return None

    def close(self) -> None:
        self.socket.close(0)
