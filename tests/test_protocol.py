"""The wire protocol refuses anything that is not a well-formed, current, allowed message."""

import msgpack
import pytest

from procclaw import commands, protocol
from procclaw.protocol import ErrorCode, ProtocolError


def test_request_round_trips_with_version_and_caller():
    message = protocol.request("list", {"tag": "x"}, caller="api")
    parsed = protocol.parse_request(protocol.encode(message), protocol.CONTROLLER_COMMANDS)
    assert (parsed.cmd, parsed.args, parsed.caller) == ("list", {"tag": "x"}, "api")
    assert message["v"] == protocol.VERSION


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xc1garbage", ErrorCode.BAD_REQUEST),
        (msgpack.packb([1, 2, 3]), ErrorCode.BAD_REQUEST),
        (msgpack.packb({"v": 99, "id": "1", "cmd": "list"}), ErrorCode.VERSION_MISMATCH),
        (msgpack.packb({"id": "1", "cmd": "list"}), ErrorCode.VERSION_MISMATCH),
        (msgpack.packb({"v": 1, "cmd": "list"}), ErrorCode.BAD_REQUEST),
        (msgpack.packb({"v": 1, "id": "1", "cmd": "__class__"}), ErrorCode.UNKNOWN_COMMAND),
        (msgpack.packb({"v": 1, "id": "1", "cmd": "list", "args": [1]}), ErrorCode.BAD_REQUEST),
        (b"\x00" * (protocol.MAX_MESSAGE_BYTES + 1), ErrorCode.BAD_REQUEST),
    ],
)
def test_malformed_requests_are_refused_with_a_code(data, code):
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_request(data, protocol.CONTROLLER_COMMANDS)
    assert caught.value.code == code


def test_a_command_of_another_endpoint_is_unknown_here():
    data = protocol.encode(protocol.request("shutdown"))
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_request(data, protocol.CONTROLLER_COMMANDS)
    assert caught.value.message == "unknown command 'shutdown'"


def test_error_reply_keeps_the_request_id_when_it_can_be_read():
    data = msgpack.packb({"v": 7, "id": "abc", "cmd": "list"})
    assert protocol.request_id_of(data) == "abc"
    assert protocol.request_id_of(b"\xc1") is None


def test_topics_are_built_only_from_known_events():
    assert protocol.job_topic("api", "running") == "job.api.running"
    assert protocol.actor_topic("controller", "up") == "actor.controller.up"
    with pytest.raises(ValueError):
        protocol.job_topic("api", "exploded")


def test_events_carry_source_sequence_and_time():
    source = protocol.EventSource("controller")
    first = protocol.parse_event(source.frames("config.reloaded", {"added": ["a"]}))
    second = protocol.parse_event(source.frames("config.reloaded"))
    assert (first.src, first.seq, second.seq) == ("controller", 1, 2)
    assert first.data == {"added": ["a"]} and first.ts > 0


def test_every_command_of_every_endpoint_has_one_record_for_its_arguments():
    assert set(commands.CONTROLLER_ARGS) == protocol.CONTROLLER_COMMANDS
    assert set(commands.ROOT_ARGS) == protocol.ROOT_COMMANDS
    assert set(commands.SUPERVISOR_ARGS) == protocol.SUPERVISOR_COMMANDS
    assert set(commands.ALERTER_ARGS) == protocol.ALERTER_COMMANDS
