"""A ROUTER socket that answers protocol requests from an explicit table of handlers.

Garbage, oversized frames, wrong protocol versions and unknown commands get an error
reply (when there is anyone to reply to) and never reach a handler; an exception in a
handler becomes an `internal` error reply, and the actor carries on. A handler that
must ask another actor first returns a `Deferred` and resolves it later from its loop:
the reply goes out then, and the loop serves other requests meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq

from actors.runtime.loop import EventLoop, pending
from procclaw import protocol
from procclaw.commands import CommandArgs, command_args
from procclaw.protocol import CommandError, ErrorCode, ProtocolError, Request

log = logging.getLogger(__name__)

CommandHandler = Callable[[Request], Any]


def log_failure(result: Any, what: str) -> None:
    """Log why a command done on nobody's behalf failed, now or when its reply comes."""
    if isinstance(result, Deferred):
        result.then(lambda _value, error: error and log.error("%s: %s", what, error.message))


def each_answer(results: dict[str, Any], pick: Callable[[str, Any], Any]) -> Deferred:
    """A Deferred of `results` with each Deferred among them settled: its value as
    `pick(key, value)`, its error as `{"error": message}`; other values as they are."""
    whole, settled = Deferred(), dict(results)
    left = {key for key, value in results.items() if isinstance(value, Deferred)}

    def settle(key: str, value: Any, error: CommandError | None) -> None:
        settled[key] = {"error": error.message} if error is not None else pick(key, value)
        left.discard(key)
        if not left:
            whole.resolve(settled)

    for key in list(left):
        results[key].then(lambda value, error, k=key: settle(k, value, error))
    if not left:
        whole.resolve(settled)
    return whole


def gather(results: list[Any]) -> Any:
    """The list of `results`, some of them Deferred: a Deferred of the whole list if
    any is (an error of one becomes the whole's), else the list itself."""
    waiting = [i for i, result in enumerate(results) if isinstance(result, Deferred)]
    if not waiting:
        return results
    whole, values, left = Deferred(), list(results), set(waiting)

    def settle(index: int, value: Any, error: CommandError | None) -> None:
        if error is not None:
            whole.fail(error.code, error.message)
            return
        values[index] = value
        left.discard(index)
        if not left:
            whole.resolve(values)

    for index in waiting:
        results[index].then(lambda value, error, i=index: settle(i, value, error))
    return whole


class Deferred:
    """A reply still to come: `resolve(result)` or `fail(code, message)` sends it."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Any, CommandError | None], None]] = []
        self._outcome: tuple[Any, CommandError | None] | None = None

    def resolve(self, result: Any) -> None:
        self._finish(result, None)

    def fail(self, code: str, message: str) -> None:
        self._finish(None, CommandError(code, message))

    def then(self, callback: Callable[[Any, CommandError | None], None]) -> None:
        """Call `callback(result, error)` once it is known (at once if it is)."""
        if self._outcome is not None:
            callback(*self._outcome)
        else:
            self._callbacks.append(callback)

    def _finish(self, result: Any, error: CommandError | None) -> None:
        if self._outcome is not None:
            return
        self._outcome = (result, error)
        for callback in self._callbacks:
            callback(result, error)
        self._callbacks.clear()


class CommandServer:
    """Binds `endpoint` and dispatches each request to `handlers[cmd]`."""

    def __init__(
        self,
        context: zmq.Context,
        loop: EventLoop,
        endpoint: str,
        handlers: dict[str, CommandHandler],
        commands: CommandArgs,
    ):
        unknown = set(handlers) - set(commands)
        if unknown:
            raise ValueError(f"handlers for commands outside the allowlist: {sorted(unknown)}")
        self._handlers = handlers
        self._commands = commands
        self._allowed = frozenset(handlers)
        self._endpoint = endpoint
        self.socket = context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, protocol.MAX_MESSAGE_BYTES)
        self.socket.bind(endpoint)
        loop.add_reader(self.socket, self._on_readable)

    def _on_readable(self) -> None:
        for frames in pending(self.socket, multipart=True):
            self._answer(frames)

    def _answer(self, frames: list[bytes]) -> None:
        if len(frames) < 2:
            return  # no routing identity and body: nobody to answer
        identity, body = frames[0], frames[-1]
        self.handle(body, lambda reply: self._send(identity, reply))

    def _send(self, identity: bytes, reply: dict[str, Any]) -> None:
        try:
            self.socket.send_multipart([identity, _encoded(reply)], zmq.NOBLOCK)
        except zmq.ZMQError as exc:  # the peer went away; nothing to do
            log.debug("reply dropped: %s", exc)

    def handle(self, body: bytes, reply: Callable[[dict[str, Any]], None]) -> None:
        """Turn one request body into its reply map, and `reply` with it (now, or when
        a deferred result is known)."""
        try:
            request = protocol.parse_request(body, self._allowed)
            request = request._replace(args=command_args(self._commands, request.cmd, request.args))
        except ProtocolError as exc:
            reply(protocol.error_reply(protocol.request_id_of(body), exc.code, exc.message))
            return
        try:
            result = self._handlers[request.cmd](request)
        except CommandError as exc:
            reply(protocol.error_reply(request.id, exc.code, exc.message))
            return
        except Exception as exc:
            log.exception("command %s failed", request.cmd)
            reply(protocol.error_reply(request.id, ErrorCode.INTERNAL, f"internal error: {exc}"))
            return
        if isinstance(result, Deferred):
            result.then(lambda value, error: reply(_reply_map(request.id, value, error)))
        else:
            reply(protocol.ok_reply(request.id, result))

    def close(self) -> None:
        """Close, and remove the socket file: ZeroMQ leaves it behind."""
        self.socket.close(0)
        if self._endpoint.startswith("ipc://"):
            Path(self._endpoint[len("ipc://") :]).unlink(missing_ok=True)


def _encoded(reply: dict[str, Any]) -> bytes:
    """The reply's bytes; one that cannot be sent becomes an error reply, never a crash."""
    try:
        data = protocol.encode(reply)
    except (OverflowError, TypeError, ValueError) as exc:
        log.error("reply %s could not be encoded: %s", reply.get("id"), exc)
        problem = f"internal error: the reply could not be encoded ({exc})"
    else:
        if len(data) <= protocol.MAX_REPLY_BYTES:
            return data
        log.error("reply %s too large: %d bytes", reply.get("id"), len(data))
        problem = f"internal error: the reply is too large ({len(data):,} bytes)"
    return protocol.encode(protocol.error_reply(reply.get("id"), ErrorCode.INTERNAL, problem))


def _reply_map(request_id: str, result: Any, error: CommandError | None) -> dict[str, Any]:
    if error is not None:
        return protocol.error_reply(request_id, error.code, error.message)
    return protocol.ok_reply(request_id, result)
