"""The one way to talk to a running daemon: used by the CLI, the REST gateway and tests.

Every call has a timeout. A daemon that is not running, or that does not answer in
time, is a `ClientError` with a message for the person at the terminal, never a hang.
"""

from __future__ import annotations

import time
from typing import Any

from procclaw import protocol, zmtp
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
    ):
        self.home = home
        self.timeout = timeout
        self.caller = caller

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

    def not_started(self, actor: str) -> str | None:
        """What starts `actor`, when the daemon runs without it because its config needs
        none yet (procclaw/rules/needed_actors.py); None when it runs."""
        for found in self.call_endpoint("daemon", "status")["actors"]:
            if found["name"] == actor and found["state"] == "off":
                return str(found.get("note") or "not needed yet")
        return None

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
        path = self.home.endpoint(target).removeprefix("ipc://")  # HomeError: too long
        deadline = time.monotonic() + wait
        try:
            answer = zmtp.exchange(
                path, protocol.encode(request), deadline, protocol.MAX_REPLY_BYTES
            )
        except zmtp.PeerGone:
            self.require_daemon()
            raise DaemonNotAnswering(f"{_who(target)} went away before it answered") from None
        except zmtp.ZmtpError as exc:
            raise ClientError(f"bad reply from {_who(target)}: {exc}") from None
        except OSError as exc:  # not a socket that could come back: no point waiting
            reason = exc.strerror or exc
            raise DaemonNotAnswering(f"cannot reach {_who(target)} at {path}: {reason}") from None
        if answer is None:
            self.require_daemon()  # it may have died while we waited
            self.require_socket(target)
            raise DaemonNotAnswering(f"{_who(target)} not answering after {wait:g} s")
        try:
            reply = protocol.decode(answer, protocol.MAX_REPLY_BYTES)
        except protocol.ProtocolError as exc:
            raise ClientError(f"bad reply from {_who(target)}: {exc.message}") from None
        if reply.get("id") != request["id"]:
            raise ClientError(f"bad reply from {_who(target)}: the answer to another request")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise ClientError(str(error.get("message", "request failed")), str(error.get("code")))
        return reply.get("result")


def _who(target: str) -> str:
    if target == "daemon":
        return "daemon"
    if target in ("controller", "alerter"):
        return target
    return f"supervisor {target}"
