"""A subscription to the daemon's event bus: `procclaw events`, waits for a job's
outcome, the API's event stream, and tests waiting on an event."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import zmq

from procclaw import protocol
from procclaw.client import DEFAULT_TIMEOUT, Client, DaemonNotAnswering
from procclaw.home import Home

# How long `sync` waits for its first probe to come back, and at most for a later one.
FIRST_PROBE_WAIT = 0.005
LAST_PROBE_WAIT = 0.2


def probe_waits(longest: float) -> Iterator[float]:
    """How long to wait for each probe in turn before sending another. A probe that root
    publishes before a new subscription has reached the bus is lost, which is the rule
    just after connecting: the first wait is 5 ms, each next one twice the one before,
    up to `longest`. Any of the probes coming back proves the subscription live."""
    wait = FIRST_PROBE_WAIT
    while True:
        yield wait
        wait = min(wait * 2, longest)


class Subscription:
    """A SUB socket on the bus."""

    def __init__(
        self,
        home: Home,
        prefixes: tuple[str, ...] = ("",),
        context: zmq.Context | None = None,
    ):
        self.home = home
        self._context = context or zmq.Context.instance()
        self.socket = self._context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        for prefix in prefixes:
            self.socket.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self._probe = protocol.probe_topic("")
        self.socket.setsockopt(zmq.SUBSCRIBE, self._probe.encode())
        self.socket.connect(home.endpoint("bus"))

    def sync(self, client: Client, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Return once the subscription is live: nothing published later is missed."""
        deadline = time.monotonic() + timeout
        ours: set[str] = set()
        for wait in probe_waits(LAST_PROBE_WAIT):
            if (left := deadline - time.monotonic()) <= 0:
                break
            token = os.urandom(16).hex()
            client.call("probe", {"token": token})
            ours.add(protocol.probe_topic(token))
            if self.wait_for(lambda e: e.topic in ours, min(wait, left), skip_probes=False):
                return
        raise DaemonNotAnswering(f"event bus not answering after {timeout:g} s")

    def receive(self, timeout: float | None) -> protocol.Event | None:
        """The next event, or None after `timeout` seconds (None: wait for ever)."""
        wait = -1 if timeout is None else max(0, int(timeout * 1000))
        if not self.socket.poll(wait):
            return None
        return protocol.parse_event(self.socket.recv_multipart())

    def wait_for(self, predicate, timeout: float, skip_probes: bool = True):
        """The first event matching `predicate` within `timeout` seconds, or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self.receive(left)
            if event is None:
                return None
            if skip_probes and event.topic.startswith(self._probe):
                continue
            if predicate(event):
                return event
        return None

    def close(self) -> None:
        self.socket.close(0)
