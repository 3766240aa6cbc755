"""What every actor process shares: its loop, its link to root, and the bus.

An actor is a plain OS process forked from the zygote. It connects:
- a PUSH socket to root's `actors` endpoint, for `hello` (once it is serving), and a
  `heartbeat` every heartbeat_interval(kind) seconds; root replaces an actor whose heartbeats
  stop, so a hung actor is as good as a dead one;
- a PUSH socket to the bus input, for the events it publishes (PUSH rather than PUB:
  PUSH queues until connected, so a freshly started actor's first events are not lost);
- the lifeline: the read end of a pipe whose write end only root holds. It turns
  readable (EOF) the moment root dies, and the actor then exits, leaving jobs alone.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq

from actors.runtime.command_server import CommandHandler, CommandServer
from actors.runtime.descriptor_room import make_room_for_descriptors
from actors.runtime.loop import EventLoop, pending
from procclaw import bus_events, protocol
from procclaw.bus_seal import seal
from procclaw.commands import ActorWord, CommandArgs
from procclaw.home import Home
from procclaw.rules.actor_restarts import next_beat
from procclaw.wire_record import WireRecord

# A crash reaches root at once (SIGCHLD); heartbeats only catch a hung actor, so they
# are few: each wakes root and the actor, and idle means idle.
HEARTBEAT_INTERVAL = 5.0
# A supervisor's death reaches root as SIGCHLD without any heartbeat: its heartbeats
# only catch a hung one, and carry every job it holds, so they are rare. Each change of
# a job's facts is sent to root at once anyway.
SUPERVISOR_HEARTBEAT_INTERVAL = 30.0


def heartbeat_interval(kind: str) -> float:
    return SUPERVISOR_HEARTBEAT_INTERVAL if kind == "supervisor" else HEARTBEAT_INTERVAL


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActorContext:
    """What root hands an actor at birth (through the zygote)."""

    kind: str
    name: str
    home: Home
    lifeline_fd: int
    daemon_id: str
    args: dict[str, Any] = field(default_factory=dict)
    fds: tuple[int, ...] = ()
    job_umask: int = 0o022
    bus_key: str = ""  # hex; seals what the actor publishes


class Actor:
    """Base class: subclasses bind their sockets in `setup()` and react to messages."""

    # Descriptors the actor may come to hold, made room for before its first thread.
    DESCRIPTORS = 0

    @classmethod
    def first_in_process(cls, home: Home, name: str) -> None:
        """Done first in the new process, while it has one thread and has written to
        little of the memory it shares with the zygote: a fork made here copies little."""

    def __init__(self, ctx: ActorContext):
        self.ctx = ctx
        self.name = ctx.name
        self.home = ctx.home
        if self.DESCRIPTORS:
            make_room_for_descriptors(self.DESCRIPTORS)
        self.loop = EventLoop()
        self.zmq = zmq.Context()  # its threads start here
        self.events = protocol.EventSource(ctx.name)
        self.bus_key = bytes.fromhex(ctx.bus_key)
        self._bus = self._push(self.home.endpoint("bus-in"))
        self._root = self._push(self.home.endpoint("actors"))
        self._servers: list[CommandServer] = []
        self.loop.add_reader(ctx.lifeline_fd, self.on_root_gone)
        self.loop.on_signal(signal.SIGTERM, lambda _signum: self.on_terminate())

    def _push(self, endpoint: str) -> zmq.Socket:
        sock = self.zmq.socket(zmq.PUSH)
        sock.setsockopt(zmq.LINGER, 1000)
        sock.setsockopt(zmq.SNDHWM, 10000)
        sock.connect(endpoint)
        return sock

    # ---- for subclasses ----------------------------------------------------------------

    def setup(self) -> None:
        """Bind sockets and load state; called once before `hello` is sent."""

    def on_terminate(self) -> None:
        """SIGTERM from root: finish up and exit."""
        self.loop.stop()

    def on_root_gone(self) -> None:
        """Root died: exit at once, touching no job (the next daemon re-adopts them)."""
        log.warning("%s: root is gone, exiting", self.name)
        self.loop.stop()

    def teardown(self) -> None:
        """Release what `setup()` took; called once after the loop ends."""

    def serve(self, endpoint: str, handlers: dict[str, CommandHandler], commands: CommandArgs):
        server = CommandServer(self.zmq, self.loop, endpoint, handlers, commands)
        self._servers.append(server)
        return server

    def publish(self, topic: str, record: WireRecord) -> None:
        """Publish `record`, the data of an event on `topic` (procclaw/bus_events.py)."""
        frames = seal(self.bus_key, self.events.frames(topic, bus_events.checked(topic, record)))
        try:
            self._bus.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            log.warning("%s: bus is full, dropped %s", self.name, topic)

    # ---- lifecycle ---------------------------------------------------------------------

    def run(self) -> int:
        self.setup()
        self._tell_root("hello")
        self._heartbeat()
        try:
            self.loop.run()
        finally:
            self.teardown()
            for server in self._servers:
                server.close()
            self._tell_root("bye")
            self.loop.close()
            self.zmq.destroy(linger=500)
        return 0

    def when_root_listens(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time our link to root (re)connects: a new root is up."""
        monitor = self._root.get_monitor_socket(zmq.EVENT_CONNECTED)

        def on_events() -> None:
            if list(pending(monitor, multipart=True)):
                callback()

        self.loop.add_reader(monitor, on_events)

    def _heartbeat(self) -> None:
        self._tell_root("heartbeat")
        beat = next_beat(time.monotonic(), heartbeat_interval(self.ctx.kind))
        self.loop.call_at(beat, self._heartbeat)

    def heartbeat_facts(self) -> dict[str, Any]:
        """Facts root keeps about this actor and hands to its replacement."""
        return {}

    def _tell_root(self, what: str, facts: dict[str, Any] | None = None) -> None:
        """Send root a `hello`, `heartbeat` or `bye` with our facts (all, or `facts`)."""
        said = self.heartbeat_facts() if facts is None else facts
        word = ActorWord(what, self.name, self.ctx.kind, os.getpid(), said)
        message = {"v": protocol.VERSION, **word.to_wire()}
        try:
            self._root.send(protocol.encode(message), zmq.NOBLOCK)
        except zmq.Again:
            pass  # root is not reading; it will notice the missing heartbeats


def configure_logging(name: str, level: str) -> None:
    """Log lines to stderr (the daemon log), each naming the process that wrote it.

    An actor forked from the zygote has root's handler already: it takes a formatter
    naming itself, and sets the level only where it differs. Configuring afresh would
    also clear every logger's cache (Manager._clear_cache), writing to each logger of
    the shared image and so copying a page for each: some 300 KiB per actor.
    """
    form = f"%(asctime)s {name}[%(process)d] %(levelname)s %(message)s"
    wanted = getattr(logging, level.upper(), logging.INFO)
    root = logging.getLogger()
    if len(root.handlers) == 1:
        [handler] = root.handlers
        if type(handler) is logging.StreamHandler and handler.stream is sys.stderr:
            handler.setFormatter(logging.Formatter(form))
            if root.level != wanted:
                root.setLevel(wanted)
            return
    logging.basicConfig(level=wanted, format=form, force=True)
