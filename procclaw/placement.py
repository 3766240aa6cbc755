"""The record that places a job in a supervisor, from the controller through root.

The controller sends root `supervise {placements: [...]}`; root keeps each one with the
job's pipes and hands it to the supervisor in a `take` (actors/runtime/supervisor_channel.py);
a replacement supervisor gets the same record with `resume` set to the facts its
predecessor last told root. One definition, checked where it enters a process.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from procclaw.protocol import ErrorCode, ProtocolError


@dataclass(frozen=True)
class Placement:
    job: str
    supervisor: str  # the actor that holds it
    config: dict[str, Any]  # the job's config in wire form (procclaw/config/job_wire.py)
    generation: int  # which placement of the job this is: older reports are ignored
    isolated: bool = False  # a supervisor of its own, gone once the job is at rest
    stop_after: tuple[str, ...] = ()  # at daemon stop, these jobs stop before this one
    restarts: int = 0  # counted so far, carried across placements
    last_exit: str | None = None
    resume: dict[str, Any] = field(default_factory=dict)  # a dead holder's last facts

    def to_wire(self) -> dict[str, Any]:
        """As a map for msgpack (sharing `config` and `resume`: copying them for each of a
        thousand placements cost more than everything else a start does)."""
        data = {item.name: getattr(self, item.name) for item in _FIELD_LIST}
        data["stop_after"] = list(self.stop_after)
        return data

    @classmethod
    def from_wire(cls, data: Any) -> Placement:
        """The record in `data`; ProtocolError if it is not one."""
        if not isinstance(data, dict) or set(data) - _FIELDS:
            raise ProtocolError(ErrorCode.BAD_REQUEST, f"not a placement: {_keys(data)}")
        try:
            placement = cls(**{**data, "stop_after": tuple(data.get("stop_after") or ())})
        except TypeError as exc:
            raise ProtocolError(ErrorCode.BAD_REQUEST, f"not a placement: {exc}") from None
        if not all(
            (
                isinstance(placement.job, str),
                isinstance(placement.supervisor, str),
                isinstance(placement.config, dict),
                isinstance(placement.generation, int),
                isinstance(placement.restarts, int),
                isinstance(placement.resume, dict),
                all(isinstance(job, str) for job in placement.stop_after),
            )
        ):
            raise ProtocolError(
                ErrorCode.BAD_REQUEST, f"malformed placement of {data.get('job')!r}"
            )
        return placement

    def resumed(self, facts: dict[str, Any]) -> Placement:
        """The same placement for a replacement that carries on from `facts`."""
        return replace(self, resume=facts)


_FIELD_LIST = fields(Placement)
_FIELDS = frozenset(item.name for item in _FIELD_LIST)


def _keys(data: Any) -> str:
    return ", ".join(sorted(map(str, data))) if isinstance(data, dict) else type(data).__name__
