"""Starting and stopping a job many times leaks neither descriptors nor memory."""

import psutil
import pytest
from conftest import wait_until

from actors.runtime.registry import CORE_ACTORS

CYCLES = 1000
WARM_UP = 50


def _daemon_processes(box):
    status = box.daemon_status()
    pids = [status["pid"], status["zygote_pid"]]
    pids += [box.actor_pid(name) for name in ("controller", "scheduler", "health", "alerter")]
    pids += [box.actor_pid(name) for name in box.supervisor_names()]
    return [psutil.Process(pid) for pid in pids]


def _usage(processes):
    return [(p.num_fds(), p.memory_info().rss) for p in processes]


def _fds_back_to(baseline, processes):
    now = _usage(processes)
    return all(fds <= before for (fds, _), (before, _) in zip(now, baseline, strict=True))


def _cycle(client, events):
    client.call("start", {"job": "blip"})
    assert events.wait_for(lambda e: e.topic == "job.blip.running", timeout=10)
    client.call("stop", {"job": "blip"})
    assert events.wait_for(lambda e: e.topic == "job.blip.stopped", timeout=10)


@pytest.mark.timeout(300)
def test_a_thousand_start_stop_cycles_return_fds_and_memory_to_baseline(sandbox):
    sandbox.run_jobs("jobs:\n  blip:\n    cmd: sleep 60\n")
    client = sandbox.client()
    events = sandbox.subscribe("job.blip.")
    for _ in range(WARM_UP):
        _cycle(client, events)
    # The supervisor that held blip lives on across the cycles: a leak would pile up there.
    processes = _daemon_processes(sandbox)
    baseline = _usage(processes)
    for _ in range(CYCLES):
        _cycle(client, events)
    # ZeroMQ closes a socket in its I/O thread, a moment after close(): wait for that.
    wait_until(
        lambda: all(
            now[0] <= then[0] for now, then in zip(_usage(processes), baseline, strict=True)
        )
    )
    after = _usage(processes)
    for (_, rss_before), (_, rss_after), process in zip(baseline, after, processes, strict=True):
        assert rss_after - rss_before < 4 * 1024 * 1024, process
    assert sandbox.job("blip")["state"] == "stopped"
    actors = {a["name"] for a in sandbox.daemon_status()["actors"]}
    assert len(actors - set(CORE_ACTORS)) <= 1  # the one supervisor blip was placed in
    events.close()
