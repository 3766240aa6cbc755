"""A job's commands wait while it is on its way to its supervisor, in order, for a bound.

The end-to-end cases (a stop right after a start) are in test_stopping.py; these pin
the order and the edge cases of the queue itself, on a real event loop.
"""

import pytest

from actors.controller import held_commands
from actors.controller.held_commands import HeldCommands
from actors.runtime.command_server import Deferred
from actors.runtime.loop import EventLoop
from procclaw.protocol import CommandError, ErrorCode


@pytest.fixture
def loop():
    event_loop = EventLoop()
    yield event_loop
    event_loop.close()


def _outcome(reply: Deferred) -> list:
    seen: list = []
    reply.then(lambda value, error: seen.append(error.message if error else value))
    return seen


def test_commands_wait_for_the_placement_then_go_in_order_each_after_its_answer(loop):
    placing = {"job": True}
    held = HeldCommands(loop, lambda job_id: placing[job_id])
    ran: list[str] = []
    supervisor_answer = Deferred()

    def stop():
        ran.append("stop")
        return supervisor_answer

    first = _outcome(held.run("job", stop))
    second = _outcome(held.run("job", lambda: ran.append("start") or {"state": "starting"}))
    held.settled("job")  # a report, but the job is still on its way
    assert ran == []
    placing["job"] = False
    held.settled("job")
    assert ran == ["stop"]  # the start waits for the stop's answer
    supervisor_answer.resolve({"state": "stopping"})
    assert ran == ["stop", "start"]
    assert first == [{"state": "stopping"}] and second == [{"state": "starting"}]
    assert not held.holds("job")
    assert held.run("job", lambda: "at once") == "at once"


def test_news_of_a_job_nothing_waits_for_changes_nothing(loop):
    held = HeldCommands(loop, lambda _job_id: False)
    held.settled("job")  # every report of every job comes here
    assert not held.holds("job")
    assert held.run("job", lambda: {"state": "running"}) == {"state": "running"}


def test_an_answer_that_comes_at_once_lets_the_rest_go_and_the_job_go(loop):
    placing = {"job": True}
    held = HeldCommands(loop, lambda job_id: placing[job_id])
    failed_at_once = Deferred()
    failed_at_once.fail(ErrorCode.UNAVAILABLE, "cannot be reached")
    first = _outcome(held.run("job", lambda: failed_at_once))
    second = _outcome(held.run("job", lambda: {"state": "running"}))
    placing["job"] = False
    held.settled("job")
    assert first == ["cannot be reached"] and second == [{"state": "running"}]
    assert not held.holds("job")


def test_a_command_that_fails_is_answered_with_its_error_and_the_next_still_goes(loop):
    placing = {"job": True}
    held = HeldCommands(loop, lambda job_id: placing[job_id])

    def refused():
        raise CommandError(ErrorCode.PAUSED, "job 'job' is paused")

    def broken():
        raise RuntimeError("a bug")

    answers = [_outcome(held.run("job", command)) for command in (refused, broken)]
    last = _outcome(held.run("job", lambda: {"state": "stopped"}))
    placing["job"] = False
    held.settled("job")
    assert answers == [["job 'job' is paused"], ["internal error: a bug"]]
    assert last == [{"state": "stopped"}]


def test_a_job_never_handed_over_has_its_commands_answered_within_the_bound(loop, monkeypatch):
    monkeypatch.setattr(held_commands, "HOLD_AT_MOST", 0.05)
    held = HeldCommands(loop, lambda _job_id: True)
    ran: list[str] = []
    waited = _outcome(held.run("job", lambda: ran.append("stop")))
    loop.call_later(0.2, loop.stop)
    loop.run()
    assert ran == []
    assert waited == ["job 'job' is still on its way to its supervisor after 0.05 s: try again"]
    assert held.holds("job")  # still placing: the next command waits too
