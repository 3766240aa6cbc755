"""What deserves an alert, and how it reads: in a chat message and in the agent's memory.

The bus events that raise one:
- `job.<id>.failed`: retries exhausted (or a manual run failed); a `reason` starting
  with "dependency" is a dependency that did not become ready in time;
- `job.<id>.health` with `healthy: false` (went unhealthy) or `true` (recovered);
- `schedule.<id>.missed`: a scheduled run that did not happen.
"""

from __future__ import annotations

import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from procclaw.cli.render import format_duration

_HEADINGS = {
    "failed": "failed",
    "dependency_timeout": "gave up waiting for a dependency",
    "unhealthy": "is unhealthy",
    "recovered": "is healthy again",
    "missed": "missed a scheduled run",
}


@dataclass(frozen=True)
class Alert:
    """One notable event of one job, or (`folded` > 0) a summary of several."""

    job: str
    kind: str  # one of procclaw.config.models.ALERT_EVENTS
    at: float
    reason: str | None = None
    restarts: int | None = None
    folded: Counter[str] = field(default_factory=Counter)
    window: float = 0.0

    @property
    def heading(self) -> str:
        """`job backup failed`: the memory entry's title and the message's first words."""
        if self.folded:
            count = sum(self.folded.values())
            return f"job {self.job}: {count} more alert{'s' if count != 1 else ''}"
        return f"job {self.job} {_HEADINGS[self.kind]}"

    def details(self) -> list[str]:
        """The facts worth a line each, in the order a person reads them."""
        lines = []
        if self.folded:
            kinds = ", ".join(f"{kind} ×{n}" for kind, n in sorted(self.folded.items()))
            lines.append(f"in the last {format_duration(self.window)}: {kinds}")
            lines.append(f"latest: {_HEADINGS[self.kind]}")
        if self.reason:
            lines.append(f"reason: {self.reason}")
        if self.restarts:
            lines.append(f"restarts: {self.restarts}")
        return lines

    def message(self, host: str | None = None) -> str:
        """The chat message: one line that says it all, then the details."""
        first = f"ProcClaw ({host or socket.gethostname()}): {self.heading}"
        return "\n".join([first, *self.details(), f"see: procclaw status {self.job}"])


def alert_for(topic: str, data: dict[str, Any], at: float) -> Alert | None:
    """The alert a bus event raises, or None when it raises none."""
    family, _, rest = topic.partition(".")
    job, _, event = rest.rpartition(".")
    if not job:
        return None
    reason = _text(data.get("reason"))
    if family == "job" and event == "failed":
        kind = "dependency_timeout" if (reason or "").startswith("dependency") else "failed"
        reason = reason or _text(data.get("last_exit"))
        restarts = data.get("restarts") if isinstance(data.get("restarts"), int) else None
        return Alert(job, kind, at, reason, restarts)
    if family == "job" and event == "health" and isinstance(data.get("healthy"), bool):
        return Alert(job, "recovered" if data["healthy"] else "unhealthy", at, reason)
    if family == "schedule" and event == "missed":
        return Alert(job, "missed", at, reason or _due(data))
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _due(data: dict[str, Any]) -> str | None:
    """The run that was missed, in whichever field the scheduler put it."""
    for key in ("due", "scheduled_for", "fire_time", "at"):
        if data.get(key) is not None:
            return f"run due at {data[key]}"
    return None
