"""Root's side of the supervisors: where jobs are placed, and what a replacement gets.

The controller places jobs (`supervise`, many at once) in named supervisors; a
supervisor not running yet is started. For each job root creates the pipes, keeps
them with the job's config (actors/root/held_jobs.py) and hands the job over on the
supervisor's channel. Every change of a job's facts comes back in the supervisor's
heartbeats; when a supervisor dies, its replacement is handed every job it held, with
the same pipes and the last facts, and adopts the running ones. At daemon stop, jobs
are ordered to stop only after their dependents (procclaw/stop_order.py).
"""

from __future__ import annotations

import logging
import socket
from typing import Any, Protocol

import zmq

from actors.root.actor_table import ActorSlot
from actors.root.held_jobs import HeldJob, new_pipes
from actors.runtime.async_calls import AsyncCalls
from actors.runtime.loop import EventLoop, Timer
from actors.runtime.supervisor_channel import (
    ChannelSender,
    channel_pair,
    stop_message,
    take_messages,
)
from procclaw.home import Home
from procclaw.job_facts import HeldFacts
from procclaw.placement import Placement
from procclaw.protocol import ErrorCode, ProtocolError
from procclaw.stop_order import next_to_stop

log = logging.getLogger("procclaw.root")


class Keeper(Protocol):
    """What the pool needs of root's keeper of actors (actors/root/actor_keeper.py)."""

    loop: EventLoop
    home: Home
    zmq: zmq.Context
    slots: dict[str, ActorSlot]
    stopping: bool

    def add(self, name: str, kind: str, args: dict[str, Any] | None = None) -> ActorSlot: ...

    def terminate(self, slot: ActorSlot, deadline: float | None = None) -> None: ...


class SupervisorPool:
    def __init__(self, keeper: Keeper):
        self._keeper = keeper
        self.held: dict[str, dict[str, HeldJob]] = {}  # supervisor -> job -> held
        self._senders: dict[str, ChannelSender] = {}
        self._their_ends: dict[str, socket.socket] = {}  # until the zygote has forked
        self._ordered: set[str] = set()  # jobs told to stop at daemon stop
        self._ordering: Timer | None = None  # the next look at what to stop, this turn
        self._calls = AsyncCalls(keeper.zmq, keeper.loop, keeper.home)

    # ---- placing jobs ------------------------------------------------------------------

    def place(self, placements: list[Placement]) -> dict[str, Any]:
        """Hand each job to its supervisor, starting supervisors that are not there."""
        placed = []
        handed: dict[str, list[HeldJob]] = {}
        for placement in placements:
            job, name = placement.job, placement.supervisor
            slot = self._keeper.slots.get(name)
            if slot is None:
                slot = self._keeper.add(name, "supervisor", {"isolated": placement.isolated})
            jobs = self.held.setdefault(name, {})
            held = jobs.get(job)
            if held is not None and held.placement.generation == placement.generation:
                placed.append(job)  # sent again by a controller that had no answer
                continue
            if held is not None and held.fds:
                # Still held there, the same pipes serve on. At rest (being let go), a
                # replacement must start it afresh; live (placed again as a restart's
                # stop ended), it must adopt the run under way.
                held.placement = placement
                if not held.live:
                    held.facts = None
            else:
                held = jobs[job] = HeldJob.with_new_pipes(placement)
            handed.setdefault(name, []).append(held)
            placed.append(job)
        for name, helds in handed.items():
            self._hand_over(name, helds)
        return {"placed": placed}

    def hand_key(self, name: str) -> None:
        """Give a supervisor adopted from the daemon before us this daemon's bus key;
        until it takes it, its events are dropped, so ask again while it lives."""

        def not_taken(code: str, message: str) -> None:
            if name not in self._keeper.slots:
                return  # it is gone
            if code == ErrorCode.CONFLICT:  # someone set its key first: asking is futile
                log.error("adopted supervisor %s refused the bus key: %s", name, message)
                return
            log.error(
                "adopted supervisor %s did not take the bus key (%s): its events are dropped"
                " until it does; asking again",
                name,
                message,
            )
            self._keeper.loop.call_later(1.0, lambda: self.hand_key(name))

        self._calls.call(
            name, "bus_key", {"key": self._keeper.bus_key}, lambda _reply: None, not_taken, 5.0
        )

    def holds(self) -> dict[str, dict[str, int]]:
        """What each supervisor holds: job -> generation (for a restarted controller)."""
        return {
            name: {job: held.generation for job, held in jobs.items()}
            for name, jobs in self.held.items()
        }

    def _hand_over(self, name: str, helds: list[HeldJob]) -> None:
        """Hand the jobs over now, in as few messages as fit, unless the supervisor is
        being forked: then `forked` hands it every job at once."""
        sender = self._senders.get(name)
        if sender is None or name in self._their_ends:
            return
        for message, fds in take_messages([(held.take(), held.fds) for held in helds]):
            sender.send(message, fds)

    # ---- a supervisor's life -----------------------------------------------------------

    def channel_for(self, slot: ActorSlot) -> tuple[int, ...]:
        """A new channel for a supervisor about to be forked: the fd it inherits."""
        self._close_channel(slot.name)
        ours, theirs = channel_pair()
        self._senders[slot.name] = ChannelSender(self._keeper.loop, ours)
        self._their_ends[slot.name] = theirs
        return (theirs.fileno(),)

    def forked(self, slot: ActorSlot) -> None:
        """The zygote has forked it: its end is its own now, and its jobs go to it."""
        theirs = self._their_ends.pop(slot.name, None)
        if theirs is not None:
            theirs.close()
        jobs = self.held.get(slot.name, {})
        self._ordered -= set(jobs)  # a replacement is told again what to stop
        for held in jobs.values():
            if not held.fds:  # an orphan's job: its pipes died with the daemon before
                held.fds = new_pipes()
        self._hand_over(slot.name, list(jobs.values()))
        if self._keeper.stopping:
            self._order_stops()

    def on_facts(self, slot: ActorSlot, facts: dict[str, Any]) -> None:
        """A supervisor's word on its jobs: all of them, or (`partial`) those changed,
        and those it let go (`gone`: job -> generation)."""
        jobs = self.held.setdefault(slot.name, {})
        reported = facts.get("jobs") or {}
        moved = False  # a job came to rest, came alive, came or went: orders may change
        # Only `gone` lets a job go: a job missing from a full report may be one handed
        # over that the supervisor has not read yet.
        for job, job_facts in reported.items():
            try:
                word = HeldFacts.from_wire(_without_placement(job_facts))
                held = jobs.get(job)
                if held is None:  # an orphan's job, told to a root that never placed it
                    placement = Placement.from_wire(job_facts.get("placement"))
                    held = jobs[job] = HeldJob(placement, ())
                    moved = True
            except ProtocolError as exc:
                log.error("%s: its word on job %s is unreadable: %s", slot.name, job, exc.message)
                continue
            was_live = held.live
            held.facts = word
            moved = moved or was_live != held.live
        for job, generation in (facts.get("gone") or {}).items():
            held = jobs.get(job)
            if held is not None and held.generation <= generation:
                jobs.pop(job).close()
                moved = True
        if self._keeper.stopping and moved:
            self._order_stops_this_turn()

    def left_running(self, slot: ActorSlot) -> bool:
        """Whether a dead supervisor held a job that only a supervisor can stop."""
        return any(held.live for held in self.held.get(slot.name, {}).values())

    def can_replace(self, slot: ActorSlot) -> bool:
        """Whether a dead supervisor holds jobs to hand to a replacement."""
        return bool(self.held.get(slot.name))

    def forget(self, slot: ActorSlot) -> None:
        self._close_channel(slot.name)
        for held in self.held.pop(slot.name, {}).values():
            held.close()

    def _close_channel(self, name: str) -> None:
        sender = self._senders.pop(name, None)
        if sender is not None:
            sender.close()
        theirs = self._their_ends.pop(name, None)
        if theirs is not None:
            theirs.close()

    def _not_retired(self, _code: str, message: str) -> None:
        log.error("an adopted supervisor did not take its stop orders: %s", message)

    def close(self) -> None:
        if self._ordering is not None:
            self._ordering.cancel()
        self._calls.close()
        for name in list(self.held):
            self._close_channel(name)
            for held in self.held.pop(name).values():
                held.close()

    # ---- daemon stop -------------------------------------------------------------------

    def begin_stopping(self) -> None:
        self._order_stops()

    def _order_stops_this_turn(self) -> None:
        """Order stops once at the end of this turn of the loop, however many words came
        in it: an ordering looks at every job (a daemon stop with 2,000 jobs running
        brings some 4,000 words)."""
        if self._ordering is None:
            self._ordering = self._keeper.loop.call_later(0, self._order_stops)

    def _order_stops(self) -> None:
        """Tell supervisors which of their jobs to stop now: those whose dependents are
        at rest. A supervisor with nothing live left is told to exit."""
        if self._ordering is not None:
            self._ordering.cancel()
            self._ordering = None
        live_jobs = {
            job: name for name, jobs in self.held.items() for job, held in jobs.items() if held.live
        }
        stop_after = {
            job: held.stop_after for jobs in self.held.values() for job, held in jobs.items()
        }
        now = next_to_stop(stop_after, set(live_jobs), self._ordered & set(live_jobs))
        by_supervisor: dict[str, list[str]] = {}
        for job in now:
            by_supervisor.setdefault(live_jobs[job], []).append(job)
        for name, jobs in by_supervisor.items():
            self._ordered.update(jobs)
            sender = self._senders.get(name)
            if sender is not None:
                sender.send(stop_message(jobs))
            else:  # adopted from the daemon before us: no channel, but its socket
                self._calls.call(
                    name, "retire", {"jobs": jobs}, lambda _r: None, self._not_retired, 5.0
                )
        for name, slot in list(self._keeper.slots.items()):
            if slot.kind == "supervisor" and name not in live_jobs.values():
                self._keeper.terminate(slot)


def _without_placement(job_facts: Any) -> Any:
    """A job's facts as an orphan tells them, without the placement it adds."""
    if not isinstance(job_facts, dict):
        return job_facts
    return {key: value for key, value in job_facts.items() if key != "placement"}
