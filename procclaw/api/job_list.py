"""The job list the API serves, re-asked of the controller only when something happened.

A controller `list` asks every live job's supervisor for its facts (the controller's
own cache may trail a supervisor by one report), which costs tens of milliseconds with
a hundred jobs. Every change to a job's facts is published on the bus, so the gateway
keeps the last answer while the bus has been silent: any event at all (a job's state,
health or schedule, an actor, a reload) makes the next request ask again. Requests
that arrive during that call wait for it rather than asking too. Uptimes are advanced
by the time since the answer, and an answer older than MAX_AGE is never used, for
facts that change without an event.

Each job's JSON is encoded once per answer, all but its uptime, which is filled in
when a body is built; a body (per filter) is then reused for UPTIME_STEP seconds, so
the uptimes it shows are at most that much behind.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import zmq

from procclaw.client import Client, Subscription
from procclaw.home import Home

MAX_AGE = 2.0
UPTIME_STEP = 0.1
# Bodies kept per filter; past this many filters, the oldest are forgotten.
MAX_BODIES = 64


class Summary(NamedTuple):
    """One job's summary, and its JSON encoding up to (not including) its uptime."""

    facts: dict[str, Any]
    json_head: str

    @classmethod
    def of(cls, facts: dict[str, Any]) -> Summary:
        rest = {key: value for key, value in facts.items() if key != "uptime"}
        return cls(facts, json.dumps(rest)[:-1] + ', "uptime": ')

    def json(self, age: float) -> str:
        uptime = self.facts.get("uptime")
        return self.json_head + ("null" if uptime is None else repr(uptime + age)) + "}"


class JobSummaries:
    def __init__(self, client: Client, home: Home):
        self._client = client
        self._events = Subscription(home)
        self._lock = threading.Lock()
        self._jobs: list[Summary] | None = None
        self._fetched_at = 0.0
        self._listening = False
        self._bodies: dict[Any, tuple[float, str]] = {}

    def json(self, key: Any, wanted: Callable[[dict[str, Any]], bool]) -> str:
        """`{"jobs": [...]}` with the `wanted` jobs, as the controller's `list` gives them now.

        `key` names the filter `wanted` applies, for reusing the body it gave.

        Raises ClientError like `Client.call` when the controller must be asked and
        does not answer.
        """
        with self._lock:
            if not self._listening:  # until the bus is heard, nothing may be kept
                self._events.sync(self._client)
                self._listening = True
            now = time.monotonic()
            if self._saw_events() or now - self._fetched_at > MAX_AGE:
                self._jobs = None
            if self._jobs is None:
                self._jobs = [Summary.of(job) for job in self._client.call("list")]
                self._fetched_at = now = time.monotonic()
                self._bodies.clear()
            built_at, body = self._bodies.get(key, (0.0, ""))
            if now - built_at > UPTIME_STEP:
                age = now - self._fetched_at
                chosen = (job.json(age) for job in self._jobs if wanted(job.facts))
                body = '{"jobs": [' + ", ".join(chosen) + "]}"
                if len(self._bodies) >= MAX_BODIES:
                    del self._bodies[next(iter(self._bodies))]
                self._bodies[key] = (now, body)
            return body

    def _saw_events(self) -> bool:
        seen = False
        while True:
            try:
                self._events.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return seen
            seen = True

    def close(self) -> None:
        with self._lock:
            self._events.close()
