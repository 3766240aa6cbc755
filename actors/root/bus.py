"""The event bus that root runs: actors push events in, subscribers read them out.

Input is a PULL socket (`bus-in`) that every actor PUSHes to; output is an XPUB socket
(`bus`) that subscribers connect a SUB to. Only events sealed with this daemon's key
are forwarded (procclaw/bus_seal.py): anything else is dropped and counted.
PUSH/PULL on the way in instead of PUB/XSUB because a PUB drops whatever it sends
before its subscriptions arrive; a just-started actor's first events would be lost.
Forwarding keeps the event's frames, so its publisher, sequence number and timestamp
reach subscribers untouched.
"""

from __future__ import annotations

import logging

import zmq

from actors.runtime.loop import EventLoop, pending
from procclaw.bus_seal import unsealed
from procclaw.home import Home

log = logging.getLogger("procclaw.root")

# Past this many queued messages for one slow subscriber, ZeroMQ drops its newest ones
# (the sequence numbers in each payload show the gap) instead of growing our memory.
SUBSCRIBER_HWM = 100_000


class Bus:
    def __init__(self, context: zmq.Context, loop: EventLoop, home: Home, key: bytes):
        self._key = key
        self.refused = 0  # events dropped for a missing or wrong seal
        self.inbox = context.socket(zmq.PULL)
        self.inbox.setsockopt(zmq.LINGER, 0)
        self.inbox.bind(home.endpoint("bus-in"))
        self.outbox = context.socket(zmq.XPUB)
        self.outbox.setsockopt(zmq.LINGER, 0)
        self.outbox.setsockopt(zmq.SNDHWM, SUBSCRIBER_HWM)
        self.outbox.bind(home.endpoint("bus"))
        loop.add_reader(self.inbox, self._forward)
        loop.add_reader(self.outbox, self._drain_subscriptions)

    def _forward(self) -> None:
        for frames in pending(self.inbox, multipart=True):
            event = unsealed(self._key, frames)
            if event is not None and len(event) == 2:
                self.outbox.send_multipart(event, zmq.NOBLOCK)
                continue
            self.refused += 1
            if self.refused == 1 or self.refused % 1000 == 0:
                topic = frames[0][:80].decode(errors="replace") if frames else ""
                log.warning(
                    "dropped an event without our seal (%r; %d so far): not from our actors",
                    topic,
                    self.refused,
                )

    def _drain_subscriptions(self) -> None:
        # XPUB hands us (un)subscription messages; it already applies them itself.
        for _ in pending(self.outbox):
            pass

    def publish(self, frames: list[bytes]) -> None:
        """Publish one of root's own events."""
        self.outbox.send_multipart(frames, zmq.NOBLOCK)

    def close(self) -> None:
        self.inbox.close(0)
        self.outbox.close(0)
