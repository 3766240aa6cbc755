"""The placement record is checked where it enters a process: root, or a supervisor."""

import msgpack
import pytest

from procclaw.job_facts import HeldFacts
from procclaw.placement import Placement
from procclaw.protocol import ProtocolError

PLACEMENT = Placement(
    job="api",
    supervisor="sup-1-0",
    config={"id": "api", "cmd": "sleep 1"},
    generation=3,
    stop_after=("web",),
    resume=HeldFacts("api", "running", pid=42, job_start="7", queued=True),
)


def test_a_placement_survives_the_round_trip_through_msgpack():
    data = msgpack.unpackb(msgpack.packb(PLACEMENT.to_wire()))
    assert Placement.from_wire(data) == PLACEMENT


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"job": "api"},
        {**PLACEMENT.to_wire(), "colour": "red"},
        {**PLACEMENT.to_wire(), "generation": "3"},
        {**PLACEMENT.to_wire(), "stop_after": [1]},
        {**PLACEMENT.to_wire(), "config": "sleep 1"},
        {**PLACEMENT.to_wire(), "resume": {"job": "api", "state": "sleeping"}},
        {**PLACEMENT.to_wire(), "resume": {"job": "api", "pid": "42"}},
    ],
)
def test_anything_else_is_refused_as_a_bad_request(data):
    with pytest.raises(ProtocolError) as refused:
        Placement.from_wire(data)
    assert refused.value.code == "bad_request"


def test_a_replacement_carries_on_from_the_facts_it_is_given():
    facts = HeldFacts("api", "stopping", pid=42, kill_at=5.0)
    resumed = PLACEMENT.resumed(facts)
    assert resumed.resume == facts
    assert resumed.generation == PLACEMENT.generation
