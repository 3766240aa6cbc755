"""`rm -rf run/` under a running daemon: commands say what happened, and `daemon stop`
still stops everything, through the lock's pid and a SIGTERM."""

import os
import shutil
import signal
from datetime import datetime

from conftest import is_gone, wait_until

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


def test_a_supervisor_that_cannot_come_up_is_restarted_with_backoff_not_in_a_spin(sandbox):
    """Its jobs live on, but a replacement that dies before it says hello (here: no run/
    to bind its socket in) gains nothing by being hurried: root backs off, as for any
    actor, instead of spinning a core on forks."""
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("svc", "running")
    supervisor, pid = sandbox.supervisor_of("svc")
    shutil.rmtree(sandbox.home.run_dir)
    os.kill(pid, signal.SIGKILL)
    log = sandbox.home.daemon_log
    died = f"actor {supervisor} died"

    def deaths() -> list[float]:
        stamps = []
        for line in log.read_text().splitlines():
            if died in line:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                stamps.append(stamp.timestamp())
        return stamps

    # The killed one, then replacements after 0, 0, 0.25 and 1 s: not a hundred a second.
    stamps = wait_until(lambda: len(found := deaths()) >= 5 and found, timeout=15)
    assert stamps[4] - stamps[0] >= 1.0, stamps
