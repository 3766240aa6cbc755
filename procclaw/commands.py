"""The arguments of every command, one record each, per endpoint.

A command server takes its endpoint's table: the commands it accepts are its keys, and
a request's `args` become the command's record before a handler sees them, so a
missing job name or a `force: "yes"` is refused at the door with a clear reply. The
tables match the command lists of procclaw/protocol.py (tests/test_protocol.py checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procclaw.placement import Placement
from procclaw.protocol import ProtocolError
from procclaw.wire_record import RecordError, WireRecord


@dataclass(frozen=True, slots=True)
class NoArgs(WireRecord):
    """The command takes no arguments."""


@dataclass(frozen=True, slots=True)
class JobArgs(WireRecord):
    job: str


@dataclass(frozen=True, slots=True)
class JobEditArgs(WireRecord):
    """`add` (with the job's drop-in `text`; `source` names where it came from in
    problems), `remove`, `enable` or `disable` one job."""

    job: str
    text: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class StartArgs(WireRecord):
    """A supervisor's `start` of a job in backoff, and why (procclaw/run.py CAUSES)."""

    job: str
    cause: str = ""


@dataclass(frozen=True, slots=True)
class RunsArgs(WireRecord):
    """A job's finished runs, the latest first."""

    job: str
    limit: int = 10


@dataclass(frozen=True, slots=True)
class StopArgs(WireRecord):
    job: str
    force: bool = False  # SIGKILL at once, without the grace period


@dataclass(frozen=True, slots=True)
class ManyArgs(WireRecord):
    """Several jobs at once (`start_many`, `stop_many`, `restart_many`)."""

    jobs: list[str]
    force: bool = False


@dataclass(frozen=True, slots=True)
class ListArgs(WireRecord):
    jobs: list[str] | None = None  # only these, in config order; all when absent
    # Only these keys of each job's summary (and its id): an actor that follows every
    # job asks for what it uses, not the whole summary of hundreds.
    fields: list[str] | None = None


@dataclass(frozen=True, slots=True)
class ConfigArgs(WireRecord):
    """The applied config; with `parts`, only those keys of each job's config (and its
    id), without the settings."""

    parts: list[str] | None = None


@dataclass(frozen=True, slots=True)
class ReportArgs(WireRecord):
    reports: list[dict[str, Any]]  # each one of procclaw/reports.py, checked one by one


@dataclass(frozen=True, slots=True)
class Fire(WireRecord):
    """A due time the scheduler reached: run it (or `late`, `catchup`), or `mark` it."""

    job: str
    due: float
    action: str = "run"


@dataclass(frozen=True, slots=True)
class FireArgs(WireRecord):
    fires: list[Fire]


@dataclass(frozen=True, slots=True)
class ProbeArgs(WireRecord):
    token: str


@dataclass(frozen=True, slots=True)
class SuperviseArgs(WireRecord):
    placements: list[Placement]


@dataclass(frozen=True, slots=True)
class ReapedArgs(WireRecord):
    pid: int


@dataclass(frozen=True, slots=True)
class NeedArgs(WireRecord):
    """The on-demand actors the applied config needs (procclaw/rules/needed_actors.py),
    and the API's address, which root holds until the gateway's first client."""

    actors: list[str]
    api_host: str
    api_port: int


@dataclass(frozen=True, slots=True)
class HeldJobsArgs(WireRecord):
    """A supervisor command for one job it holds (`job`) or several (`jobs`)."""

    job: str | None = None
    jobs: list[str] | None = None
    force: bool = False
    cause: str = ""  # restart: why the job starts again (procclaw/run.py CAUSES)


@dataclass(frozen=True, slots=True)
class UnhealthyArgs(WireRecord):
    job: str
    reason: str = "health check failed"


@dataclass(frozen=True, slots=True)
class RetireArgs(WireRecord):
    jobs: list[str]


@dataclass(frozen=True, slots=True)
class BusKeyArgs(WireRecord):
    """A new daemon's bus key, for a supervisor it adopted (procclaw/bus_seal.py)."""

    key: str


@dataclass(frozen=True, slots=True)
class TakeArgs(WireRecord):
    """Jobs root hands a supervisor on its channel, four pipe ends each attached."""

    jobs: list[dict[str, Any]]  # placements, each checked alone: a bad one spoils no other


@dataclass(frozen=True, slots=True)
class ActorWord(WireRecord):
    """What an actor tells root on its PUSH socket: `hello`, `heartbeat` or `bye`."""

    cmd: str
    name: str
    kind: str
    pid: int
    facts: dict[str, Any]  # for `daemon status`; a supervisor's word on its jobs


@dataclass(frozen=True, slots=True)
class Spawn(WireRecord):
    """Root asks the zygote for an actor (actors/runtime/zygote.py)."""

    token: str  # `<name>/<random>`: the reply carries it back
    kind: str
    name: str
    home: str
    daemon_id: str
    log_level: str
    args: dict[str, Any]
    job_umask: int  # the umask the daemon was started with: jobs get it, not ours
    bus_key: str  # seals the actor's events (procclaw/bus_seal.py)


@dataclass(frozen=True, slots=True)
class Spawned(WireRecord):
    """The zygote's answer: the actor's pid, or why there is none."""

    token: str | None
    pid: int | None = None
    error: str | None = None


CommandArgs = dict[str, type[WireRecord]]

CONTROLLER_ARGS: CommandArgs = {
    "ping": NoArgs,
    "list": ListArgs,
    "status": JobArgs,
    "config": ConfigArgs,
    "reload": NoArgs,
    "start": JobArgs,
    "stop": StopArgs,
    "restart": JobArgs,
    "start_many": ManyArgs,
    "stop_many": ManyArgs,
    "restart_many": ManyArgs,
    "report": ReportArgs,
    "runs_summary": NoArgs,
    "runs": RunsArgs,
    "api_settings": NoArgs,
    "scheduled": NoArgs,
    "fire": FireArgs,
    "pause": JobArgs,
    "resume": JobArgs,
    "usage": ListArgs,
    "add": JobEditArgs,
    "remove": JobEditArgs,
    "enable": JobEditArgs,
    "disable": JobEditArgs,
}
ROOT_ARGS: CommandArgs = {
    "ping": NoArgs,
    "status": NoArgs,
    "shutdown": NoArgs,
    "probe": ProbeArgs,
    "supervise": SuperviseArgs,
    "held": NoArgs,
    "reaped": ReapedArgs,
    "need": NeedArgs,
}
SUPERVISOR_ARGS: CommandArgs = {
    "state": JobArgs,
    "start": StartArgs,
    "stop": HeldJobsArgs,
    "restart": HeldJobsArgs,
    "unhealthy": UnhealthyArgs,
    "queue": JobArgs,
    "retire": RetireArgs,
    "bus_key": BusKeyArgs,
    "usage": ManyArgs,
}
ALERTER_ARGS: CommandArgs = {"ping": NoArgs, "status": NoArgs}
# Root to a supervisor on their private channel (actors/runtime/supervisor_channel.py).
CHANNEL_ARGS: CommandArgs = {"take": TakeArgs, "stop": RetireArgs}


def command_args(table: CommandArgs, cmd: str, args: dict[str, Any]) -> WireRecord:
    """The record of `cmd`'s `args`; ProtocolError (a bad request) naming what is wrong."""
    try:
        return table[cmd].from_wire(args)
    except RecordError as exc:
        raise ProtocolError(exc.code, f"{cmd}: {exc.why}") from None
