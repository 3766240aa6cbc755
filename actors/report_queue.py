"""Reliable delivery of a supervisor's reports to the controller.

A report is a fact the controller must record (a state change, a finished run). One
is in flight at a time, in order; it is re-sent every RESEND_AFTER seconds until the
controller acknowledges it, so a controller that crashed or restarted still gets every
fact. A state report that has not been sent yet is replaced by a newer one; run
records never are. The timer runs only while something is unacknowledged.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import zmq

from actors.loop import EventLoop, Timer, pending
from procclaw import protocol

RESEND_AFTER = 1.0

log = logging.getLogger(__name__)


class ReportQueue:
    def __init__(self, context: zmq.Context, loop: EventLoop, endpoint: str):
        self._loop = loop
        self._socket = context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(endpoint)
        loop.add_reader(self._socket, self._on_reply)
        self._pending: deque[dict[str, Any]] = deque()
        self._in_flight: dict[str, Any] | None = None
        self._timer: Timer | None = None
        self.on_drained: Callable[[], None] | None = None

    @property
    def empty(self) -> bool:
        return self._in_flight is None and not self._pending

    def send(self, report: dict[str, Any]) -> None:
        if report.get("kind") == "state":
            self._pending = deque(r for r in self._pending if r.get("kind") != "state")
        self._pending.append(report)
        self._next()

    def _next(self) -> None:
        if self._in_flight is not None or not self._pending:
            return
        self._in_flight = protocol.request("report", self._pending.popleft(), caller="actor")
        self._transmit()

    def _transmit(self) -> None:
        assert self._in_flight is not None
        try:
            self._socket.send(protocol.encode(self._in_flight), zmq.NOBLOCK)
        except zmq.Again:
            pass  # the resend timer tries again
        self._timer = self._loop.call_later(RESEND_AFTER, self._transmit)

    def _on_reply(self) -> None:
        for data in pending(self._socket):
            try:
                reply = protocol.decode(data)
            except protocol.ProtocolError:
                continue
            if self._in_flight is None or reply.get("id") != self._in_flight["id"]:
                continue  # an answer to a copy we re-sent
            if not reply.get("ok"):
                log.error("controller refused a report: %s", reply.get("error"))
            self._in_flight = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._next()
            if self.empty and self.on_drained is not None:
                self.on_drained()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._socket.close(0)
