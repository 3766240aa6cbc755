"""Blocking calls (a subprocess, an HTTP request) run on worker threads, their results
handed back on the actor's event loop.

A worker that finishes puts its result on a queue and writes a byte to a pipe the loop
watches, so the loop wakes for it at once and never polls. Callbacks run in the loop's
thread only: the actor's state is never touched from a worker.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from actors.runtime.loop import EventLoop
from procclaw.wakeup import Wakeup

log = logging.getLogger(__name__)

Done = Callable[[Any, BaseException | None], None]


class BlockingCalls:
    def __init__(self, loop: EventLoop, workers: int, name: str):
        self._loop = loop
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._finished: queue.SimpleQueue[tuple[Done, Future]] = queue.SimpleQueue()
        self._wakeup = Wakeup()
        loop.add_reader(self._wakeup.fileno(), self._drain)

    def submit(self, call: Callable[[], Any], done: Done) -> None:
        """Run `call()` on a worker; then `done(result, None)` or `done(None, error)`."""
        future = self._pool.submit(call)
        future.add_done_callback(lambda finished: self._hand_back(done, finished))

    def _hand_back(self, done: Done, future: Future) -> None:
        self._finished.put((done, future))
        self._wakeup.set()  # a no-op once closed: the actor wants no more results

    def _drain(self) -> None:
        self._wakeup.clear()
        while True:
            try:
                done, future = self._finished.get_nowait()
            except queue.Empty:
                return
            error = future.exception()
            try:
                done(None if error else future.result(), error)
            except Exception:
                log.exception("handling the result of a blocking call failed")

    def close(self) -> None:
        """Stop taking calls; the ones running finish on their own (each is bounded)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._loop.remove_reader(self._wakeup.fileno())
        self._wakeup.close()
