"""The event loop runs due timers in order and sleeps when nothing is due."""

import os
import signal
import time

import pytest

from actors.runtime.loop import EventLoop


@pytest.fixture
def loop():
    event_loop = EventLoop()
    yield event_loop
    event_loop.close()


def test_timers_fire_in_due_order_and_cancelled_ones_never(loop):
    fired = []
    loop.call_later(0.02, lambda: fired.append("b"))
    loop.call_later(0.0, lambda: fired.append("a"))
    loop.call_later(0.01, lambda: fired.append("never")).cancel()
    loop.call_later(0.03, loop.stop)
    loop.run()
    assert fired == ["a", "b"]


def test_with_no_timer_and_no_event_the_loop_waits_the_whole_bound(loop):
    reader, writer = os.pipe()
    loop.add_reader(reader, lambda: None)
    started = time.monotonic()
    loop.run_once(max_wait=0.2)
    assert time.monotonic() - started >= 0.19
    os.close(reader)
    os.close(writer)


def test_a_readable_fd_wakes_the_loop_and_calls_its_handler(loop):
    reader, writer = os.pipe()
    seen = []
    loop.add_reader(reader, lambda: seen.append(os.read(reader, 10)))
    os.write(writer, b"hi")
    loop.run_once(max_wait=5)
    assert seen == [b"hi"]
    os.close(reader)
    os.close(writer)


def test_signals_are_handled_inside_the_loop(loop):
    seen = []
    loop.on_signal(signal.SIGUSR1, seen.append)
    os.kill(os.getpid(), signal.SIGUSR1)
    loop.run_once(max_wait=5)
    assert seen == [signal.SIGUSR1]
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)


def test_once_stopped_no_due_timer_runs(loop):
    fired = []

    def stop_and_schedule():
        loop.stop()
        loop.call_later(0, lambda: fired.append("late"))

    loop.call_later(0, stop_and_schedule)
    loop.run()
    loop.run_once(max_wait=0)
    assert fired == []
