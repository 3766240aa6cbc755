"""What deserves an alert, and how it reads: in a chat message and in the agent's memory.

The bus events that raise one:
- `job.<id>.failed`: retries exhausted (or a manual run failed); a `reason` starting
  with "dependency" is a dependency that did not become ready in time;
- `job.<id>.health` with `healthy: false` (went unhealthy) or `true` (recovered);
- `schedule.<id>.missed`: a scheduled run that did not happen;
- `job.<id>.exited` of a run that crashed, and `job.<id>.running` of a job started again
  by its retry policy (procclaw/rules/crash_notice.py says which ones).
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from procclaw import protocol
from procclaw.bus_events import ScheduleMissed
from procclaw.cli.render import format_duration
from procclaw.config import JobConfig
from procclaw.config.job_wire import AlertedJob
from procclaw.job_facts import JobExited, JobFacts
from procclaw.reports import HealthReport
from procclaw.rules.crash_notice import is_crash, is_restart
from procclaw.wire_record import WireRecord

_HEADINGS = {
    "failed": "failed",
    "dependency_timeout": "gave up waiting for a dependency",
    "unhealthy": "is unhealthy",
    "recovered": "is healthy again",
    "missed": "missed a scheduled run",
    "crash": "crashed",
    "restart": "was restarted",
    "limit": "went over its memory limit and is being restarted",
    # Noted in the agent's memory, never sent: a person did it, and knows.
    "paused": "was paused (held down until `procclaw resume`)",
    "resumed": "was resumed",
}
# The events the memory notes but no channel is sent.
NOTED_EVENTS = ("paused", "resumed")


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


def alert_for(
    topic: str, record: WireRecord, at: float, jobs: Mapping[str, JobConfig | AlertedJob]
) -> Alert | None:
    """The alert a bus event (its topic and its data, procclaw/bus_events.py) raises, or
    None when it raises none. `jobs` are the configs known: a job missing from them
    (just added, or gone) is judged as a manual job."""
    if isinstance(record, HealthReport):
        return Alert(record.job, "recovered" if record.healthy else "unhealthy", at, record.reason)
    if isinstance(record, ScheduleMissed):
        return Alert(record.job, "missed", at, record.reason or f"run due at {record.due_at}")
    if isinstance(record, JobExited):
        job = jobs.get(record.job)
        kind, restart = (job.type, job.restart) if job else ("manual", "always")
        if not is_crash(record, kind, restart):
            return None
        return Alert(record.job, "crash", at, record.last_exit, record.restarts)
    if not isinstance(record, JobFacts):
        return None
    event = protocol.event_type(topic)
    if event == "running" and is_restart(record):
        return Alert(record.job, "restart", at, record.last_exit, record.restarts)
    if event == "limit":
        return Alert(record.job, "limit", at, record.reason, record.restarts)
    if event == "failed":
        reason = record.reason
        kind = "dependency_timeout" if (reason or "").startswith("dependency") else "failed"
        return Alert(record.job, kind, at, reason or record.last_exit, record.restarts)
    return None
