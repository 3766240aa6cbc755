"""The event loop every ProcClaw process runs: one `zmq.Poller`, timers, signals.

It sleeps until a socket or file descriptor is readable, a signal arrives or the
earliest timer is due; with nothing to do it does not wake at all. Signals are turned
into readable bytes on a socketpair (`signal.set_wakeup_fd`) so a SIGCHLD or SIGTERM is
handled in the loop, never inside a signal handler.

Plain file descriptors (a supervisor's job pipes: two per job) wait in an epoll (kqueue
on macOS) of their own, which the zmq poller watches as one descriptor. A zmq poll costs
time in proportion to what it watches, at every wake: 15 µs with 100 pipes, 66 µs with
1,000, and removing one pipe 74 µs. Through the epoll a wake costs 5 µs whatever the
number, and adding or removing a pipe next to nothing. A reader must be removed before
its descriptor is closed: epoll would otherwise keep watching the pipe through another
process's copy of it (root keeps one of every job's), and wake for it at once, forever;
a loop that wakes for none of its descriptors makes a new epoll, with a warning.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable, Iterator

import zmq

Handler = Callable[[], None]

log = logging.getLogger(__name__)


class Timer:
    """A pending call; `cancel()` makes the loop skip it."""

    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when: float, callback: Handler):
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        # It stays in the heap until its time comes (a grace period: a minute); what
        # the callback holds need not stay with it.
        self.callback = _nothing


class EventLoop:
    """Waits on sockets, fds, signals and timers; calls their handlers one at a time."""

    def __init__(self) -> None:
        self._poller = zmq.Poller()
        self._fds = selectors.DefaultSelector()  # epoll or kqueue: it has a fileno()
        self._fds_ready = self._fds.fileno()  # readable when one of them is
        self._poller.register(self._fds_ready, zmq.POLLIN)
        self._handlers: dict[object, Handler] = {}
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self._signal_handlers: dict[int, Callable[[int], None]] = {}
        self._signal_reader: socket.socket | None = None
        self._signal_writer: socket.socket | None = None
        self.running = False
        self._stopped = False

    # ---- registration ------------------------------------------------------------------

    def add_reader(self, source: zmq.Socket | int, handler: Handler) -> None:
        """Call `handler` whenever `source` (a zmq socket or an fd) is readable."""
        if isinstance(source, int):
            if source in self._fds.get_map():  # watch the file the number names now
                self._fds.unregister(source)
            self._fds.register(source, selectors.EVENT_READ)
        else:
            self._poller.register(source, zmq.POLLIN)
        self._handlers[source] = handler  # once watched: a refused fd leaves no trace

    def remove_reader(self, source: zmq.Socket | int) -> None:
        if self._handlers.pop(source, None) is None:
            return
        if isinstance(source, int):
            with contextlib.suppress(KeyError):  # closed, and dropped by _forget_closed_fds
                self._fds.unregister(source)
        else:
            self._poller.unregister(source)

    def call_later(self, delay: float, callback: Handler) -> Timer:
        return self.call_at(time.monotonic() + max(0.0, delay), callback)

    def call_at(self, when: float, callback: Handler) -> Timer:
        timer = Timer(when, callback)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        return timer

    def on_signal(self, signum: int, handler: Callable[[int], None]) -> None:
        """Handle `signum` inside the loop rather than in a signal handler."""
        if self._signal_reader is None:
            self._signal_reader, self._signal_writer = socket.socketpair()
            for end in (self._signal_reader, self._signal_writer):
                end.setblocking(False)
            signal.set_wakeup_fd(self._signal_writer.fileno(), warn_on_full_buffer=False)
            self.add_reader(self._signal_reader.fileno(), self._drain_signals)
        self._signal_handlers[signum] = handler
        # A Python-level handler is what makes the interpreter write to the wakeup fd.
        signal.signal(signum, _note_signal)

    def _drain_signals(self) -> None:
        assert self._signal_reader is not None
        try:
            data = self._signal_reader.recv(4096)
        except BlockingIOError:
            return
        for signum in dict.fromkeys(data):  # a burst of one signal is handled once
            handler = self._signal_handlers.get(signum)
            if handler is not None:
                handler(signum)

    # ---- running -----------------------------------------------------------------------

    def run(self) -> None:
        """Run until `stop()` is called."""
        self.running = True
        self._stopped = False
        while self.running:
            self.run_once()

    def run_once(self, max_wait: float | None = None) -> None:
        timeout = self._next_timeout(max_wait)
        try:
            ready = self._poller.poll(timeout)
        except zmq.error.InterruptedSystemCall:  # a signal; its handler has run
            ready = []
        for source, _ in ready:
            if source == self._fds_ready:
                self._run_ready_fds()
                continue
            handler = self._handlers.get(source)
            if handler is not None:
                handler()
        if not self._stopped:  # once stopped, no timer may start anything more
            self._run_due_timers()

    def _run_ready_fds(self) -> None:
        ready = self._fds.select(0)
        if not ready:
            self._forget_closed_fds()
        for key, _ in ready:
            handler = self._handlers.get(key.fd)  # None: removed by an earlier handler
            if handler is not None:
                handler()

    def _forget_closed_fds(self) -> None:
        """The epoll woke for none of ours: a descriptor was closed before its reader was
        removed, and another process's copy of its pipe keeps the epoll's entry alive,
        which no call can remove now. A new epoll with what we watch drops it; without
        that the loop would wake at once, forever."""
        log.warning("a descriptor was closed while watched; watching the others afresh")
        watched = [key.fd for key in self._fds.get_map().values()]
        self._poller.unregister(self._fds_ready)
        self._fds.close()
        self._fds = selectors.DefaultSelector()
        self._fds_ready = self._fds.fileno()
        self._poller.register(self._fds_ready, zmq.POLLIN)
        for fd in watched:
            with contextlib.suppress(OSError, ValueError):  # closed too: nothing to watch
                self._fds.register(fd, selectors.EVENT_READ)

    def stop(self) -> None:
        self.running = False
        self._stopped = True

    def _next_timeout(self, max_wait: float | None) -> int | None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        waits = [] if max_wait is None else [max_wait]
        if self._timers:
            waits.append(self._timers[0][0] - time.monotonic())
        if not waits:
            return None  # nothing scheduled: sleep until something happens
        return max(0, int(min(waits) * 1000) + 1)

    def _run_due_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.cancelled = True
                timer.callback()

    def close(self) -> None:
        self._poller.unregister(self._fds_ready)
        self._fds.close()
        if self._signal_writer is not None:
            signal.set_wakeup_fd(-1)
            self._signal_writer.close()
        if self._signal_reader is not None:
            self._signal_reader.close()


def _nothing() -> None:
    """What a cancelled timer calls: nothing."""


def _note_signal(signum: int, frame: object) -> None:
    """Does nothing: the wakeup fd already carries the signal number to the loop."""


def pending(sock: zmq.Socket, multipart: bool = False) -> Iterator:
    """Every message already waiting on `sock`, without blocking."""
    while True:
        try:
            yield sock.recv_multipart(zmq.NOBLOCK) if multipart else sock.recv(zmq.NOBLOCK)
        except zmq.Again:
            return


def close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
