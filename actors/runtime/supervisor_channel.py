"""Root's private channel to one supervisor: jobs handed over with their pipes.

A SOCK_SEQPACKET socketpair per supervisor: root keeps one end, the supervisor inherits
the other through the zygote. ZeroMQ cannot carry file descriptors, so this channel
exists for what must travel with them. Root sends msgpack maps with `v` and `cmd`, their
arguments as the records of procclaw/commands.py (CHANNEL_ARGS) say:
- `take {jobs: [placement, ...]}` with each job's four pipe ends attached, in order
  (SCM_RIGHTS): hold these jobs (start each, or with its `resume` carry on from those
  facts). Many jobs go in one message, up to what one message can carry;
- `stop {jobs}`: the daemon is stopping; stop these jobs now and keep them down.
Nothing travels back: a supervisor tells root what it holds in its heartbeats.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections import deque
from collections.abc import Iterator
from typing import Any

import msgpack

from actors.runtime.loop import EventLoop, Timer, close_quietly
from procclaw import protocol
from procclaw.commands import RetireArgs, TakeArgs

MAX_MESSAGE = 1 << 17
PIPE_FDS = 4
# The kernel passes at most 253 descriptors in one message (SCM_MAX_FD).
MAX_JOBS_PER_TAKE = 253 // PIPE_FDS
# Leaves room below MAX_MESSAGE for the message's own framing.
TAKE_BYTES = MAX_MESSAGE - 4096
# While the supervisor is not reading (starting, or dead), what root still has to send
# waits in a queue and is tried again this often.
RETRY_AFTER = 0.005

log = logging.getLogger(__name__)


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(root's end, the supervisor's end)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    return ours, theirs


def take_messages(
    takes: list[tuple[dict[str, Any], tuple[int, ...]]],
) -> Iterator[tuple[dict[str, Any], tuple[int, ...]]]:
    """`take` messages for many jobs (each a placement with its pipes), as few as the
    kernel's and our size limits allow."""
    batch: list[dict[str, Any]] = []
    fds: list[int] = []
    size = 0
    for take, pipes in takes:
        take_size = len(msgpack.packb(take))
        if batch and (len(batch) == MAX_JOBS_PER_TAKE or size + take_size > TAKE_BYTES):
            yield _take(batch), tuple(fds)
            batch, fds, size = [], [], 0
        batch.append(take)
        fds.extend(pipes)
        size += take_size
    if batch:
        yield _take(batch), tuple(fds)


def _take(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"v": protocol.VERSION, "cmd": "take", **TakeArgs(jobs).to_wire()}


def stop_message(jobs: list[str]) -> dict[str, Any]:
    return {"v": protocol.VERSION, "cmd": "stop", **RetireArgs(jobs).to_wire()}


class ChannelSender:
    """Root's end: sends in order, never blocking root's loop."""

    def __init__(self, loop: EventLoop, end: socket.socket):
        self._loop = loop
        self._end = end
        self._queue: deque[tuple[bytes, list[int]]] = deque()
        self._timer: Timer | None = None

    def send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        self._queue.append((msgpack.packb(message), list(fds)))
        self._flush()

    def _flush(self) -> None:
        self._timer = None
        while self._queue:
            data, fds = self._queue[0]
            try:
                socket.send_fds(self._end, [data], fds)
            except BlockingIOError:
                self._timer = self._loop.call_later(RETRY_AFTER, self._flush)
                return
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.ECONNRESET):
                    self._queue.clear()  # the supervisor is gone; its replacement gets all
                    return
                log.error("cannot hand a job to a supervisor: %s", exc)
                self._queue.popleft()
                continue
            self._queue.popleft()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._queue.clear()
        self._end.close()


def receive(end: socket.socket) -> Iterator[tuple[dict[str, Any], list[int]]]:
    """Every message waiting on the supervisor's end, with its descriptors."""
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(end, MAX_MESSAGE, MAX_JOBS_PER_TAKE * PIPE_FDS)
        except BlockingIOError:
            return
        if not data:
            return  # root's end is closed: root is gone (the lifeline says so too)
        try:
            message = protocol.decode(data)
        except protocol.ProtocolError as exc:
            log.error("unreadable message from root: %s", exc.message)
            for fd in fds:
                close_quietly(fd)
            continue
        yield message, fds
