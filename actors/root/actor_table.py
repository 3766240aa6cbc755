"""Root's book of actors: one slot per actor, its pid, its health, its restart backoff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actors.runtime.actor import heartbeat_interval
from actors.runtime.loop import Timer
from procclaw.platform import ExitWatch
from procclaw.rules.actor_restarts import RestartBackoff, is_hung

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
    backoff: RestartBackoff = field(default_factory=RestartBackoff)
    timer: Timer | None = None
    ever_up: bool = False
    facts: dict[str, Any] = field(default_factory=dict)  # from its heartbeats (not a supervisor's)
    exit_watch: ExitWatch | None = None  # when adopted: root is not its parent, so no SIGCHLD
    said_bye: bool = False  # it ended its own life (a clean exit), seen without SIGCHLD
    stop_replacements: int = 0  # replaced while the daemon was stopping
    handed_fds: tuple[int, ...] = ()  # root's descriptors for its first spawn, then closed

    def restart_delay(self, now: float) -> float:
        """The delay before the next restart, growing while the actor keeps dying young."""
        return self.backoff.next_delay(lived=now - self.spawned_at)

    def is_overdue(self, now: float) -> bool:
        """True when a live actor has gone quiet for too long (hung or stopped)."""
        if self.state not in (SlotState.STARTING, SlotState.UP, SlotState.STOPPING):
            return False
        said_hello = self.state != SlotState.STARTING
        return is_hung(now - self.last_seen, said_hello, heartbeat_interval(self.kind))

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
