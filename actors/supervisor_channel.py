"""Root's private channel to one supervisor: jobs handed over with their pipes.

A SOCK_SEQPACKET socketpair per supervisor: root keeps one end, the supervisor inherits
the other through the zygote. ZeroMQ cannot carry file descriptors, so this channel
exists for what must travel with them. Root sends msgpack maps with `v`:
- `take {job, config, args}` with the job's four pipe ends attached (SCM_RIGHTS): hold
  this job (start it, or with `args.resume` carry on from those facts);
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

from actors.loop import EventLoop, Timer, close_quietly
from procclaw import protocol

MAX_MESSAGE = 1 << 17
PIPE_FDS = 4
# While the supervisor is not reading (starting, or dead), what root still has to send
# waits in a queue and is tried again this often.
RETRY_AFTER = 0.005

log = logging.getLogger(__name__)


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(root's end, the supervisor's end)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    return ours, theirs


def take_message(job: str, config: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    return {"v": protocol.VERSION, "cmd": "take", "job": job, "config": config, "args": args}


def stop_message(jobs: list[str]) -> dict[str, Any]:
    return {"v": protocol.VERSION, "cmd": "stop", "jobs": jobs}


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
            data, fds, _, _ = socket.recv_fds(end, MAX_MESSAGE, PIPE_FDS)
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
