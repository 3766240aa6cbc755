"""`/api/v1/events`: the event bus as Server-Sent Events.

Each stream has its own SUB socket on the bus, subscribed to the jobs asked for (`job`,
repeatable: that job's `job.<id>.*` and `schedule.<id>.*` events) or to everything. A
stream first sends the comment `: subscribed` once its subscription is live, so a
client knows that nothing published after it will be missed. Each event is

    id: <src>:<seq>
    event: <topic>
    data: {"topic", "src", "seq", "ts", "data"}

`names=false` leaves out the `event:` line, so that a browser's EventSource, which
hands named events only to listeners of that very name, gets every event as a
`message` (the topic is in the data). `type` (repeatable) keeps only events whose
last topic part matches (`failed`, `running`, `health`, `fired`, `up`, ...). A comment
whenever KEEPALIVE seconds pass without a write keeps proxies from closing an idle
stream; it counts from the last write, not the last bus event.

A stream ends the moment its client leaves (the server says so, through
`procclaw.on_client_gone` in the environ) or the gateway stops, giving back its place
among the `max_streams` and its worker thread; without that word from the server
(another WSGI server), it ends at its first write after the client left.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator

import falcon
import zmq

from procclaw import protocol
from procclaw.api.errors import api_error, bad_request, from_client_error
from procclaw.client import Client, ClientError
from procclaw.home import Home
from procclaw.subscription import Subscription
from procclaw.wakeup import Wakeup

KEEPALIVE = 15.0
_PROBES = protocol.probe_topic("")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class EventStream:
    def __init__(self, client: Client, home: Home, max_streams: int):
        self.client = client
        self.home = home
        self._slots = threading.BoundedSemaphore(max_streams)
        self._lock = threading.Lock()
        self._wakeups: set[Wakeup] | None = set()  # of the open streams; None once closed

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        jobs = _names(req, "job")
        types = set(_names(req, "type"))
        names = req.get_param("names", default="true")
        if names not in ("true", "false"):
            raise bad_request(f"names must be true or false, not {names!r}")
        if problem := protocol.unknown_event_type(types):
            raise bad_request(problem)
        prefixes = tuple(prefix for job in jobs for prefix in protocol.job_event_prefixes(job))
        try:
            for job in jobs:  # one that is not there: its 404, with the closest name
                self.client.call("status", {"job": job})
            wakeup, subscription = self._open(prefixes)
        except ClientError as exc:
            raise from_client_error(exc) from None
        if on_client_gone := req.env.get("procclaw.on_client_gone"):
            on_client_gone(wakeup.set)
        resp.content_type = "text/event-stream"
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")
        resp.stream = StreamBody(
            subscription, types, wakeup, lambda: self.release(wakeup), named=names == "true"
        )

    def _open(self, prefixes: tuple[str, ...]) -> tuple[Wakeup, Subscription]:
        """A new stream's wakeup and live subscription, holding one of the places.

        Whatever fails on the way gives back all it took, the place included.
        """
        wakeup = self.take_place()
        subscription = None
        try:
            subscription = Subscription(self.home, prefixes or ("",))
            subscription.sync(self.client)
            return wakeup, subscription
        except BaseException:
            if subscription is not None:
                subscription.close()
            self.release(wakeup)
            raise

    def take_place(self) -> Wakeup:
        """One of the `max_streams` places, for any long response (a log being followed
        too); its wakeup is set when the stream must end. Give it back with `release`."""
        if not self._slots.acquire(blocking=False):
            raise api_error(falcon.HTTP_503, "unavailable", "too many event streams are open")
        try:
            wakeup = Wakeup()
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            if self._wakeups is not None:
                self._wakeups.add(wakeup)
            else:
                wakeup.set()  # the gateway is stopping
        return wakeup

    def close(self) -> None:
        """End every open stream now, and any opened from now on at once."""
        with self._lock:
            wakeups, self._wakeups = self._wakeups or set(), None
        for wakeup in wakeups:
            wakeup.set()

    def release(self, wakeup: Wakeup) -> None:
        with self._lock:
            if self._wakeups is not None:
                self._wakeups.discard(wakeup)
        wakeup.close()
        self._slots.release()


class StreamBody:
    """The response body of one event stream; its `close()` frees the stream's slot.

    A class rather than a bare generator: a generator closed before its first item
    (a client gone at once) never runs its `finally`.
    """

    def __init__(
        self,
        subscription: Subscription,
        types: set[str],
        wakeup: Wakeup,
        release: Callable[[], None],
        keepalive: float = KEEPALIVE,
        named: bool = True,
    ):
        self._subscription = subscription
        self._types = types
        self._wakeup = wakeup
        self._release = release
        self._keepalive = keepalive
        self._named = named
        self._open = True

    def __iter__(self) -> Iterator[bytes]:
        """Events and keepalives, until the wakeup is set (client gone, gateway stopping)."""
        yield b": subscribed\n\n"
        poller = zmq.Poller()
        poller.register(self._subscription.socket, zmq.POLLIN)
        poller.register(self._wakeup.fileno(), zmq.POLLIN)
        keepalive_at = time.monotonic() + self._keepalive
        while self._open:
            left = max(0.0, keepalive_at - time.monotonic())
            ready = dict(poller.poll(int(left * 1000)))
            if self._wakeup.fileno() in ready:
                return
            event = self._subscription.receive(0) if ready else None
            if event is not None and _wanted(event, self._types):
                keepalive_at = time.monotonic() + self._keepalive
                yield _frame(event, self._named)
            elif time.monotonic() >= keepalive_at:
                keepalive_at = time.monotonic() + self._keepalive
                yield b": keepalive\n\n"

    def close(self) -> None:
        """Called by the server when the response ends, however it ends."""
        if self._open:
            self._open = False
            self._subscription.close()
            self._release()


def _names(req: falcon.Request, param: str) -> list[str]:
    values = req.get_param_as_list(param) or []
    for value in values:
        if not _NAME.fullmatch(value):
            raise bad_request(f"{param} {value!r} is not a valid name")
    return values


def _wanted(event: protocol.Event, types: set[str]) -> bool:
    if event.topic.startswith(_PROBES):
        return False
    return not types or protocol.event_type(event.topic) in types


def _frame(event: protocol.Event, named: bool = True) -> bytes:
    data = {"topic": event.topic, "src": event.src, "seq": event.seq, "ts": event.ts}
    data["data"] = event.data
    text = json.dumps(data, default=str)
    name = f"event: {event.topic}\n" if named else ""
    return f"id: {event.src}:{event.seq}\n{name}data: {text}\n\n".encode()
