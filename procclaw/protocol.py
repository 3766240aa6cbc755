"""The wire protocol: message shapes, command names, error codes and event topics.

Every message on every ProcClaw socket is a msgpack map with a `v` field. Requests are
`{v, id, cmd, args, caller}`; replies `{v, id, ok: true, result}` or
`{v, id, ok: false, error: {code, message}}`. Events travel as two frames,
`[topic, payload]`, where the payload map carries the publisher (`src`), its own
sequence number (`seq`, so a subscriber can tell it missed one), a timestamp (`ts`) and
the event's `data`.

Nobody else builds a topic string or a message map by hand: they call this module.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import msgpack

from procclaw.suggest import did_you_mean

VERSION = 1

# Requests and events larger than this are refused before decoding: nothing
# legitimate comes close.
MAX_MESSAGE_BYTES = 1 << 20
# A reply grows with the jobs it lists: `list` of 2,000 jobs is about 1 MB and their
# `config` 1.5 MB. Replies come from our own actors, so their cap is only there to stop
# a bogus peer from filling a client's memory.
MAX_REPLY_BYTES = 1 << 26


class ErrorCode:
    """Machine-readable error codes carried in error replies."""

    BAD_REQUEST = "bad_request"
    VERSION_MISMATCH = "version_mismatch"
    UNKNOWN_COMMAND = "unknown_command"
    NO_SUCH_JOB = "no_such_job"
    CONFLICT = "conflict"
    PAUSED = "paused"  # refused: the job is paused until `resume`
    INVALID_CONFIG = "invalid_config"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


# The commands each endpoint accepts: an explicit allowlist, never a name looked up on
# an object at a client's request.
CONTROLLER_COMMANDS = frozenset(
    {
        "ping",  # liveness; answers {"pid": ...}
        "list",  # jobs with their state, as last reported; {jobs, fields} narrow it
        "status",  # one job in detail
        "start",
        "stop",
        "start_many",  # several jobs at once (placed in one batch); answers per job
        "stop_many",  # several jobs, one request per supervisor; answers per job
        "restart_many",
        "restart",
        "reload",  # re-read and apply the config files
        "config",  # the applied config, secrets unresolved; {parts} narrows it
        "report",  # from a supervisor: a job's new state, or a finished run
        "runs_summary",  # finished runs counted per job and result, and their durations
        "runs",  # a job's finished runs, the latest first: times, result, exit, cause
        "api_settings",  # for the gateway: where to listen, and its auth (token unresolved)
        "scheduled",  # from the scheduler: the scheduled jobs and the last due time of each
        "fire",  # from the scheduler: due times reached; each is run, skipped or queued once
        "pause",  # a job is held down (stopped, not started) until `resume`
        "resume",
        "usage",  # CPU and memory of the running jobs, from their supervisors
        "add",  # a job written to jobs.d/<id>.yaml and applied as a reload would
        "remove",  # a job of jobs.d/ deleted, and stopped
        "enable",  # a job's `enabled` switched in jobs.d/.overrides.yaml
        "disable",
    }
)
ROOT_COMMANDS = frozenset(
    {
        "ping",
        "status",  # the daemon and its actors
        "shutdown",  # stop everything in order and exit
        "probe",  # publish bus.probe.<token>: lets a subscriber know its subscription is live
        "supervise",  # from the controller: place jobs in supervisors (many at once)
        "held",  # which jobs each supervisor holds (for a restarted controller)
        "reaped",  # from a supervisor: the exit status of an adopted job root reaped
        "need",  # from the controller: the on-demand actors the applied config needs
    }
)
# Each names its `job`; `stop` may name several (`jobs`) and answers for each.
SUPERVISOR_COMMANDS = frozenset(
    {
        "bus_key",
        "state",
        "start",
        "stop",
        "restart",
        "unhealthy",
        "queue",  # run once more after this run
        "retire",  # from root at daemon stop: stop these jobs for good
        "usage",  # CPU and memory of the running jobs asked for
    }
)
# The alerter: `status` answers its counts (sent, failed, folded; per channel) and the
# latest alerts.
ALERTER_COMMANDS = frozenset({"ping", "status"})
# Sent by actors to root on their private channel; never accepted from a client.
ACTOR_MESSAGES = frozenset({"hello", "heartbeat", "bye"})

CALLERS = frozenset({"cli", "api", "actor", "signal"})


class ProtocolError(Exception):
    """A message that is not a valid ProcClaw message; `code` says which way."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message: dict[str, Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def decode(data: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """Decode one message map, refusing anything malformed or of another version (or
    over `max_bytes`: MAX_REPLY_BYTES for a reply)."""
    if len(data) > max_bytes:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"message too large ({len(data)} bytes)")
    try:
        message = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises a family of unrelated exception types
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"not a msgpack message: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "message is not a map")
    version = message.get("v")
    if version != VERSION:
        raise ProtocolError(
            ErrorCode.VERSION_MISMATCH,
            f"protocol version {version!r} is not supported (this daemon speaks {VERSION}):"
            " upgrade or restart the older side",
        )
    return message


_request_ids = itertools.count(1)


def new_request_id() -> str:
    return f"{os.getpid()}-{next(_request_ids)}"


def request(cmd: str, args: dict[str, Any] | None = None, caller: str = "cli") -> dict[str, Any]:
    return {"v": VERSION, "id": new_request_id(), "cmd": cmd, "args": args or {}, "caller": caller}


class Request(NamedTuple):
    """A validated request: its command is on the endpoint's allowlist, and a command
    server turns `args` into the command's record (procclaw/commands.py)."""

    id: str
    cmd: str
    args: Any
    caller: str


def parse_request(data: bytes, allowed: frozenset[str]) -> Request:
    message = decode(data)
    request_id = message.get("id")
    if not isinstance(request_id, (str, int)):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "request has no id")
    cmd = message.get("cmd")
    if not isinstance(cmd, str) or cmd not in allowed:
        raise ProtocolError(ErrorCode.UNKNOWN_COMMAND, f"unknown command {cmd!r}")
    args = message.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "args must be a map")
    caller = message.get("caller", "cli")
    if caller not in CALLERS:
        caller = "cli"
    return Request(str(request_id), cmd, args, caller)


def request_id_of(data: bytes) -> str | None:
    """Best-effort id of a request that failed to parse, so its error can be matched."""
    try:
        message = msgpack.unpackb(data, raw=False) if len(data) <= MAX_MESSAGE_BYTES else None
    except Exception:  # the data is garbage; there is no id to recover
        return None
    if isinstance(message, dict) and isinstance(message.get("id"), (str, int)):
        return str(message["id"])
    return None


def ok_reply(request_id: str | None, result: Any = None) -> dict[str, Any]:
    return {"v": VERSION, "id": request_id, "ok": True, "result": result}


def error_reply(request_id: str | None, code: str, message: str) -> dict[str, Any]:
    return {
        "v": VERSION,
        "id": request_id,
        "ok": False,
        "error": {"code": code, "message": message},
    }


class CommandError(Exception):
    """Raised by a command handler to send an error reply with a code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# ---- events ---------------------------------------------------------------------------

JOB_EVENTS = frozenset(
    {"starting", "running", "exited", "backoff", "failed", "stopping", "stopped", "completed"}
    | {"waiting", "ready", "health", "heartbeat"}  # dependencies and health checks
    | {"log"}  # its log dropping output, or written again
    | {"limit"}  # over its memory limit: restarted
    | {"paused", "resumed"}  # held down by `pause`, or let go
)
ACTOR_EVENTS = frozenset({"up", "down"})
SCHEDULE_EVENTS = frozenset({"fired", "skipped", "missed"})
CONFIG_RELOADED = "config.reloaded"
# What `events --type` and `/api/v1/events?type=` may ask for: the topic's last part.
EVENT_TYPES = JOB_EVENTS | ACTOR_EVENTS | SCHEDULE_EVENTS | {"reloaded"}


def unknown_event_type(types: Iterable[str]) -> str | None:
    """Why a filter on these event types would never match, or None when all exist."""
    for name in types:
        if name not in EVENT_TYPES:
            known = ", ".join(sorted(EVENT_TYPES))
            return f"unknown event type '{name}'{did_you_mean(name, EVENT_TYPES)}: one of {known}"
    return None


def job_topic(job_id: str, event: str) -> str:
    if event not in JOB_EVENTS:
        raise ValueError(f"unknown job event {event!r}")
    return f"job.{job_id}.{event}"


def actor_topic(actor: str, event: str) -> str:
    if event not in ACTOR_EVENTS:
        raise ValueError(f"unknown actor event {event!r}")
    return f"actor.{actor}.{event}"


def schedule_topic(job_id: str, event: str) -> str:
    if event not in SCHEDULE_EVENTS:
        raise ValueError(f"unknown schedule event {event!r}")
    return f"schedule.{job_id}.{event}"


def probe_topic(token: str) -> str:
    return f"bus.probe.{token}"


def job_prefix(job_id: str) -> str:
    """Subscription prefix for every event of one job."""
    return f"job.{job_id}."


def job_event_prefixes(job_id: str) -> tuple[str, ...]:
    """Subscription prefixes for everything about one job: its own and its schedule's."""
    return (job_prefix(job_id), f"schedule.{job_id}.")


def event_type(topic: str) -> str:
    """What happened, without whom it happened to: `job.api.failed` -> `failed`."""
    return topic.rpartition(".")[2]


class EventSource:
    """Stamps the events of one publisher with its name and a sequence number."""

    def __init__(self, name: str):
        self.name = name
        self._seq = itertools.count(1)

    def frames(self, topic: str, data: dict[str, Any] | None = None) -> list[bytes]:
        payload = {"v": VERSION, "src": self.name, "seq": next(self._seq), "ts": time.time()}
        payload["data"] = data or {}
        return [topic.encode(), encode(payload)]


class Event(NamedTuple):
    topic: str
    src: str
    seq: int
    ts: float
    data: dict[str, Any]


def parse_event(frames: list[bytes]) -> Event:
    if len(frames) != 2:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"event has {len(frames)} frames, not 2")
    payload = decode(frames[1])
    return Event(
        topic=frames[0].decode(errors="replace"),
        src=str(payload.get("src", "")),
        seq=int(payload.get("seq", 0)),
        ts=float(payload.get("ts", 0.0)),
        data=payload.get("data") or {},
    )
