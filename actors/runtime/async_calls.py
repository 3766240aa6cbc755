"""Requests to other actors that never block the caller's loop.

`call()` sends a request on a DEALER socket (one per endpoint, kept) and returns at
once; the reply, an error reply, or the timeout reaches the caller's callback from its
own loop. The controller uses it for root and the supervisors, so that it answers its
heartbeat, `status` and `list` whatever those are doing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import zmq

from actors.runtime.loop import EventLoop, Timer
from actors.runtime.messages import pending_replies
from procclaw import protocol
from procclaw.home import Home
from procclaw.protocol import ErrorCode

log = logging.getLogger(__name__)

OnResult = Callable[[Any], None]
OnError = Callable[[str, str], None]  # (code, message)

# The error code of a call that got no answer in time (the others are the replies').
NOT_ANSWERING = "not_answering"


class AsyncCalls:
    def __init__(self, context: zmq.Context, loop: EventLoop, home: Home):
        self._context = context
        self._loop = loop
        self._home = home
        self._sockets: dict[str, zmq.Socket] = {}
        self._waiting: dict[str, tuple[OnResult, OnError, Timer]] = {}

    def call(
        self,
        target: str,
        cmd: str,
        args: dict[str, Any],
        on_result: OnResult,
        on_error: OnError,
        timeout: float,
    ) -> None:
        request = protocol.request(cmd, args, caller="actor")
        request_id = request["id"]
        try:
            self._socket(target).send(protocol.encode(request), zmq.NOBLOCK)
        except zmq.ZMQError as exc:
            on_error(ErrorCode.UNAVAILABLE, f"{target} cannot be reached: {exc}")
            return
        timer = self._loop.call_later(timeout, lambda: self._timed_out(request_id, target, timeout))
        self._waiting[request_id] = (on_result, on_error, timer)

    def _socket(self, target: str) -> zmq.Socket:
        sock = self._sockets.get(target)
        if sock is None:
            sock = self._sockets[target] = self._context.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(self._home.endpoint(target))
            self._loop.add_reader(sock, lambda: self._on_replies(sock))
        return sock

    def _on_replies(self, sock: zmq.Socket) -> None:
        for reply in pending_replies(sock):
            waiting = self._waiting.pop(str(reply.get("id")), None)
            if waiting is None:
                continue  # answered after its timeout: the caller has moved on
            on_result, on_error, timer = waiting
            timer.cancel()
            if reply.get("ok"):
                on_result(reply.get("result"))
            else:
                error = reply.get("error") or {}
                on_error(str(error.get("code")), str(error.get("message", "request failed")))

    def _timed_out(self, request_id: str, target: str, timeout: float) -> None:
        waiting = self._waiting.pop(request_id, None)
        if waiting is not None:
            waiting[1](NOT_ANSWERING, f"{target} not answering after {timeout:g} s")

    def close(self) -> None:
        for sock in self._sockets.values():
            self._loop.remove_reader(sock)
            sock.close(0)
        self._sockets.clear()
