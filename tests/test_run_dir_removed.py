"""`rm -rf run/` under a running daemon: commands say what happened, and `daemon stop`
still stops everything, through the lock's pid and a SIGTERM."""

import shutil

from conftest import is_gone

JOBS = "jobs:\n  svc:\n    type: continuous\n    cmd: sleep 300\n"


def test_with_its_run_dir_removed_the_daemon_is_still_stopped_and_starts_again(sandbox):
    root = sandbox.run_jobs(JOBS)
    sandbox.wait_state("svc", "running")
    tree = sandbox.remember_tree()
    shutil.rmtree(sandbox.home.run_dir)

    listed = sandbox.cli("list")
    socket = sandbox.home.socket_file("controller")
    assert (listed.returncode, listed.stderr) == (
        1,
        f"procclaw: controller not answering: its socket {socket} is gone (was"
        f" {sandbox.home.run_dir} removed?); `procclaw daemon stop` still stops the daemon\n",
    )
    stopped = sandbox.cli("daemon", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"sending SIGTERM to pid {root}" in stopped.stderr
    assert stopped.stdout == f"procclaw daemon stopped (pid {root})\n"
    assert [pid for pid in tree if not is_gone(pid)] == []

    sandbox.start_daemon()
    sandbox.wait_state("svc", "running")
