"""Root's side of the zygote: start it, send it spawn requests, read back the pids.

Requests go out over a SOCK_SEQPACKET socketpair (one message per request, with the
actor's file descriptors attached). At most MAX_IN_FLIGHT are outstanding so that
neither side can fill the other's buffer; the rest wait in a queue. If the zygote dies,
`restart()` starts a new one and re-sends what had not been answered. The first zygote
is forked by root before it runs anything (zygote.fork_from_root); a replacement is a
fresh interpreter.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable

import msgpack

from actors.runtime.loop import EventLoop
from procclaw.commands import Spawn, Spawned
from procclaw.protocol import ProtocolError

MAX_IN_FLIGHT = 32

log = logging.getLogger(__name__)


class ZygoteLink:
    def __init__(
        self,
        loop: EventLoop,
        lifeline_fd: int,
        on_reply: Callable[[Spawned], None],
        forked: tuple[int, socket.socket],
    ):
        self._loop = loop
        self._lifeline_fd = lifeline_fd
        self._on_reply = on_reply
        self._pid: int | None
        self._pid, self._channel = forked
        self._loop.add_reader(self._channel.fileno(), self._on_readable)
        self._queue: deque[tuple[Spawn, tuple[int, ...]]] = deque()
        self._in_flight: dict[str, tuple[Spawn, tuple[int, ...]]] = {}

    @property
    def pid(self) -> int | None:
        """The live zygote's pid; None once it has exited."""
        return self._pid

    def _start_fresh(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "actors.runtime.zygote",
                str(theirs.fileno()),
                str(self._lifeline_fd),
            ],
            pass_fds=(theirs.fileno(), self._lifeline_fd),
            stdin=subprocess.DEVNULL,
        )
        process.returncode = 0  # root's SIGCHLD handler reaps it, never Popen
        theirs.close()
        self._pid, self._channel = process.pid, ours
        self._loop.add_reader(ours.fileno(), self._on_readable)
        self._pump()

    def spawn(self, spec: Spawn, fds: tuple[int, ...] = ()) -> None:
        """Ask for an actor; its reply carries `spec.token`."""
        self._queue.append((spec, fds))
        self._pump()

    def _pump(self) -> None:
        while self._channel and self._queue and len(self._in_flight) < MAX_IN_FLIGHT:
            spec, fds = self._queue.popleft()
            self._in_flight[spec.token] = (spec, fds)
            try:
                socket.send_fds(self._channel, [msgpack.packb(spec.to_wire())], list(fds))
            except OSError as exc:
                log.error("zygote channel failed: %s", exc)
                return  # the zygote's death (SIGCHLD) leads to restart()

    def _on_readable(self) -> None:
        assert self._channel is not None
        try:
            data = self._channel.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._close_channel()  # EOF: the zygote died; SIGCHLD brings restart()
            return
        try:
            reply = Spawned.from_wire(msgpack.unpackb(data))
        except (ValueError, ProtocolError) as exc:
            log.error("unreadable answer from the zygote: %s", exc)
            return
        self._in_flight.pop(reply.token, None)
        self._on_reply(reply)
        self._pump()

    def exited(self, pid: int) -> bool:
        """Tell the link a child exited; True if it was the zygote."""
        if pid != self._pid:
            return False
        self._pid = None
        self._close_channel()
        return True

    def restart(self) -> None:
        """Start a new zygote and re-send every request the old one did not answer."""
        self._queue.extendleft(reversed(list(self._in_flight.values())))
        self._in_flight.clear()
        self._start_fresh()

    def stop(self) -> None:
        """Close the channel: the zygote reads EOF and exits (root reaps it)."""
        self._queue.clear()
        self._close_channel()

    def _close_channel(self) -> None:
        if self._channel is not None:
            self._loop.remove_reader(self._channel.fileno())
            self._channel.close()
            self._channel = None
