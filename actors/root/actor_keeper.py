"""Root's keeper of actors: spawns them through the zygote, reaps them, restarts them.

It tracks every actor in an ActorSlot, from spawn request to exit: matches the zygote's
replies, `hello` and `heartbeat` messages and SIGCHLD exits to slots by pid (in
whatever order they arrive), restarts a dead actor with backoff, kills one that went
quiet, and keeps the exit statuses of orphaned jobs that re-parented to root until
their supervisor asks. What supervisors hold is the pool's (actors/root/supervisor_pool.py):
a dead supervisor whose jobs are alive is replaced at once, with no backoff, since
its jobs' output waits for it (unless it died before it came up: then nothing is
gained by hurrying, and its replacements back off). A supervisor left by a daemon
that died is adopted when its heartbeat arrives and watched through the platform's
exit watch (a pidfd on Linux), since root is not its parent.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import zmq

from actors.root.actor_table import ActorSlot, SlotState
from actors.root.supervisor_pool import SupervisorPool
from actors.runtime.actor import HEARTBEAT_INTERVAL
from actors.runtime.children import exited_children
from actors.runtime.loop import EventLoop
from actors.runtime.zygote_link import ZygoteLink
from procclaw import protocol
from procclaw.bus_events import ActorEvent
from procclaw.commands import ActorWord, Spawn, Spawned
from procclaw.exit_status import describe_status
from procclaw.home import Home
from procclaw.platform import current
from procclaw.rules.actor_restarts import next_beat

# Remember this many exit statuses of children we could not match yet.
UNMATCHED_EXITS = 1024
# Actors that ignore SIGTERM this long while the daemon stops are killed.
STOP_TIMEOUT = 10.0
# How long after each heartbeat beat the watchdog looks: the beat's heartbeats are in.
WATCH_AFTER_BEAT = 0.5
# A supervisor or the controller that keeps dying while the daemon stops is replaced
# this often, no more.
MAX_STOP_REPLACEMENTS = 3

log = logging.getLogger("procclaw.root")

Publish = Callable[[str, dict[str, Any]], None]


class ActorKeeper:
    def __init__(
        self,
        loop: EventLoop,
        home: Home,
        daemon_id: str,
        log_level: str,
        lifeline_fd: int,
        publish: Publish,
        context: zmq.Context,
        zygote: tuple[int, socket.socket],
        job_umask: int,
        bus_key: str,
    ):
        self.loop = loop
        self.job_umask = job_umask
        self.bus_key = bus_key
        self.zmq = context
        self.home = home
        self.daemon_id = daemon_id
        self.log_level = log_level
        self.publish = publish
        self.slots: dict[str, ActorSlot] = {}
        self._by_pid: dict[int, ActorSlot] = {}
        # pid -> (waitpid status, when reaped): exits of children not matched yet.
        self._unmatched_exits: dict[int, tuple[int, float]] = {}
        self._early_hellos: set[int] = set()
        self._zygote_restarts = 0
        # Actors are forked twice, so they re-parent to us where we can be the subreaper
        # (our SIGCHLD says when one dies, with its status); elsewhere to init, and each
        # one is watched through the platform instead.
        self.reaps_actors = current().become_subreaper()
        self.zygote = ZygoteLink(loop, lifeline_fd, self._on_spawned, zygote)
        self.pool = SupervisorPool(self)
        self.stopping = False
        # Set by root: called when an actor is up, and when one is gone while stopping.
        self.on_up: Callable[[ActorSlot], None] = lambda _slot: None
        self.on_gone: Callable[[], None] = lambda: None
        self.on_zygote_gone: Callable[[], None] = lambda: None

    def start(self) -> None:
        self._watch_after_next_beat()

    def _watch_after_next_beat(self) -> None:
        """The watchdog looks just after the actors' heartbeats of each beat are in."""
        beat = next_beat(time.monotonic(), HEARTBEAT_INTERVAL)
        self.loop.call_at(beat + WATCH_AFTER_BEAT, self._watchdog)

    # ---- spawning ----------------------------------------------------------------------

    def add(
        self,
        name: str,
        kind: str,
        args: dict[str, Any] | None = None,
        handed_fds: tuple[int, ...] = (),
    ) -> ActorSlot:
        """Start an actor; `handed_fds` go to its first process only, and are closed here
        once it has them."""
        slot = ActorSlot(name=name, kind=kind, args=args or {}, handed_fds=handed_fds)
        self.slots[name] = slot
        self._spawn(slot)
        return slot

    def _spawn(self, slot: ActorSlot) -> None:
        slot.state = SlotState.SPAWNING
        slot.pid = None
        slot.timer = None
        slot.spawned_at = time.monotonic()
        spec = Spawn(
            token=f"{slot.name}/{uuid.uuid4().hex}",
            kind=slot.kind,
            name=slot.name,
            home=str(self.home.root),
            daemon_id=self.daemon_id,
            log_level=self.log_level,
            args=slot.args,
            job_umask=self.job_umask,
            bus_key=self.bus_key,
        )
        fds = self.pool.channel_for(slot) if slot.kind == "supervisor" else slot.handed_fds
        self.zygote.spawn(spec, fds)

    def _on_spawned(self, reply: Spawned) -> None:
        name = (reply.token or "").partition("/")[0]
        slot = self.slots.get(name)
        if slot is None or slot.state != SlotState.SPAWNING:
            if reply.pid:
                _kill(reply.pid, signal.SIGKILL)  # nobody wants it any more
            return
        if reply.error is not None or reply.pid is None:
            log.error("could not start actor %s: %s", name, reply.error)
            self._schedule_restart(slot)
            return
        if slot.kind == "supervisor":
            self.pool.forked(slot)
        for fd in slot.handed_fds:
            os.close(fd)  # its process has them: a replacement starts without
        slot.handed_fds = ()
        pid = reply.pid
        slot.pid = pid
        slot.state = SlotState.STARTING
        slot.last_seen = time.monotonic()
        self._by_pid[pid] = slot
        if not self.reaps_actors and not self._watch_exit(slot):
            self._exited(slot, None)  # gone before we could watch it
            return
        early_exit = self._unmatched_exits.get(pid)
        if early_exit is not None and early_exit[1] >= slot.spawned_at:  # not an older pid's
            del self._unmatched_exits[pid]
            self._exited(slot, early_exit[0])
            return
        if pid in self._early_hellos:
            self._early_hellos.discard(pid)
            self._up(slot)
        if self.stopping:
            self.on_gone()  # root's shutdown decides when this one is stopped

    # ---- what actors say ---------------------------------------------------------------

    def on_message(self, message: dict[str, Any]) -> None:
        """A `hello`, `heartbeat` or `bye` from an actor's PUSH socket."""
        try:
            word = ActorWord.from_wire({k: v for k, v in message.items() if k != "v"})
        except protocol.ProtocolError:
            return
        if word.cmd in protocol.ACTOR_MESSAGES:
            self._hear(word)

    def _hear(self, word: ActorWord) -> None:
        slot = self._by_pid.get(word.pid)
        if slot is None:
            self._from_stranger(word)
            return
        slot.last_seen = time.monotonic()
        if slot.kind == "supervisor":
            self.pool.on_facts(slot, word.facts)
        else:
            slot.facts = word.facts
        if word.cmd == "bye":
            slot.said_bye = True
        if word.cmd == "hello" and slot.state == SlotState.STARTING:
            self._up(slot)

    def _from_stranger(self, word: ActorWord) -> None:
        """A message from a pid no slot has: early, orphaned, or one too many."""
        slot = self.slots.get(word.name)
        if slot is not None and slot.state == SlotState.SPAWNING:
            if word.cmd == "hello":
                self._early_hellos.add(word.pid)  # the zygote's reply is still on its way
        elif slot is not None:
            # A second actor of one name: a zygote that died after forking but before
            # answering left it, and we asked again. The one we know of stays.
            log.warning("killing a duplicate of actor %s (pid %d)", word.name, word.pid)
            _kill(word.pid, signal.SIGKILL)
        elif word.cmd == "heartbeat" and word.kind == "supervisor":
            self._adopt_orphan(word)

    def _up(self, slot: ActorSlot) -> None:
        slot.state = SlotState.UP
        slot.up_since = time.time()
        slot.last_seen = time.monotonic()
        slot.ever_up = True
        self.publish(protocol.actor_topic(slot.name, "up"), _event(slot))
        log.info("actor %s up (pid %d)", slot.name, slot.pid)
        self.on_up(slot)
        if self.stopping:
            self.on_gone()  # root's shutdown decides when this one is stopped

    def _adopt_orphan(self, word: ActorWord) -> None:
        """A supervisor left by a daemon that died checks in: watch it until it ends."""
        name, pid = word.name, word.pid
        slot = ActorSlot(name, "supervisor", pid=pid, state=SlotState.UP)
        if not self._watch_exit(slot):
            return
        slot.last_seen = time.monotonic()
        slot.up_since = time.time()
        self.slots[name] = slot
        self._by_pid[pid] = slot
        self._hear(word)  # its jobs' facts, and their config for a replacement
        self.pool.hand_key(name)  # its events are dropped until it seals them with ours
        log.info("adopted supervisor %s (pid %d) left by the previous daemon", name, pid)
        self.publish(protocol.actor_topic(name, "up"), _event(slot))

    def _watch_exit(self, slot: ActorSlot) -> bool:
        """Watch an actor that is not our child; False if it has ended already.

        Init reaps it, and its exit status is not ours to know: only its `bye` tells one
        that finished from one that crashed.
        """
        assert slot.pid is not None
        slot.exit_watch = current().watch_exit(slot.pid)
        if slot.exit_watch is None:
            return False
        self.loop.add_reader(
            slot.exit_watch.fd, lambda: self._exited(slot, 0 if slot.said_bye else None)
        )
        return True

    # ---- deaths ------------------------------------------------------------------------

    def reap_children(self) -> None:
        for pid, status in exited_children():
            if self.zygote.exited(pid):
                self._zygote_exited()
                continue
            slot = self._by_pid.get(pid)
            if slot is not None:
                self._exited(slot, status)
            else:
                if len(self._unmatched_exits) >= UNMATCHED_EXITS:
                    self._unmatched_exits.pop(next(iter(self._unmatched_exits)))
                self._unmatched_exits[pid] = (status, time.monotonic())

    def exit_status(self, pid: int) -> int | None:
        """The status of an orphaned job root reaped, once (its supervisor asks)."""
        self.reap_children()
        found = self._unmatched_exits.pop(pid, None)
        return found[0] if found else None

    def _exited(self, slot: ActorSlot, status: int | None) -> None:
        assert slot.pid is not None
        self._by_pid.pop(slot.pid, None)
        if slot.exit_watch is not None:
            self.loop.remove_reader(slot.exit_watch.fd)
            slot.exit_watch.close()
            slot.exit_watch = None
        how = describe_status(status)[2] if status is not None else "exit status unknown"
        self.publish(protocol.actor_topic(slot.name, "down"), _event(slot, how))
        slot.pid = None
        slot.facts = {}  # the dead process's word (its address): not its replacement's
        if slot.kind == "supervisor":
            self._supervisor_exited(slot, status, how)
            return
        if self.stopping and self._still_needed_while_stopping(slot):
            log.warning(
                "actor %s died while the supervisors stop their jobs; replacing it", slot.name
            )
            slot.stop_replacements += 1
            self._spawn(slot)
            return
        if self.stopping:
            log.info("actor %s stopped (%s)", slot.name, how)
            self._forget(slot)
            self.on_gone()
            return
        log.warning("actor %s died (%s)", slot.name, how)
        self._schedule_restart(slot)

    def _still_needed_while_stopping(self, slot: ActorSlot) -> bool:
        """The controller, dead before it was asked to stop while supervisors remain: they
        let their jobs go, and exit, only once it has their last reports on record."""
        return (
            slot.kind == "controller"
            and slot.state != SlotState.STOPPING
            and slot.stop_replacements < MAX_STOP_REPLACEMENTS
            and any(other.kind == "supervisor" for other in self.slots.values())
        )

    def _supervisor_exited(self, slot: ActorSlot, status: int | None, how: str) -> None:
        """Replace a supervisor whose jobs live on at once: their output waits for it."""
        replaceable = slot.stop_replacements < MAX_STOP_REPLACEMENTS
        if self.stopping and self.pool.left_running(slot) and replaceable:
            # Only a supervisor stops a job gracefully: a replacement finishes the stop.
            log.warning("actor %s died while stopping its jobs; replacing it", slot.name)
            slot.stop_replacements += 1
            self._spawn(slot)
            return
        # At rest with nothing held: its last job let go (an isolated one), or it was empty.
        finished = not self.pool.can_replace(slot) and (status == 0 or slot.args.get("isolated"))
        if self.stopping or finished:
            log.info("actor %s stopped (%s)", slot.name, how)
            self._forget(slot)
            if self.stopping:
                self.on_gone()
            return
        log.warning("actor %s died (%s)", slot.name, how)
        if self.pool.left_running(slot) and slot.state != SlotState.STARTING:
            slot.restarts += 1
            self._spawn(slot)  # no backoff: its jobs' output waits in their pipes
        else:
            # Empty, or a replacement that died before it came up (its home gone, say):
            # restarted like any actor, so one that cannot start does not spin root.
            self._schedule_restart(slot)

    def _forget(self, slot: ActorSlot) -> None:
        del self.slots[slot.name]
        if slot.kind == "supervisor":
            self.pool.forget(slot)

    def _schedule_restart(self, slot: ActorSlot) -> None:
        delay = slot.restart_delay(time.monotonic())
        slot.state = SlotState.BACKOFF
        slot.restarts += 1
        slot.timer = self.loop.call_later(delay, lambda: self._spawn(slot))

    def _zygote_exited(self) -> None:
        if self.stopping:
            self.on_zygote_gone()
            return
        self._zygote_restarts += 1
        delay = min(5.0, 0.1 * (self._zygote_restarts - 1))
        log.warning("zygote died; restarting it in %.1f s", delay)
        self.loop.call_later(delay, self.zygote.restart)

    def _watchdog(self) -> None:
        now = time.monotonic()
        for slot in list(self.slots.values()):
            if slot.pid is not None and slot.is_overdue(now):
                log.warning("actor %s (pid %d) stopped answering; killing it", slot.name, slot.pid)
                _kill(slot.pid, signal.SIGKILL)
                slot.last_seen = now  # one kill per silence; its SIGCHLD does the rest
        self._watch_after_next_beat()

    # ---- stopping ----------------------------------------------------------------------

    def begin_stopping(self) -> None:
        """No more restarts after this; an actor waiting in backoff is started at once.

        The controller must be there to take the supervisors' last reports, and a
        supervisor in backoff may have a running job that only it can stop.
        """
        self.stopping = True
        for slot in list(self.slots.values()):
            if slot.timer is not None:
                slot.timer.cancel()
                slot.timer = None
            if slot.state == SlotState.BACKOFF:
                self._spawn(slot)

    def terminate(self, slot: ActorSlot, deadline: float | None = None) -> None:
        """SIGTERM the actor; SIGKILL it if it is still the same process after `deadline`.

        Not before its `hello`: until then it has no handler, and SIGTERM would kill it
        on the spot. Root asks again once it is up.
        """
        if slot.pid is None or slot.state in (SlotState.STOPPING, SlotState.STARTING):
            return
        slot.state = SlotState.STOPPING
        pid = slot.pid
        _kill(pid, signal.SIGTERM)
        if deadline is not None:
            self.loop.call_later(deadline, lambda: slot.pid == pid and _kill(pid, signal.SIGKILL))

    def describe(self) -> list[dict[str, Any]]:
        return [slot.describe() for slot in self.slots.values()]


def _event(slot: ActorSlot, status: str | None = None) -> ActorEvent:
    return ActorEvent(slot.name, slot.kind, slot.pid, slot.restarts, status)


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it exited meanwhile: that is what we wanted
