"""Placing jobs in supervisors: which one holds a job, and telling root, in batches.

A job with `isolate: true` gets a supervisor of its own; any other goes to one of the
pool's `daemon.supervisors` members (default: one per CPU core, at least two), always
the same one for the same job (a stable hash of its id), so a job started again while
its last run is still being let go lands where its pipes are. Members are named after
the daemon (`sup-<root pid>-<n>`): a supervisor left running by a daemon that died
keeps its name and socket, and the next daemon's pool never collides with it.

Every placement asked for in one turn of the controller's loop goes to root in one
`supervise` request, sent without waiting. A placement root did not answer is sent
again (root takes a repeat as the same placement); one root refused is handed to
`on_refused`. The controller records each job as `starting` before it is placed, so a
controller restarted meanwhile places again what root never got.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable

from actors.runtime.async_calls import NOT_ANSWERING, AsyncCalls
from actors.runtime.loop import EventLoop, Timer
from actors.supervisor.actor import isolated_supervisor_name
from procclaw import protocol
from procclaw.config import Config, JobConfig
from procclaw.placement import Placement

MIN_POOL = 2
# Root answers at once unless it is busy forking many supervisors.
PLACE_TIMEOUT = 5.0
# A request stays well under what root accepts (protocol.MAX_MESSAGE_BYTES), however
# large the jobs' configs.
MAX_REQUEST_BYTES = protocol.MAX_MESSAGE_BYTES // 4

log = logging.getLogger("procclaw.controller")


class JobPlacer:
    def __init__(self, daemon_id: str, loop: EventLoop, calls: AsyncCalls):
        self._tag = daemon_id.partition("-")[0]  # root's pid
        self.size = default_pool_size()
        self._loop = loop
        self._calls = calls
        self._batch: list[Placement] = []
        self._flush: Timer | None = None
        # Set by the controller: whether a sent placement is still wanted, and what to
        # do with those root refused (code, message).
        self.still_wanted: Callable[[Placement], bool] = lambda _p: True
        self.on_refused: Callable[[list[Placement], str], None] = lambda _b, _m: None

    def configure(self, config: Config) -> None:
        self.size = config.settings.daemon.supervisors or default_pool_size()

    def supervisor_for(self, job: JobConfig) -> str:
        if job.isolate:
            return isolated_supervisor_name(job.id)
        member = zlib.crc32(job.id.encode()) % self.size
        return f"sup-{self._tag}-{member}"

    def place(self, placement: Placement) -> None:
        """Send this placement to root with every other one of this turn of the loop."""
        self._batch.append(placement)
        if self._flush is None:
            self._flush = self._loop.call_later(0, self._send)

    def _send(self) -> None:
        self._flush = None
        batch, self._batch = self._batch, []
        chunk: list[Placement] = []
        size = 0
        for placement in batch:
            placement_size = len(protocol.encode(placement.to_wire()))
            if chunk and size + placement_size > MAX_REQUEST_BYTES:
                self._send_batch(chunk)
                chunk, size = [], 0
            chunk.append(placement)
            size += placement_size
        if chunk:
            self._send_batch(chunk)

    def _send_batch(self, batch: list[Placement]) -> None:
        batch = [placement for placement in batch if self.still_wanted(placement)]
        if not batch:
            return

        def failed(code: str, message: str) -> None:
            if code == NOT_ANSWERING:
                log.warning("root did not take %d placements in time; sending again", len(batch))
                self._send_batch(batch)
            else:
                self.on_refused(batch, message)

        placements = [placement.to_wire() for placement in batch]
        self._calls.call(
            "daemon",
            "supervise",
            {"placements": placements},
            lambda _r: None,
            failed,
            PLACE_TIMEOUT,
        )


def default_pool_size() -> int:
    return max(MIN_POOL, os.cpu_count() or 1)
