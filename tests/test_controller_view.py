"""ControllerView: an actor's questions to the controller answered without blocking its
loop, with the bus events that come meanwhile held until the answers are in. The
controller here is a stand-in ROUTER socket that answers as each test says."""

from __future__ import annotations

import pytest
import zmq

from actors.runtime.async_calls import AsyncCalls
from actors.runtime.controller_view import ControllerView
from actors.runtime.loop import EventLoop
from procclaw import protocol
from procclaw.home import Home
from procclaw.protocol import Event


class StandInController:
    """A ROUTER on the controller's endpoint; `pending` keeps each request unanswered
    until the test answers it."""

    def __init__(self, home: Home):
        self.socket = zmq.Context.instance().socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(home.endpoint("controller"))
        self.pending: list[tuple[bytes, dict]] = []

    def take(self, loop: EventLoop, count: int) -> None:
        """Run the loop until `count` requests are waiting here."""
        for _ in range(500):
            while self.socket.poll(0):
                peer, data = self.socket.recv_multipart()
                self.pending.append((peer, protocol.decode(data)))
            if len(self.pending) >= count:
                return
            loop.run_once(max_wait=0.02)
        raise AssertionError(f"{count} requests expected, {len(self.pending)} came")

    def answer(self, index: int, result) -> None:
        peer, request = self.pending[index]
        reply = protocol.ok_reply(request["id"], result)
        self.socket.send_multipart([peer, protocol.encode(reply)])

    def refuse(self, index: int) -> None:
        peer, request = self.pending[index]
        reply = protocol.error_reply(request["id"], "unknown_command", "no such command")
        self.socket.send_multipart([peer, protocol.encode(reply)])

    def close(self) -> None:
        self.socket.close(0)


@pytest.fixture
def make_view(tmp_path):
    """`make_view(questions, timeout, learn)`: a view on a stand-in controller, and what
    it learnt and handed over."""
    home = Home(tmp_path)
    home.make_directories()
    loop = EventLoop()
    calls = AsyncCalls(zmq.Context.instance(), loop, home)
    controller = StandInController(home)
    learnt: list[list] = []
    seen: list[str] = []

    def make(questions: tuple, timeout: float = 5.0, learn=learnt.append):
        view = ControllerView(
            calls, loop, questions, learn, lambda e: seen.append(e.topic), timeout, 0.05
        )
        return view, loop, controller, learnt, seen

    yield make
    controller.close()
    calls.close()
    loop.close()


@pytest.fixture
def parts(make_view):
    return make_view(("config", "list"))


def _event(topic: str) -> Event:
    return Event(topic=topic, src="test", seq=0, ts=0.0, data={})


def _run_until(loop: EventLoop, done) -> None:
    for _ in range(200):
        if done():
            return
        loop.run_once(max_wait=0.02)
    raise AssertionError("not done in time")


def test_events_wait_for_every_answer_then_follow_in_order(parts):
    view, loop, controller, learnt, seen = parts
    view.offer(_event("job.a.running"))  # no question out: handed over at once
    view.ask()
    view.offer(_event("job.b.running"))
    controller.take(loop, 1)
    assert [request["cmd"] for _peer, request in controller.pending] == ["config"]
    controller.answer(0, {"jobs": ["a", "b"]})
    controller.take(loop, 2)  # the second question goes once the first is answered
    view.offer(_event("job.b.stopped"))
    assert learnt == [] and seen == ["job.a.running"]
    controller.answer(1, [{"id": "b"}])
    _run_until(loop, lambda: learnt)
    assert learnt == [[{"jobs": ["a", "b"]}, [{"id": "b"}]]]
    assert seen == ["job.a.running", "job.b.running", "job.b.stopped"]
    view.offer(_event("job.c.running"))  # answered: handed over at once again
    assert seen[-1] == "job.c.running"


def test_asked_again_only_the_latest_round_of_answers_counts(parts):
    view, loop, controller, learnt, _seen = parts
    view.ask()
    controller.take(loop, 1)
    view.ask()  # a reload while the first answer is on its way
    controller.take(loop, 2)
    controller.answer(0, {"jobs": ["old"]})  # the first round's: void
    controller.answer(1, {"jobs": ["new"]})
    controller.take(loop, 3)
    assert [request["cmd"] for _peer, request in controller.pending] == [
        "config",
        "config",
        "list",
    ]
    controller.answer(2, ["listed"])
    _run_until(loop, lambda: learnt)
    assert learnt == [[{"jobs": ["new"]}, ["listed"]]]


def test_a_question_not_answered_in_time_is_asked_again(make_view):
    view, loop, controller, learnt, _seen = make_view(("config",), timeout=0.3)
    view.ask()
    controller.take(loop, 2)  # the first timed out: asked again after `retry`
    controller.answer(0, {"jobs": ["late"]})  # after its timeout: dropped
    controller.answer(1, {"jobs": []})
    _run_until(loop, lambda: learnt)
    assert learnt == [[{"jobs": []}]]


def test_a_refused_question_lets_the_held_events_go_on(parts):
    """A controller of another release refuses it: the events do not wait for ever."""
    view, loop, controller, learnt, seen = parts
    view.ask()
    view.offer(_event("job.a.running"))
    controller.take(loop, 1)
    controller.refuse(0)
    _run_until(loop, lambda: seen)
    assert seen == ["job.a.running"] and learnt == []


def test_an_unreadable_answer_lets_the_held_events_go_on(make_view):
    def learn(answers: list) -> None:
        answers[0]["jobs"]  # the answer below has none: KeyError

    view, loop, controller, _learnt, seen = make_view(("config",), learn=learn)
    view.ask()
    view.offer(_event("job.a.running"))
    controller.take(loop, 1)
    controller.answer(0, {"other": []})
    _run_until(loop, lambda: seen)
    assert seen == ["job.a.running"]


def test_a_question_goes_with_its_arguments(make_view):
    view, loop, controller, learnt, _seen = make_view(
        (("config", {"parts": ["health_check"]}), "list")
    )
    view.ask()
    controller.take(loop, 1)
    controller.answer(0, {"jobs": []})
    controller.take(loop, 2)
    asked = [(request["cmd"], request["args"]) for _peer, request in controller.pending]
    assert asked == [("config", {"parts": ["health_check"]}), ("list", {})]
    controller.answer(1, [])
    _run_until(loop, lambda: learnt)
    assert learnt == [[{"jobs": []}, []]]
