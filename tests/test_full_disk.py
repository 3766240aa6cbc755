"""A full disk under the daemon's home (a small tmpfs): jobs run on, output is dropped
and counted, `status`, `daemon status` and an event say so, a command's exit status
still says what happened to its job, and the logs resume once there is room."""

import errno
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import PROGRAMS, Sandbox, wait_until

from actors.supervisor.job_output import JobOutput
from procclaw.config import JobConfig
from procclaw.home import Home
from procclaw.platform import current
from procclaw.run import Run
from procclaw.store import Store

JOBS = f"""\
jobs:
  talker:
    type: continuous
    cmd: {sys.executable} {PROGRAMS}/counter.py
  once:
    cmd: "true"
"""


@pytest.fixture
def small_disk():
    """A 4 MiB filesystem of its own, so that it can fill up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root (CI runs as root)")
    root = Path(tempfile.mkdtemp(prefix="pc-full-", dir="/tmp"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(root)], check=True
    )
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
        root.rmdir()


@pytest.fixture
def small_home(small_disk):
    """A sandbox whose home is on the small filesystem."""
    box = Sandbox(small_disk)
    try:
        yield box
    finally:
        box.teardown()


def _fill(path: Path) -> None:
    # Unbuffered: a buffered file would try again to write what did not fit when closed.
    with open(path, "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_full_disk_drops_output_and_says_so_and_nothing_stops(small_home):
    box = small_home
    box.run_jobs(JOBS)
    pid = box.wait_state("talker", "running")["pid"]
    box.wait_output("talker", "10\n")
    events = box.subscribe("job.talker.log")
    filler = box.home.root / "filler"
    _fill(filler)

    dropping = events.wait_for(lambda e: e.data["log_trouble"], timeout=10)
    assert dropping is not None
    assert dropping.data["log_trouble"].startswith("stdout: disk full since ")
    job = wait_until(lambda: (job := box.job("talker"))["log_trouble"] and job)
    assert (job["state"], job["pid"]) == ("running", pid)
    first = box.job("talker")["log_trouble"]
    assert first.endswith(" dropped")
    # The count keeps growing in status while output is dropped, not stuck at the first.
    wait_until(lambda: box.job("talker")["log_trouble"] != first, timeout=5)
    shown = box.cli("status", "talker", check=True).stdout
    assert "\nlog        stdout: disk full since " in shown
    assert "log      talker: stdout: disk full since " in box.cli("daemon", "status").stdout

    started = box.cli("start", "once")  # the audit line cannot be written; the job runs
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("once: running (pid ")
    box.wait_state("once", "completed")

    filler.unlink()
    resumed = events.wait_for(lambda e: e.data["log_trouble"] is None, timeout=10)
    assert resumed is not None
    size = box.home.job_log("talker").stat().st_size
    wait_until(lambda: box.home.job_log("talker").stat().st_size > size + 100)
    assert box.job("talker")["log_trouble"] is None
    assert box.job("talker")["pid"] == pid
    events.close()


def test_the_database_on_a_full_disk_notes_the_failure_and_recovers(small_home):
    """The controller's store on a real SQLite file: a write that fails for want of room
    raises nothing, is kept in `problem`, and the next write that works clears it."""
    store = Store(small_home.home.db_file)
    filler = small_home.home.root / "filler"
    _fill(filler)
    output = ("x" * 1000,) * 50
    for number in range(400):  # far more than the disk has room for
        store.record_run(Run(f"r{number}", "job", 1.0, 2.0, 0, None, "completed", output))
        if store.problem:
            break
    assert store.problem is not None and "database or disk is full" in store.problem
    assert store.runs("job") is not None  # reads go on answering
    filler.unlink()
    store.record_run(Run("after", "job", 3.0, 4.0, 0, None, "completed", ()))
    assert store.problem is None
    assert "after" in [recorded.run_id for recorded in store.runs("job", limit=1000)]
    store.close()


def test_a_repair_that_cannot_write_leaves_the_damaged_database_as_it_was(small_home):
    store = Store(small_home.home.db_file)
    output = ("x" * 500,) * 20
    for number in range(40):  # a few pages of runs, well within the small disk
        store.record_run(Run(f"r{number}", "job", 1.0, 2.0, 0, None, "completed", output))
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = small_home.home.db_file
    os.truncate(path, path.stat().st_size // 2)
    damaged = path.read_bytes()
    _fill(small_home.home.root / "filler")
    result = small_home.cli("db", "repair")
    assert result.returncode == 1
    assert result.stderr.startswith("procclaw: not repaired: the new database could not be")
    assert result.stderr.endswith(f"; {path} is as it was\n")
    assert path.read_bytes() == damaged
    left = {p.name for p in path.parent.glob("procclaw.db.*")}  # -wal/-shm: the check's
    assert left == set()


def test_what_a_run_left_in_its_pipe_is_all_taken_as_the_disk_fills(small_disk):
    # A splice into a nearly full disk moves what fits and comes back short with the
    # rest still in the pipe. The drain at a run's end must read on: the run's last
    # lines are its own, the trouble is told, and the next run starts on an empty pipe.
    home = Home(small_disk)
    home.make_directories()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    current().enlarge_pipe(out_w, 256 * 1024)
    output = JobOutput(JobConfig(id="burst", cmd="true"), home, out_r, err_r)
    try:
        lines = [b"%06d %s" % (number, b"x" * 90) for number in range(2000)]
        os.write(out_w, b"\n".join(lines) + b"\n")
        filler = small_disk / "filler"
        _fill(filler)
        os.truncate(filler, filler.stat().st_size - 16 * 1024)  # room for a few lines

        output.drain()

        with pytest.raises(BlockingIOError):
            os.read(out_r, 1)
        assert output.last_lines()[-1] == lines[-1].decode()
        assert (output.trouble() or "").startswith("stdout: disk full since ")
    finally:
        output.close()
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
