"""A supervisor's ear on the NOTIFY_SOCKET: a real socket and a real event loop."""

import socket

from actors.runtime.loop import EventLoop
from actors.supervisor.job_notices import JobNotices
from procclaw.config import parse_config
from procclaw.home import Home
from procclaw.job_facts import JobFacts


def _job(keys: str = ""):
    return parse_config(None, f"jobs:\n  j:\n    cmd: x\n{keys}").jobs[0]


def _send(path: str, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
        for data in datagrams:
            client.sendto(data, path)


def test_ready_and_status_are_heard_only_from_a_running_run(tmp_path):
    home = Home(tmp_path)
    home.prepare()
    notices = JobNotices(home, _job("    ready: notify\n"), JobFacts("j"))
    loop = EventLoop()
    running = [False]
    heard: list[str] = []
    notices.listen(
        loop, lambda: running[0], lambda: heard.append("ready"), lambda: heard.append("change")
    )
    try:
        path = notices.run_env()["NOTIFY_SOCKET"]
        _send(path, b"READY=1")  # left behind by the last run
        loop.run_once(max_wait=10)
        assert heard == []
        running[0] = True
        _send(path, b"STATUS=up", b"READY=1", b"READY=1\nSTATUS=serving", b"WATCHDOG=1")
        loop.run_once(max_wait=10)  # every datagram waiting is taken in one go
        assert heard == ["ready", "change"]
        facts = notices.facts()
        assert (facts["ready"], facts["status_text"]) == (True, "serving")
        assert facts["watchdog_at"] is not None
        notices.new_run()
        assert notices.facts() == {"ready": False, "status_text": None, "watchdog_at": None}
    finally:
        notices.close()
        loop.close()


def test_a_job_that_does_not_speak_sd_notify_gets_no_socket(tmp_path):
    home = Home(tmp_path)
    home.prepare()
    notices = JobNotices(home, _job(), JobFacts("j", ready=True, status_text="from before"))
    notices.listen(EventLoop(), lambda: True, lambda: None, lambda: None)
    assert notices.run_env() == {}
    assert notices.facts()["status_text"] == "from before"
    notices.close()
    assert not list(home.run_dir.glob("notify-*"))


def test_a_closed_socket_leaves_the_loop_that_watched_it(tmp_path):
    """A job let go closes its socket; a descriptor left in the poller would read as
    ready on every turn and kill the supervisor (EBADF) until its number was reused."""
    home = Home(tmp_path)
    home.prepare()
    notices = JobNotices(home, _job("    ready: notify\n"), JobFacts("j"))
    loop = EventLoop()
    heard: list[str] = []
    notices.listen(loop, lambda: True, lambda: heard.append("ready"), lambda: None)
    _send(notices.run_env()["NOTIFY_SOCKET"], b"READY=1")
    notices.close()
    for _ in range(3):
        loop.run_once(max_wait=0.05)
    assert heard == [] and notices.run_env() == {}
