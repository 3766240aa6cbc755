"""`logs/daemon.audit.log`: one line per state-changing command, who asked and how it went.

Lines are `key=value` pairs after a UTC timestamp, written with a single append each so
lines from concurrent writers never interleave:

    2026-11-22T10:15:02.113Z cmd=stop job=api caller=cli result=ok
"""

from __future__ import annotations

import os
import time
from pathlib import Path


class AuditLog:
    def __init__(self, path: Path):
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def record(self, cmd: str, job: str | None, caller: str, result: str) -> None:
        self.record_many(cmd, caller, {job: result})

    def record_many(self, cmd: str, caller: str, results: dict[str | None, str]) -> None:
        """One line per job, all in one write: a command for a thousand jobs costs one
        system call, not a thousand."""
        now = time.time()
        stamp = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        )
        lines = []
        for job, result in results.items():
            fields = {"cmd": cmd, "job": job or "-", "caller": caller, "result": result}
            line = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
            lines.append(f"{stamp} {line}\n")
        os.write(self._fd, "".join(lines).encode())

    def close(self) -> None:
        os.close(self._fd)


def _quote(value: str) -> str:
    """Keep one record on one line and unambiguous to split."""
    if value and not any(c.isspace() or c in '"=' for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
