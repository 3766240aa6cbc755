"""`logs/daemon.audit.log`: one line per state-changing command, who asked and how it went.

Lines are `key=value` pairs after a UTC timestamp, written with a single append each so
lines from concurrent writers never interleave:

    2026-11-22T10:15:02.113Z cmd=stop job=api caller=cli result=ok
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger("procclaw.audit")


class AuditLog:
    def __init__(self, path: Path):
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._failed: set[int | None] = set()  # errnos already logged

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
        try:
            os.write(self._fd, "".join(lines).encode())
        except OSError as exc:
            # The command was carried out: a lost audit line must not make it look failed
            # (a script would retry it, and run a job twice).
            if exc.errno not in self._failed:
                log.error(
                    "%s: cannot write (%s); commands are carried out unaudited", self.path, exc
                )
            self._failed.add(exc.errno)
        else:
            self._failed.clear()

    def close(self) -> None:
        os.close(self._fd)


def _quote(value: str) -> str:
    """Keep one record on one line and unambiguous to split."""
    if value and not any(c.isspace() or c in '"=' for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
