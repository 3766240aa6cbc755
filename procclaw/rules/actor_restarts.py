"""When root restarts an actor that died, and when it calls a silent actor hung.

An actor that keeps dying young is restarted after growing delays; one that stayed up
a while has recovered, and its next death restarts it at once. The caller passes in how
long the actor lived and how long it has been quiet, so these rules read no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

# Delays before restarting an actor that keeps dying; the first restart is immediate.
RESTART_DELAYS = (0.0, 0.25, 1.0, 2.0, 5.0, 10.0, 30.0)
# An actor that stayed up this long has recovered: its next death restarts at once.
STABLE_AFTER = 30.0
# An actor silent for this many of its heartbeat intervals is hung and gets replaced.
MISSED_HEARTBEATS = 3
# How long a new actor may take from fork to its `hello`.
STARTUP_TIMEOUT = 15.0


@dataclass
class RestartBackoff:
    """One actor's run of early deaths, and the delay each earns."""

    quick_failures: int = 0

    def next_delay(self, lived: float) -> float:
        """The delay before restarting an actor that died after `lived` seconds."""
        if lived >= STABLE_AFTER:
            self.quick_failures = 0
        delay = RESTART_DELAYS[min(self.quick_failures, len(RESTART_DELAYS) - 1)]
        self.quick_failures += 1
        return delay


def is_hung(quiet_for: float, said_hello: bool, heartbeat_interval: float) -> bool:
    """Whether an actor quiet for `quiet_for` seconds stopped answering: before its
    `hello` it has STARTUP_TIMEOUT, after it MISSED_HEARTBEATS of its intervals."""
    if not said_hello:
        return quiet_for > STARTUP_TIMEOUT
    return quiet_for > MISSED_HEARTBEATS * heartbeat_interval


def next_beat(now: float, interval: float) -> float:
    """The next multiple of `interval` on the monotonic clock, which every process of the
    machine shares: actors that heartbeat on it reach root together, in one of its
    wakeups instead of one each."""
    return (now // interval + 1) * interval
