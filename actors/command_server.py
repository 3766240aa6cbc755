"""A ROUTER socket that answers protocol requests from an explicit table of handlers.

Garbage, oversized frames, wrong protocol versions and unknown commands get an error
reply (when there is anyone to reply to) and never reach a handler; an exception in a
handler becomes an `internal` error reply, and the actor carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq

from actors.loop import EventLoop, pending
from procclaw import protocol
from procclaw.protocol import CommandError, ErrorCode, ProtocolError, Request

log = logging.getLogger(__name__)

CommandHandler = Callable[[Request], Any]


class CommandServer:
    """Binds `endpoint` and dispatches each request to `handlers[cmd]`."""

    def __init__(
        self,
        context: zmq.Context,
        loop: EventLoop,
        endpoint: str,
        handlers: dict[str, CommandHandler],
        allowed: frozenset[str],
    ):
        unknown = set(handlers) - allowed
        if unknown:
            raise ValueError(f"handlers for commands outside the allowlist: {sorted(unknown)}")
        self._handlers = handlers
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
        reply = self.handle(body)
        try:
            self.socket.send_multipart([identity, protocol.encode(reply)], zmq.NOBLOCK)
        except zmq.ZMQError as exc:  # the peer went away; nothing to do
            log.debug("reply dropped: %s", exc)

    def handle(self, body: bytes) -> dict[str, Any]:
        """Turn one request body into its reply map."""
        try:
            request = protocol.parse_request(body, self._allowed)
        except ProtocolError as exc:
            return protocol.error_reply(protocol.request_id_of(body), exc.code, exc.message)
        try:
            result = self._handlers[request.cmd](request)
        except CommandError as exc:
            return protocol.error_reply(request.id, exc.code, exc.message)
        except Exception as exc:
            log.exception("command %s failed", request.cmd)
            return protocol.error_reply(request.id, ErrorCode.INTERNAL, f"internal error: {exc}")
        return protocol.ok_reply(request.id, result)

    def close(self) -> None:
        """Close, and remove the socket file: ZeroMQ leaves it behind."""
        self.socket.close(0)
        if self._endpoint.startswith("ipc://"):
            Path(self._endpoint[len("ipc://") :]).unlink(missing_ok=True)
