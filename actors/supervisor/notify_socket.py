"""A job's NOTIFY_SOCKET: the datagram socket a program speaking sd_notify writes to.

Bound by the job's supervisor at `run/notify-<job>.sock` before the job is spawned, so
the job can never write to it too early; a replacement supervisor binds it again. The
directory is private to the user, so only the user's own processes can send. Messages
are what sd_notify(3) sends: newline-separated `KEY=VALUE` assignments, of which we
use `READY=1`, `WATCHDOG=1` and `STATUS=...`.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass, fields
from typing import Any

from procclaw.config import JobConfig
from procclaw.home import Home
from procclaw.job_facts import JobFacts

# sd_notify messages are small; systemd itself reads at most a page of them.
MAX_DATAGRAM = 4096
MAX_STATUS = 200


def uses_notify_socket(job: JobConfig) -> bool:
    return job.ready == "notify" or job.health_check.type == "watchdog"


def notify_socket_path(home: Home, job_id: str) -> str:
    return str(home.socket_file(f"notify-{job_id}"))


def parse_notification(data: bytes) -> dict[str, str]:
    """The assignments of one datagram; lines that are not KEY=VALUE are ignored."""
    found = {}
    for line in data.decode(errors="replace").split("\n"):
        key, sep, value = line.partition("=")
        if sep and key:
            found[key] = value[:MAX_STATUS] if key == "STATUS" else value
    return found


@dataclass
class Notices:
    """What the job said on its NOTIFY_SOCKET in its current run: facts of the job."""

    ready: bool = False  # READY=1
    status_text: str | None = None  # the last STATUS=...
    watchdog_at: float | None = None  # wall clock of the last WATCHDOG=1

    @classmethod
    def resumed(cls, facts: JobFacts) -> Notices:
        return cls(**{item.name: getattr(facts, item.name) for item in fields(cls)})

    def facts(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def absorb(self, message: dict[str, str], now: float) -> tuple[bool, bool]:
        """Take one message: (whether a reported fact changed, whether it became ready)."""
        if message.get("WATCHDOG") == "1":
            self.watchdog_at = now
        changed = became_ready = False
        if "STATUS" in message and message["STATUS"] != self.status_text:
            self.status_text, changed = message["STATUS"], True
        if message.get("READY") == "1" and not self.ready:
            self.ready = changed = became_ready = True
        return changed, became_ready


class NotifySocket:
    """The bound socket; `receive()` returns every datagram waiting, parsed."""

    def __init__(self, path: str):
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # left by a supervisor that died: ours to replace
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._socket.setblocking(False)
        self._socket.bind(path)

    def fileno(self) -> int:
        return self._socket.fileno()

    def receive(self) -> list[dict[str, str]]:
        messages = []
        while True:
            try:
                data = self._socket.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return messages
            messages.append(parse_notification(data))

    def close(self) -> None:
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
