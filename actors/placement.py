"""Which supervisor holds a job: its own with `isolate: true`, else one of the pool.

The pool has `daemon.supervisors` members (default: one per CPU core, at least two).
A job always goes to the same member (a stable hash of its id), so a job started
again while its last run is still being let go lands where its pipes are. Members
are named after the daemon (`sup-<root pid>-<n>`): a supervisor left running by a
daemon that died keeps its name and socket, and the next daemon's pool never
collides with it.
"""

from __future__ import annotations

import os
import zlib

from actors.supervisor import isolated_supervisor_name
from procclaw.config import Config, JobConfig

MIN_POOL = 2


class Placement:
    def __init__(self, daemon_id: str):
        self._tag = daemon_id.partition("-")[0]  # root's pid
        self.size = default_pool_size()

    def configure(self, config: Config) -> None:
        self.size = config.settings.daemon.supervisors or default_pool_size()

    def supervisor_for(self, job: JobConfig) -> str:
        if job.isolate:
            return isolated_supervisor_name(job.id)
        member = zlib.crc32(job.id.encode()) % self.size
        return f"sup-{self._tag}-{member}"


def default_pool_size() -> int:
    return max(MIN_POOL, os.cpu_count() or 1)
