"""Each job's recent health verdicts, for its dashboard page.

The health actor (for a `process` check, the job's supervisor) publishes
`job.<id>.health` when a job's verdict changes (healthy, unhealthy, with the reason)
and keeps no history; the controller keeps the verdict now and how often it changed.
So the gateway listens on the bus from its start (the API's first request), in a thread
of its own, and keeps the last KEEP changes of each job in memory: a restarted gateway
(or daemon) starts its history afresh, which the page says.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import NamedTuple

import zmq

from procclaw import protocol
from procclaw.api.job_list import job_of_topic
from procclaw.home import Home
from procclaw.subscription import Subscription
from procclaw.wakeup import Wakeup

KEEP = 50
MAX_JOBS = 10_000  # past this many jobs heard of, the oldest are forgotten


class Verdict(NamedTuple):
    ts: float
    healthy: bool
    reason: str | None


class HealthHistory:
    def __init__(self, home: Home):
        self._home = home
        self._lock = threading.Lock()
        self._jobs: dict[str, deque[Verdict]] = {}
        self._stop = Wakeup()
        self._thread = threading.Thread(target=self._listen, name="health-history", daemon=True)
        self._thread.start()

    def of(self, job: str) -> list[Verdict]:
        """The job's verdicts heard since the gateway started, the latest first."""
        with self._lock:
            return list(reversed(self._jobs.get(job, ())))

    def _listen(self) -> None:
        # The socket is made, used and closed in this thread: ZeroMQ sockets are not
        # to be shared between threads.
        subscription = Subscription(self._home, ("job.",))
        poller = zmq.Poller()
        poller.register(subscription.socket, zmq.POLLIN)
        poller.register(self._stop.fileno(), zmq.POLLIN)
        try:
            while self._stop.fileno() not in dict(poller.poll()):
                event = subscription.receive(0)
                if event is not None and protocol.event_type(event.topic) == "health":
                    self._add(event)
        finally:
            subscription.close()
            self._stop.close()

    def _add(self, event: protocol.Event) -> None:
        job = job_of_topic(event.topic)
        if job is None:
            return
        reason = event.data.get("reason")
        verdict = Verdict(event.ts, bool(event.data.get("healthy")), reason and str(reason))
        with self._lock:
            if job not in self._jobs and len(self._jobs) >= MAX_JOBS:
                del self._jobs[next(iter(self._jobs))]
            self._jobs.setdefault(job, deque(maxlen=KEEP)).append(verdict)

    def close(self) -> None:
        """Stop listening (the thread closes its socket and the wakeup)."""
        self._stop.set()
