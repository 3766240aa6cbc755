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
from collections import Counter
from collections.abc import Callable
from itertools import count, islice
from typing import Any

import zmq

from actors.runtime.loop import EventLoop, Timer
from actors.runtime.messages import pending_replies
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
        # In the order they go: a job's state report is keyed by its job, so a newer one
        # finds and replaces it at once; any other report by a number of its own.
        self._pending: dict[str | int, dict[str, Any]] = {}
        self._numbers = count()
        self._jobs: Counter[str] = Counter()  # job -> its reports waiting or in flight
        self._events: dict[int, list[Event]] = {}  # id(report) -> its events
        self._in_flight: dict[str, Any] | None = None
        self._timer: Timer | None = None
        self.on_delivered: Callable[[], None] | None = None

    @property
    def empty(self) -> bool:
        return self._in_flight is None and not self._pending

    def holds(self, job_id: str) -> bool:
        """Whether a report of this job is still waiting or unacknowledged."""
        return self._jobs[job_id] > 0

    def send(self, report: dict[str, Any], events: list[Event] | None = None) -> None:
        """Deliver `report`, then publish `events`."""
        job = report.get("job")
        key: str | int = next(self._numbers)
        carried: list[Event] = []
        if report.get("kind") == "state" and isinstance(job, str):
            key = job
            old = self._pending.pop(key, None)
            if old is not None:
                carried = self._events.pop(id(old), [])
                self._jobs[job] -= 1
        if carried or events:
            self._events[id(report)] = carried + list(events or ())
        self._pending[key] = report
        if isinstance(job, str):
            self._jobs[job] += 1
        if self._in_flight is None:
            # After whatever else this turn of the loop reports: one batch for all.
            self._timer = self._timer or self._loop.call_later(0, self._next)

    def _next(self) -> None:
        self._timer = None
        if self._in_flight is not None or not self._pending:
            return
        size, keys = 0, []
        for key, report in islice(self._pending.items(), MAX_BATCH):
            size += len(protocol.encode(report))
            if keys and size > MAX_BATCH_BYTES:
                break
            keys.append(key)
        batch = [self._pending.pop(key) for key in keys]
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
        for reply in pending_replies(self._socket):
            if self._in_flight is None or reply.get("id") != self._in_flight["id"]:
                continue  # an answer to a copy we re-sent
            if not reply.get("ok"):
                log.error("controller refused a report: %s", reply.get("error"))
            for report in self._in_flight["args"]["reports"]:
                if isinstance(job := report.get("job"), str):
                    self._jobs[job] -= 1
                    if not self._jobs[job]:
                        del self._jobs[job]
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
