"""`Subscription.sync` against a stand-in bus whose probes the test decides: a probe sent
before the subscription reached the bus is lost, and sync must not sit out a long wait
for it."""

from __future__ import annotations

import pytest
import zmq

from procclaw import protocol
from procclaw.client import DaemonNotAnswering
from procclaw.home import Home
from procclaw.subscription import FIRST_PROBE_WAIT, LAST_PROBE_WAIT, Subscription, probe_waits


class StandInBus:
    """A PUB socket on the home's bus endpoint, and a `probe` that publishes what the
    test chooses: `echo(calls)` gives the tokens to publish after each call."""

    def __init__(self, home: Home, echo):
        self.socket = zmq.Context.instance().socket(zmq.PUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(home.endpoint("bus"))
        self.tokens: list[str] = []
        self._echo = echo
        self._source = protocol.EventSource("root")

    def call(self, cmd: str, args: dict) -> dict:
        assert cmd == "probe"
        self.tokens.append(args["token"])
        for token in self._echo(self.tokens):
            self.socket.send_multipart(self._source.frames(protocol.probe_topic(token)))
        return {}

    def close(self) -> None:
        self.socket.close(0)


@pytest.fixture
def home(tmp_path) -> Home:
    home = Home(tmp_path)
    home.make_directories()
    return home


def _synced(home: Home, echo, timeout: float = 5.0) -> list[str]:
    bus = StandInBus(home, echo)
    subscription = Subscription(home, ("job.",))
    try:
        subscription.sync(bus, timeout)
        return bus.tokens
    finally:
        subscription.close()
        bus.close()


def test_a_late_echo_of_an_earlier_probe_proves_the_subscription_live(home):
    """Only the first probe ever comes back, after the second was sent: it counts."""
    tokens = _synced(home, lambda sent: sent[:1] if len(sent) >= 2 else [])
    assert len(tokens) >= 2


def test_a_lost_first_probe_is_followed_by_another_at_once(home):
    """The second probe goes after FIRST_PROBE_WAIT, not after the longest wait: a
    timeout shorter than that wait still leaves time for it."""
    assert FIRST_PROBE_WAIT < LAST_PROBE_WAIT / 10
    timeout = LAST_PROBE_WAIT * 0.95
    tokens = _synced(home, lambda sent: sent[-1:] if len(sent) >= 2 else [], timeout)
    assert len(tokens) >= 2


def test_the_waits_grow_up_to_the_longest_and_then_give_up(home):
    """Nothing ever comes back: probes go at 5, 10, 20... ms, then every 200 ms, until
    the timeout names the bus."""
    with pytest.raises(DaemonNotAnswering, match="event bus not answering after 0.6 s"):
        _synced(home, lambda _sent: [], timeout=0.6)


def test_probe_waits_start_short_and_double_up_to_the_longest():
    """The schedule the health actor's probes follow too."""
    waits = probe_waits(0.5)
    assert [next(waits) for _ in range(9)] == [FIRST_PROBE_WAIT * 2**n for n in range(7)] + [
        0.5,
        0.5,
    ]
