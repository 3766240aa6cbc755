"""The job-event stream: Server-Sent Events over HTTP and `procclaw events`."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest
from conftest import wait_until
from http_helpers import EventStream, get

from procclaw.api import events
from procclaw.api.events import StreamBody
from procclaw.client import Client, ClientError
from procclaw.home import Home
from procclaw.subscription import Subscription
from procclaw.wakeup import Wakeup

JOBS = """\
jobs:
  once:
    cmd: 'true'
  other:
    cmd: 'true'
"""


def test_sse_streams_the_events_of_one_job_and_type(sandbox):
    sandbox.run_jobs(JOBS)
    stream = EventStream(sandbox.api_port, "/api/v1/events?job=once&type=running&type=completed")
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        assert stream.next_block() == [": subscribed"]
        sandbox.client().call("start", {"job": "other"})
        sandbox.wait_state("other", "completed")
        sandbox.client().call("start", {"job": "once"})
        running, completed = stream.next_event(), stream.next_event()
    finally:
        stream.close()
    assert running["event"] == "job.once.running"
    assert running["data"]["topic"] == "job.once.running"
    assert running["data"]["data"]["pid"]
    assert completed["event"] == "job.once.completed"
    src, seq = completed["id"].split(":")
    assert src == completed["data"]["data"]["supervisor"]
    assert int(seq) == completed["data"]["seq"]


@pytest.mark.parametrize(
    ("query", "status", "code", "message"),
    [
        ("job=../x", 400, "bad_request", "job '../x' is not a valid name"),
        ("job=onse", 404, "no_such_job", "no job 'onse' (did you mean 'once'?)"),
        ("type=runing", 400, "bad_request", "unknown event type 'runing' (did you mean"),
    ],
)
def test_sse_refuses_a_filter_that_could_never_match(sandbox, query, status, code, message):
    sandbox.run_jobs(JOBS)
    reply = get(sandbox.api_port, f"/api/v1/events?{query}")
    assert reply.status == status and reply.json["error"]["code"] == code
    assert reply.json["error"]["message"].startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--job", "onse"], "procclaw: no job 'onse' (did you mean 'once'?)"),
        (["--type", "runing"], "procclaw: unknown event type 'runing' (did you mean 'running'?)"),
    ],
)
def test_the_events_command_refuses_a_filter_that_could_never_match(sandbox, args, message):
    sandbox.run_jobs(JOBS)
    result = sandbox.cli("events", *args, "-n", "1", timeout=10)
    assert result.returncode == 1
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("as_json", [True, False])
def test_the_events_command_prints_a_jobs_events(sandbox, as_json):
    sandbox.run_jobs(JOBS)
    command = [sandbox.cli_path(), "events", "--job", "once", "-n", "2", "--timeout", "60"]
    watcher = subprocess.Popen(
        [*command, "--type", "starting", "--type", "completed"] + (["--json"] if as_json else []),
        env=sandbox.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "watching events" in watcher.stderr.readline()
        sandbox.client().call("start", {"job": "other"})
        sandbox.client().call("start", {"job": "once"})
        out, _ = watcher.communicate(timeout=60)
    finally:
        watcher.kill()
        watcher.wait()
    assert watcher.returncode == 0
    lines = out.splitlines()
    if as_json:
        topics = [json.loads(line)["topic"] for line in lines]
        assert topics == ["job.once.starting", "job.once.completed"]
    else:
        assert [line.split()[1] for line in lines] == ["job.once.starting", "job.once.completed"]
        assert "state=completed" in lines[1]


def test_the_events_command_gives_up_after_its_timeout(sandbox):
    sandbox.run_jobs(JOBS)
    result = sandbox.cli("events", "--job", "once", "-n", "1", "--timeout", "0.5")
    assert result.returncode == 1
    assert "procclaw: 0 of 1 events in 0.5 s" in result.stderr


def test_event_streams_are_limited_and_a_closed_one_frees_its_place(sandbox):
    sandbox.run_jobs(JOBS)
    streams = [EventStream(sandbox.api_port, "/api/v1/events") for _ in range(8)]
    try:
        for stream in streams:
            assert stream.next_block() == [": subscribed"]
        reply = get(sandbox.api_port, "/api/v1/events")
        assert reply.status == 503 and "too many event streams" in reply.json["error"]["message"]
        streams.pop().close()  # nothing is written to it: the server hears the close itself
        wait_until(lambda: _opens(sandbox.api_port), timeout=5)
    finally:
        for stream in streams:
            stream.close()


def _opens(port: int) -> bool:
    stream = EventStream(port, "/api/v1/events")
    try:
        return stream.response.status == 200
    finally:
        stream.close()


@pytest.mark.parametrize("count", ["x", "0", "-2", "²"])
def test_the_events_command_refuses_a_bad_count(sandbox, count):
    result = sandbox.cli("events", "-n", count)
    assert result.returncode == 1
    assert f"-n expects a number of events (1 or more), got '{count}'" in result.stderr


def test_a_stream_whose_filter_drops_a_busy_bus_still_sends_keepalives(sandbox):
    """The keepalive counts from the last write, not the last bus event: proxies see
    the stream alive however busy the bus."""
    sandbox.run_jobs(
        "jobs:\n  tick:\n    cmd: 'true'\n    type: scheduled\n    schedule: '* * * * * *'\n"
    )
    subscription = Subscription(sandbox.home, ("",))
    subscription.sync(sandbox.client())
    wakeup = Wakeup()
    stop_at = threading.Timer(20, wakeup.set)  # ends the stream should no keepalive come
    stop_at.start()
    stream = StreamBody(subscription, {"no-such-type"}, wakeup, wakeup.close, keepalive=2.5)
    try:
        chunks = iter(stream)
        assert next(chunks) == b": subscribed\n\n"
        assert next(chunks, None) == b": keepalive\n\n"
    finally:
        stop_at.cancel()
        stream.close()


def test_a_stream_ends_as_soon_as_its_wakeup_is_set(sandbox):
    """Set when the client leaves or the gateway stops: no keepalive is waited for."""
    sandbox.run_jobs(JOBS)
    subscription = Subscription(sandbox.home, ("",))
    subscription.sync(sandbox.client())
    wakeup = Wakeup()
    stream = StreamBody(subscription, set(), wakeup, wakeup.close, keepalive=3600)
    try:
        chunks = iter(stream)
        assert next(chunks) == b": subscribed\n\n"
        threading.Timer(0.2, wakeup.set).start()
        assert next(chunks, None) is None
    finally:
        stream.close()


def test_a_stream_that_cannot_open_gives_its_place_back(tmp_path):
    home = Home(tmp_path)  # no daemon here: the subscription cannot be made live
    streams = events.EventStream(Client(home, timeout=0.5), home, max_streams=1)
    for _ in range(3):  # with the one place lost, the second try would be a 503
        with pytest.raises(ClientError):
            streams._open(())
