"""The data of every event on the bus: one record per kind of event, named by its topic.

A publisher hands `publish` a record; `checked` refuses one that is not the topic's, so
no event goes out in a shape of its own. A subscriber inside the daemon reads the data
back with `event_record`, which checks it at the door. Outside clients (the CLI, the
REST event stream, anyone's SUB socket) see the same maps, as the README describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procclaw import protocol
from procclaw.job_facts import JobExited, JobFacts
from procclaw.reports import HealthReport
from procclaw.wire_record import WireRecord


@dataclass(frozen=True, slots=True)
class ActorEvent(WireRecord):
    """`actor.<name>.up|down`; `status` says how a dead actor ended."""

    name: str
    kind: str
    pid: int | None
    restarts: int
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduleRun(WireRecord):
    """`schedule.<id>.fired|skipped`: a due time handed over, and what came of it."""

    job: str
    due: float  # wall clock
    due_at: str  # the same, in the job's time zone (ISO 8601)
    outcome: str  # fired | queued | restarted | skipped
    reason: str


@dataclass(frozen=True, slots=True)
class ScheduleMissed(WireRecord):
    """`schedule.<id>.missed`: due times that went by unrun, the latest at `due`."""

    job: str
    due: float
    due_at: str
    missed: int
    reason: str


@dataclass(frozen=True, slots=True)
class JobPause(WireRecord):
    """`job.<id>.paused|resumed`: held down by `pause` (since when), or let go."""

    job: str
    paused: bool
    since: float | None


@dataclass(frozen=True, slots=True)
class ConfigReloaded(WireRecord):
    """`config.reloaded`: which jobs the new config added, removed and changed, and
    what was done about each (`actions`) or failed (`errors`), by job."""

    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: list[str]
    actions: dict[str, str]
    errors: dict[str, str]


@dataclass(frozen=True, slots=True)
class Probe(WireRecord):
    """`bus.probe.<token>`: tells a subscriber its subscription is live."""


_JOB = {"exited": JobExited, "health": HealthReport, "paused": JobPause, "resumed": JobPause}
_SCHEDULE = {"missed": ScheduleMissed}


def record_for(topic: str) -> type[WireRecord]:
    """The record type of the events published on `topic`."""
    family, _, rest = topic.partition(".")
    event = protocol.event_type(topic)
    if topic == protocol.CONFIG_RELOADED:
        return ConfigReloaded
    if topic.startswith(protocol.probe_topic("")):
        return Probe
    if family == "job" and rest:
        return _JOB.get(event, JobFacts)
    if family == "schedule" and rest:
        return _SCHEDULE.get(event, ScheduleRun)
    if family == "actor" and rest:
        return ActorEvent
    raise ValueError(f"no event is published on {topic!r}")


def checked(topic: str, record: WireRecord) -> dict[str, Any]:
    """`record` as the data of an event on `topic`; TypeError if it is not the topic's
    kind (a bug in the publisher, never the user's doing)."""
    expected = record_for(topic)
    if type(record) is not expected:
        raise TypeError(f"{topic} carries {expected.__name__}, not {type(record).__name__}")
    return record.to_wire()


def event_record(event: protocol.Event) -> WireRecord:
    """The data of `event` as its record; ProtocolError if it is not one."""
    try:
        expected = record_for(event.topic)
    except ValueError as exc:
        raise protocol.ProtocolError(protocol.ErrorCode.BAD_REQUEST, str(exc)) from None
    return expected.from_wire(event.data)
