"""Notes in the OpenClaw agent's daily memory file, `<workspace>/memory/YYYY-MM-DD.md`.

The agent and the person write to the same file, so each entry is appended with one
`write(2)` on an O_APPEND descriptor: it lands whole at the end, never between someone
else's lines. `MEMORY.md`, the agent's curated long-term memory, is never touched.
A workspace that does not exist means OpenClaw is not set up here: nothing is created.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from procclaw.openclaw.alerts import Alert


class WorkspaceMissing(Exception):
    """The workspace directory does not exist, so there is no agent to remember this."""


def memory_entry(alert: Alert, now: datetime) -> str:
    """`### 14:02 ProcClaw: job backup failed`, then a bullet per detail."""
    bullets = [f"- {line}" for line in alert.details()]
    bullets.append(f"- see: `procclaw status {alert.job}`")
    return "\n".join([f"### {now:%H:%M} ProcClaw: {alert.heading}", *bullets]) + "\n"


class MemoryLog:
    """Appends entries to today's memory file of one workspace; `now` is the clock."""

    def __init__(self, workspace: Path, now: Callable[[], datetime] = datetime.now):
        self.workspace = workspace
        self.now = now

    def day_file(self, when: datetime) -> Path:
        return self.workspace / "memory" / f"{when:%Y-%m-%d}.md"

    def append(self, alert: Alert) -> Path:
        """Write the entry for `alert`; returns the file. OSError if it cannot be written."""
        if not self.workspace.is_dir():
            raise WorkspaceMissing(f"OpenClaw workspace {self.workspace} does not exist")
        when = self.now()
        path = self.day_file(when)
        path.parent.mkdir(exist_ok=True)
        # A blank line before every entry, in the same write: deciding by the file's size
        # first would race with another writer appending at the same moment.
        entry = b"\n" + memory_entry(alert, when).encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            written = os.write(fd, entry)
            if written < len(entry):  # only on a full disk or a signal; finish it
                os.write(fd, entry[written:])
        finally:
            os.close(fd)
        return path
