"""Reliable delivery of a supervisor's reports to the controller, in batches, and of
the events that announce them once they are on record.

A report is a fact the controller must record (a job's state, a finished run). All
reports waiting when the last batch was acknowledged go together in the next `report`
request, so a supervisor starting a hundred jobs costs the controller a few
transactions, not hundreds. One batch is in flight at a time, in order; it is re-sent
every RESEND_AFTER seconds until the controller acknowledges it, so a controller that
crashed or restarted still gets every fact. A job's state report that has not been
sent yet is replaced by a newer one of the same job (its events go with the newer
one); run records never are. The timer runs only while something is unacknowledged.

A report's events are published when the controller has acknowledged it, so whoever
sees `job.api.stopped` on the bus and then asks the controller is told `stopped`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import zmq

from actors.runtime.loop import EventLoop, Timer
from actors.runtime.messages import pending_messages
from procclaw import protocol
from procclaw.wire_record import WireRecord

Event = tuple[str, WireRecord]  # (topic, the event's data: procclaw/bus_events.py)

RESEND_AFTER = 1.0
# A batch stays well under the controller's message size limit (MAX_MESSAGE_BYTES).
MAX_BATCH = 200
MAX_BATCH_BYTES = protocol.MAX_MESSAGE_BYTES // 4

log = logging.getLogger(__name__)


class ReportQueue:
    def __init__(
        self,
        context: zmq.Context,
        loop: EventLoop,
        endpoint: str,
        publish: Callable[[str, WireRecord], None],
    ):
        self._loop = loop
        self._publish = publish
        self._socket = context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.connect(endpoint)
        loop.add_reader(self._socket, self._on_reply)
        self._pending: list[dict[str, Any]] = []
        self._events: dict[int, list[Event]] = {}  # id(report) -> its events
        self._in_flight: dict[str, Any] | None = None
        self._timer: Timer | None = None
        self.on_delivered: Callable[[], None] | None = None

    @property
    def empty(self) -> bool:
        return self._in_flight is None and not self._pending

    def holds(self, job_id: str) -> bool:
        """Whether a report of this job is still waiting or unacknowledged."""
        batch = self._in_flight["args"]["reports"] if self._in_flight else []
        return any(report.get("job") == job_id for report in (*batch, *self._pending))

    def send(self, report: dict[str, Any], events: list[Event] | None = None) -> None:
        """Deliver `report`, then publish `events`."""
        carried: list[Event] = []
        if report.get("kind") == "state":
            job = report.get("job")
            kept = []
            for old in self._pending:
                if old.get("kind") == "state" and old.get("job") == job:
                    carried += self._events.pop(id(old), [])
                else:
                    kept.append(old)
            self._pending = kept
        if carried or events:
            self._events[id(report)] = carried + list(events or ())
        self._pending.append(report)
        if self._in_flight is None:
            # After whatever else this turn of the loop reports: one batch for all.
            self._timer = self._timer or self._loop.call_later(0, self._next)

    def _next(self) -> None:
        self._timer = None
        if self._in_flight is not None or not self._pending:
            return
        size, count = 0, 0
        for report in self._pending[:MAX_BATCH]:
            size += len(protocol.encode(report))
            if count and size > MAX_BATCH_BYTES:
                break
            count += 1
        batch, self._pending = self._pending[:count], self._pending[count:]
        self._in_flight = protocol.request("report", {"reports": batch}, caller="actor")
        self._transmit()

    def _transmit(self) -> None:
        assert self._in_flight is not None
        try:
            self._socket.send(protocol.encode(self._in_flight), zmq.NOBLOCK)
        except zmq.Again:
            pass  # the resend timer tries again
        self._timer = self._loop.call_later(RESEND_AFTER, self._transmit)

    def _on_reply(self) -> None:
        for reply in pending_messages(self._socket):
            if self._in_flight is None or reply.get("id") != self._in_flight["id"]:
                continue  # an answer to a copy we re-sent
            if not reply.get("ok"):
                log.error("controller refused a report: %s", reply.get("error"))
            for report in self._in_flight["args"]["reports"]:
                for topic, data in self._events.pop(id(report), ()):
                    self._publish(topic, data)
            self._in_flight = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._next()
            if self.on_delivered is not None:
                self.on_delivered()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._socket.close(0)
