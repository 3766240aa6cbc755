"""NOTIFY_SOCKET: what sd_notify messages mean to us, over a real datagram socket."""

import select
import socket

from actors.supervisor.notify_socket import Notices, NotifySocket, parse_notification
from procclaw.job_facts import JobFacts


def test_a_message_is_newline_separated_assignments_and_junk_is_ignored():
    assert parse_notification(b"READY=1\nSTATUS=up: 3 workers\nnonsense\n=x\n") == {
        "READY": "1",
        "STATUS": "up: 3 workers",
    }


def test_ready_is_noted_once_and_a_heartbeat_alone_changes_no_reported_fact():
    notices = Notices()
    assert notices.absorb({"WATCHDOG": "1"}, now=5.0) == (False, False)
    assert notices.watchdog_at == 5.0
    assert notices.absorb({"READY": "1", "STATUS": "serving"}, now=6.0) == (True, True)
    assert notices.absorb({"READY": "1"}, now=7.0) == (False, False)
    assert Notices.resumed(JobFacts("j", **notices.facts())) == notices


def test_datagrams_sent_to_the_path_are_received_and_the_socket_file_goes_with_it(tmp_path):
    path = str(tmp_path / "notify-j.sock")
    (tmp_path / "notify-j.sock").write_text("left by a dead supervisor")
    notify = NotifySocket(path)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as client:
            client.sendto(b"READY=1", path)
            client.sendto(b"STATUS=warming up", path)
        assert select.select([notify], [], [], 5)[0]
        assert notify.receive() == [{"READY": "1"}, {"STATUS": "warming up"}]
        assert notify.receive() == []
    finally:
        notify.close()
    assert not (tmp_path / "notify-j.sock").exists()
