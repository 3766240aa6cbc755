"""Root's book of actors: one slot per actor, its pid, its health, its restart backoff."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from actors.runtime.actor import heartbeat_interval
from actors.runtime.loop import Timer

# An actor silent for this many of its heartbeat intervals is hung and gets replaced.
MISSED_HEARTBEATS = 3
# How long a new actor may take from fork to its `hello`.
STARTUP_TIMEOUT = 15.0
# Delays before restarting an actor that keeps dying; the first restart is immediate.
RESTART_DELAYS = (0.0, 0.25, 1.0, 2.0, 5.0, 10.0, 30.0)
# An actor that stayed up this long has recovered: its next death restarts at once.
STABLE_AFTER = 30.0


# Heartbeat facts that `daemon status` shows beside an actor.
STATUS_FACTS = ("listening", "problem")


class SlotState:
    SPAWNING = "spawning"  # asked the zygote, no pid yet
    STARTING = "starting"  # forked, no hello yet
    UP = "up"
    BACKOFF = "backoff"  # dead, waiting to be restarted
    STOPPING = "stopping"  # sent SIGTERM, waiting for it to exit


@dataclass
class ActorSlot:
    name: str
    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    pid: int | None = None
    state: str = SlotState.SPAWNING
    spawned_at: float = 0.0  # monotonic
    up_since: float | None = None  # wall clock, for status
    last_seen: float = 0.0  # monotonic
    restarts: int = 0
    quick_failures: int = 0
    timer: Timer | None = None
    ever_up: bool = False
    facts: dict[str, Any] = field(default_factory=dict)  # from its heartbeats (not a supervisor's)
    pidfd: int | None = None  # set when adopted: root is not its parent, so no SIGCHLD
    said_bye: bool = False  # it ended its own life (a clean exit), seen without SIGCHLD
    stop_replacements: int = 0  # replaced while the daemon was stopping

    def restart_delay(self) -> float:
        """The delay before the next restart, growing while the actor keeps dying young."""
        lived = time.monotonic() - self.spawned_at
        if lived >= STABLE_AFTER:
            self.quick_failures = 0
        delay = RESTART_DELAYS[min(self.quick_failures, len(RESTART_DELAYS) - 1)]
        self.quick_failures += 1
        return delay

    def is_overdue(self, now: float) -> bool:
        """True when a live actor has gone quiet for too long (hung or stopped)."""
        if self.state == SlotState.STARTING:
            return now - self.last_seen > STARTUP_TIMEOUT
        if self.state in (SlotState.UP, SlotState.STOPPING):
            return now - self.last_seen > MISSED_HEARTBEATS * heartbeat_interval(self.kind)
        return False

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "pid": self.pid,
            "state": self.state,
            "restarts": self.restarts,
            "up_since": self.up_since,
            # What an actor says of itself for `daemon status` (the gateway's address).
            **{key: self.facts[key] for key in STATUS_FACTS if key in self.facts},
        }
