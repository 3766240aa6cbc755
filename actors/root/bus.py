"""The event bus that root runs: actors push events in, subscribers read them out.

Input is a PULL socket (`bus-in`) that every actor PUSHes to; output is an XPUB socket
(`bus`) that subscribers connect a SUB to. PUSH/PULL on the way in instead of PUB/XSUB
because a PUB drops whatever it sends before its subscriptions arrive; a just-started
actor's first events would be lost. Forwarding is frame-for-frame, so an event's
publisher, sequence number and timestamp reach subscribers untouched.
"""

from __future__ import annotations

import zmq

from actors.runtime.loop import EventLoop, pending
from procclaw.home import Home

# Past this many queued messages for one slow subscriber, ZeroMQ drops its newest ones
# (the sequence numbers in each payload show the gap) instead of growing our memory.
SUBSCRIBER_HWM = 100_000


class Bus:
    def __init__(self, context: zmq.Context, loop: EventLoop, home: Home):
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
            if len(frames) == 2:
                self.outbox.send_multipart(frames, zmq.NOBLOCK)

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
