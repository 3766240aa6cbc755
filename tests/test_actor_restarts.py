"""Root keeps its actors alive: a killed, crashed or hung actor is replaced at once."""

import contextlib
import os
import signal
import time

import psutil
import pytest
from conftest import is_gone, wait_until

from actors.runtime.registry import CORE_ACTORS
from procclaw import protocol

COMMAND_ACTORS = ("controller", "alerter")  # the others bind no command socket


@pytest.mark.parametrize("actor", CORE_ACTORS)
def test_kill_9_of_an_actor_brings_it_back_within_a_second(every_actor, actor):
    running = every_actor
    events = running.subscribe(f"actor.{actor}.")
    old = running.actor_pid(actor)
    killed_at = time.monotonic()
    os.kill(old, signal.SIGKILL)

    down = events.wait_for(lambda e: e.topic == protocol.actor_topic(actor, "down"), 5)
    up = events.wait_for(lambda e: e.topic == protocol.actor_topic(actor, "up"), 5)
    assert down is not None and down.data["status"] == "killed by SIGKILL"
    assert up is not None and up.data["pid"] != old
    assert up.ts - killed_at < 1.0 or time.monotonic() - killed_at < 1.0
    if actor in COMMAND_ACTORS:
        assert running.client().call_endpoint(actor, "ping")["pid"] == up.data["pid"]
    assert running.actor_pid(actor) == up.data["pid"]
    events.close()


def test_an_actor_that_stops_answering_is_killed_and_replaced(running):
    events = running.subscribe("actor.controller.")
    hung = running.actor_pid("controller")
    os.kill(hung, signal.SIGSTOP)
    try:
        # Three missed heartbeats (15 s), noticed at root's next watch (5 s at most).
        up = events.wait_for(lambda e: e.topic == "actor.controller.up", timeout=30)
        assert up is not None and up.data["pid"] != hung
        wait_until(lambda: is_gone(hung), timeout=5)
        assert running.client().call("ping")["pid"] == up.data["pid"]
        assert running.actor("controller")["restarts"] == 1
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(hung, signal.SIGCONT)
    events.close()


def test_an_actor_that_keeps_dying_is_restarted_with_growing_delays(running):
    events = running.subscribe("actor.controller.up")
    ups = []
    for _ in range(3):
        pid = running.actor_pid("controller") or wait_until(
            lambda: running.actor_pid("controller"), timeout=10
        )
        os.kill(pid, signal.SIGKILL)
        up = events.wait_for(lambda e, killed=pid: e.data["pid"] != killed, timeout=10)
        assert up is not None
        ups.append(up.ts)
    # Immediate first restart, then 0.25 s, then 1 s: the third gap is the largest.
    assert ups[2] - ups[1] > ups[1] - ups[0]
    assert running.actor("controller")["restarts"] == 3
    events.close()


def test_kill_9_of_the_zygote_is_survived_and_actors_can_still_be_started(running):
    zygote = running.daemon_status()["zygote_pid"]
    controller = running.actor_pid("controller")
    os.kill(zygote, signal.SIGKILL)
    new_zygote = wait_until(
        lambda: (z := running.daemon_status()["zygote_pid"]) != zygote and z, timeout=10
    )
    assert running.actor_pid("controller") == controller  # actors are root's children
    running.remember_tree()
    os.kill(controller, signal.SIGKILL)
    wait_until(lambda: running.actor_pid("controller") not in (None, controller), timeout=10)
    assert psutil.Process(new_zygote).is_running()
    assert running.client().call("ping")
