"""The job list the API serves, re-asked of the controller only for what the bus said changed.

Every change to a job's facts is published on the bus, so the gateway keeps the last
answer of the controller's `list` and, before each request, reads what the bus carried
since: an event of some jobs (`job.<id>.*`, `schedule.<id>.*`) re-asks for those jobs
only; any other (an actor's, a reload) re-asks for all. Requests that arrive during
that call wait for it rather than asking too. Uptimes are advanced by the time since
each answer, and a list older than MAX_AGE is asked for whole, for facts that change
without an event.

Each job's JSON is encoded once per answer, all but its uptime and usage, which are
filled in when a body is built; a body (per filter) is then reused for UPTIME_STEP
seconds, so the uptimes it shows are at most that much behind. The running jobs' CPU
and memory are asked for (`usage`) at most every USAGE_STEP seconds, and only while
someone asks for the list.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import zmq

from procclaw import protocol
from procclaw.client import Client, ClientError
from procclaw.home import Home
from procclaw.job_usage import with_usage
from procclaw.subscription import Subscription

MAX_AGE = 2.0
UPTIME_STEP = 0.1
USAGE_STEP = 1.0
# Bodies kept per filter; past this many filters, the oldest are forgotten.
MAX_BODIES = 64
_PER_JOB_TOPICS = ("job.", "schedule.")
_PROBES = protocol.probe_topic("")


class Summary(NamedTuple):
    """One job's summary, its JSON up to (not including) its uptime, and when it was asked."""

    facts: dict[str, Any]
    json_head: str
    asked_at: float

    @classmethod
    def of(cls, facts: dict[str, Any], asked_at: float) -> Summary:
        rest = {key: value for key, value in facts.items() if key != "uptime"}
        return cls(facts, json.dumps(rest)[:-1] + ', "uptime": ', asked_at)

    def json(self, now: float, usage: dict[str, Any]) -> str:
        uptime = self.facts.get("uptime")
        if uptime is not None:
            uptime += now - self.asked_at
        measured = json.dumps(with_usage({"id": self.facts["id"]}, usage))[1:-1]
        return f"{self.json_head}{'null' if uptime is None else repr(uptime)}, {measured}}}"


class JobSummaries:
    def __init__(self, client: Client, home: Home):
        self._client = client
        self._events = Subscription(home)
        self._lock = threading.Lock()
        self._jobs: dict[str, Summary] = {}  # in config order
        self._whole_at: float | None = None  # when the whole list was last asked for
        self._listening = False
        self._bodies: dict[Any, tuple[float, str]] = {}
        self._usage: dict[str, Any] = {}
        self._usage_at = float("-inf")

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
            changed = self._changed_jobs()
            now = time.monotonic()
            if changed is None or self._whole_at is None or now - self._whole_at > MAX_AGE:
                self._ask(None)
            elif changed:
                self._ask(changed)
            now = time.monotonic()
            if now - self._usage_at > USAGE_STEP:
                self._measure(now)
            built_at, body = self._bodies.get(key, (0.0, ""))
            if now - built_at > UPTIME_STEP:
                chosen = (
                    job.json(now, self._usage) for job in self._jobs.values() if wanted(job.facts)
                )
                body = '{"jobs": [' + ", ".join(chosen) + "]}"
                if len(self._bodies) >= MAX_BODIES:
                    del self._bodies[next(iter(self._bodies))]
                self._bodies[key] = (now, body)
            return body

    def _ask(self, jobs: set[str] | None) -> None:
        """Ask the controller for these jobs' summaries (None: every job's)."""
        if jobs is not None and not jobs <= self._jobs.keys():
            jobs = None  # one we do not know: the list itself changed
        try:
            answer = self._client.call("list", None if jobs is None else {"jobs": sorted(jobs)})
        except ClientError:
            self._whole_at = None  # the events read are spent: the next request asks for all
            raise
        asked_at = time.monotonic()
        fresh = {job["id"]: Summary.of(job, asked_at) for job in answer}
        if jobs is None:
            self._jobs, self._whole_at = fresh, asked_at
        elif fresh.keys() == jobs:
            self._jobs.update(fresh)  # keys already there: the order stays
        else:  # one went away since: a reload, whose event is on its way
            self._ask(None)
            return
        self._bodies.clear()

    def _measure(self, now: float) -> None:
        """The running jobs' CPU and memory; none shown if they cannot be had now."""
        running = [job_id for job_id, job in self._jobs.items() if job.facts.get("pid")]
        try:
            self._usage = self._client.call("usage", {"jobs": running}) if running else {}
        except ClientError:
            self._usage = {}
        self._usage_at = now
        self._bodies.clear()

    def _changed_jobs(self) -> set[str] | None:
        """The ids of the jobs the bus told of since last time; None: maybe every job."""
        changed: set[str] | None = set()
        while True:
            try:
                topic = self._events.socket.recv_multipart(zmq.NOBLOCK)[0].decode()
            except zmq.Again:
                return changed
            if topic.startswith(_PROBES):
                continue
            job = job_of_topic(topic)
            if job is None:
                changed = None
            elif changed is not None:
                changed.add(job)

    def close(self) -> None:
        with self._lock:
            self._events.close()


def job_of_topic(topic: str) -> str | None:
    """`job.api.running` -> `api`; None for a topic that is not about one job."""
    for prefix in _PER_JOB_TOPICS:
        if topic.startswith(prefix):
            return topic[len(prefix) :].rpartition(".")[0] or None
    return None
