"""What the dependency and health check tests share: their programs and event lists."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable

from conftest import PROGRAMS

from procclaw.protocol import Event


def program(name: str, *args: object) -> str:
    """A jobs.yaml `cmd` list running one of tests/programs with this Python."""
    return repr([sys.executable, str(PROGRAMS / name), *map(str, args)]).replace("'", '"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def events_until(subscription, predicate: Callable[[Event], bool], timeout: float = 30.0):
    """Every event received up to the first that matches `predicate`, that one included."""
    seen: list[Event] = []
    deadline = time.monotonic() + timeout

    def record(event: Event) -> bool:
        seen.append(event)
        return predicate(event)

    found = subscription.wait_for(record, max(0.0, deadline - time.monotonic()))
    assert found is not None, f"no matching event within {timeout} s; saw {topics(seen)}"
    return seen


def topics(events: list[Event]) -> list[str]:
    return [event.topic for event in events]
