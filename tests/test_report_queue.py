"""A supervisor's report queue against a real ROUTER standing in for the controller.

What must hold: a job's state report not yet sent is replaced by a newer one, whose
events carry the older one's; run records are never replaced; a job is held until
its reports are acknowledged; events are published only after the acknowledgement.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import zmq

from actors.runtime.loop import EventLoop
from actors.runtime.report_queue import ReportQueue
from procclaw import protocol

WAIT = 5.0


class Controller:
    """The far end: a ROUTER that receives `report` requests and answers when told."""

    def __init__(self, context: zmq.Context, endpoint: str):
        self.socket = context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(endpoint)

    def receive(self, loop: EventLoop) -> tuple[bytes, dict[str, Any]]:
        """The next request, turning the queue's loop until it has been sent."""
        deadline = time.monotonic() + WAIT
        while not self.socket.poll(0):
            assert time.monotonic() < deadline, "no report arrived"
            loop.run_once(max_wait=0.01)
        peer, data = self.socket.recv_multipart()
        return peer, protocol.decode(data)

    def acknowledge(self, peer: bytes, request: dict[str, Any]) -> None:
        self.socket.send_multipart([peer, protocol.encode(protocol.ok_reply(request["id"]))])


@pytest.fixture
def wired(tmp_path):
    context = zmq.Context()
    loop = EventLoop()
    endpoint = f"ipc://{tmp_path}/controller.sock"
    controller = Controller(context, endpoint)
    published: list[tuple[str, Any]] = []
    queue = ReportQueue(context, loop, endpoint, lambda *event: published.append(event))
    yield loop, controller, queue, published
    queue.close()
    controller.socket.close(0)
    loop.close()
    context.destroy(linger=0)


def _state(job: str, state: str) -> dict[str, Any]:
    return {"kind": "state", "job": job, "state": state}


def _until(loop: EventLoop, condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "not done in time"
        loop.run_once(max_wait=0.01)


def test_a_newer_state_replaces_the_unsent_one_and_carries_its_events(wired):
    loop, controller, queue, published = wired
    queue.send(_state("a", "starting"), [("job.a.starting", 1)])
    queue.send(_state("b", "starting"), [("job.b.starting", 2)])
    queue.send(_state("a", "running"), [("job.a.running", 3)])
    peer, request = controller.receive(loop)
    assert request["args"]["reports"] == [_state("b", "starting"), _state("a", "running")]
    assert published == []  # nothing is announced before it is on record
    assert queue.holds("a") and queue.holds("b")
    controller.acknowledge(peer, request)
    _until(loop, lambda: queue.empty)
    assert published == [("job.b.starting", 2), ("job.a.starting", 1), ("job.a.running", 3)]
    assert not queue.holds("a") and not queue.holds("b")


def test_run_records_are_never_replaced_and_keep_the_job_held(wired):
    loop, controller, queue, _published = wired
    queue.send({"kind": "run", "job": "a", "run": 1})
    queue.send({"kind": "run", "job": "a", "run": 2})
    peer, request = controller.receive(loop)
    assert [report["run"] for report in request["args"]["reports"]] == [1, 2]
    queue.send(_state("a", "stopped"))  # while the runs are in flight: waits its turn
    controller.acknowledge(peer, request)
    peer, request = controller.receive(loop)
    assert request["args"]["reports"] == [_state("a", "stopped")]
    assert queue.holds("a")
    controller.acknowledge(peer, request)
    _until(loop, lambda: queue.empty)
    assert not queue.holds("a")
