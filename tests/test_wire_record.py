"""Typed records on the wire: a round trip through msgpack, and each kind of refusal
named for the reply."""

from __future__ import annotations

from dataclasses import dataclass

import msgpack
import pytest

from procclaw.job_facts import HeldFacts
from procclaw.run import Run
from procclaw.states import JobState
from procclaw.wire_record import RecordError, WireRecord


def test_a_record_with_nested_records_survives_msgpack():
    run = Run("r1", "api", 1.0, 2.5, None, "SIGKILL", "failed", ("last line",))
    facts = HeldFacts("api", JobState.STOPPING, pid=7, job_start="b:9", kill_at=3.0, last_run=run)
    back = HeldFacts.from_wire(msgpack.unpackb(msgpack.packb(facts.to_wire())))
    assert back == facts
    assert back.state is JobState.STOPPING and back.last_run == run


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([], "not a map but list"),
        ({"job": "api", "colour": "red"}, "unknown field 'colour'"),
        ({"state": "running"}, "field 'job' is missing"),
        ({"job": "api", "pid": "7"}, "field 'pid' must be an integer, not '7'"),
        ({"job": "api", "pid": True}, "field 'pid' must be an integer, not True"),
        ({"job": "api", "queued": 1}, "field 'queued' must be true or false, not 1"),
        ({"job": "api", "state": "asleep"}, "field 'state' must be one of stopped, "),
        ({"job": "api", "last_run": {"run_id": "r1"}}, "field 'job' is missing"),
    ],
)
def test_what_is_not_the_record_is_refused_naming_why(data, why):
    with pytest.raises(RecordError) as refused:
        HeldFacts.from_wire(data)
    assert refused.value.why.startswith(why)
    assert refused.value.code == "bad_request"


def test_a_whole_number_is_taken_where_a_number_is_asked():
    assert HeldFacts.from_wire({"job": "api", "kill_at": 3}).kill_at == 3.0


def test_a_field_of_two_types_is_refused_when_the_record_is_first_used():
    @dataclass(frozen=True)
    class Vague(WireRecord):
        value: int | str

    with pytest.raises(TypeError, match="Vague.value: a wire field is one type"):
        Vague.from_wire({"value": 1})
