"""The event loop runs due timers in order and sleeps when nothing is due."""

import os
import signal
import sys
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


def test_of_hundreds_of_quiet_pipes_only_the_readable_ones_are_handled(loop):
    pipes = [os.pipe() for _ in range(400)]  # 800 fds: under a 1,024 limit
    seen = []
    for index, (reader, _) in enumerate(pipes):
        loop.add_reader(reader, lambda i=index, r=reader: seen.append((i, os.read(r, 10))))
    assert len(loop._poller.sockets) == 1  # the zmq poller sees one epoll, not 400 pipes
    os.write(pipes[7][1], b"a")
    os.write(pipes[393][1], b"b")
    loop.run_once(max_wait=5)
    assert sorted(seen) == [(7, b"a"), (393, b"b")]
    for reader, writer in pipes:
        loop.remove_reader(reader)
        os.close(reader)
        os.close(writer)


def test_a_reader_removed_by_an_earlier_handler_of_the_same_wake_is_not_called(loop):
    (first, first_w), (second, second_w) = os.pipe(), os.pipe()
    called = []

    def remove_the_other(mine: int, other: int) -> None:
        called.append(mine)
        loop.remove_reader(other)

    loop.add_reader(first, lambda: remove_the_other(first, second))
    loop.add_reader(second, lambda: remove_the_other(second, first))
    os.write(first_w, b"x")
    os.write(second_w, b"x")
    loop.run_once(max_wait=5)
    assert len(called) == 1
    for fd in (first, first_w, second, second_w):
        os.close(fd)


def test_a_number_reused_by_a_new_pipe_is_watched_with_its_new_handler(loop):
    reader, writer = os.pipe()
    loop.add_reader(reader, lambda: pytest.fail("the old handler ran"))
    loop.remove_reader(reader)
    os.close(reader)
    os.close(writer)
    again, again_w = os.pipe()
    assert again == reader  # the lowest free number
    seen = []
    loop.add_reader(again, lambda: seen.append(os.read(again, 10)))
    loop.add_reader(again, lambda: seen.append(os.read(again, 10).upper()))  # replaced
    os.write(again_w, b"new")
    loop.run_once(max_wait=5)
    assert seen == [b"NEW"]
    loop.remove_reader(again)
    os.close(again)
    os.close(again_w)


def test_a_pipe_closed_before_its_reader_was_removed_does_not_keep_the_loop_awake(loop):
    reader, writer = os.pipe()
    elsewhere = os.dup(reader)  # as root keeps a copy of every job's pipe
    os.write(writer, b"unread")
    loop.add_reader(reader, lambda: None)
    os.close(reader)  # too early: the epoll still watches the pipe through `elsewhere`
    loop.remove_reader(reader)
    loop.run_once(max_wait=0.2)  # wakes for nothing of ours, and forgets that pipe
    started = time.monotonic()
    loop.run_once(max_wait=0.2)
    assert time.monotonic() - started >= 0.19
    for fd in (elsewhere, writer):
        os.close(fd)


@pytest.mark.skipif(sys.platform != "linux", reason="epoll refuses a regular file; kqueue not")
def test_a_file_epoll_cannot_watch_is_refused_and_leaves_no_handler(loop, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("a regular file")
    fd = os.open(plain, os.O_RDONLY)
    with pytest.raises(PermissionError):
        loop.add_reader(fd, lambda: None)
    loop.remove_reader(fd)  # nothing to remove, and no error
    loop.run_once(max_wait=0.01)
    os.close(fd)
