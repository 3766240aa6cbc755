"""A damaged procclaw.db: `daemon start` refuses at once and names the repair, which
keeps every row that can be read; nothing of a job depends on the database."""

import os
import sqlite3
import time

JOBS = "jobs:\n  svc:\n    type: continuous\n    cmd: sleep 300\n  once:\n    cmd: 'true'\n"


def _history(sandbox):
    """A database with a config, job states and a few runs in it, daemon stopped."""
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("svc", "running")
    for _ in range(3):
        sandbox.cli("start", "once", check=True)
    sandbox.cli("daemon", "stop", check=True)


def _damage_header(path):
    with open(path, "r+b") as db:
        db.write(b"this is not a database header")


def test_a_database_whose_header_is_overwritten_is_refused_at_start_in_a_second(sandbox):
    _history(sandbox)
    _damage_header(sandbox.home.db_file)
    started = time.monotonic()
    result = sandbox.cli("daemon", "start")
    assert time.monotonic() - started < 2
    assert result.returncode == 1
    assert result.stderr == (
        f"procclaw: {sandbox.home.db_file} is damaged (file is not a database):"
        " `procclaw db repair` keeps what can be read and moves the damaged file aside;"
        " then start again\n"
    )
    assert sandbox.client().daemon_pid() is None
    check = sandbox.cli("db", "check")
    assert check.returncode == 1 and "is damaged: file is not a database" in check.stderr


def test_repair_of_an_unreadable_database_starts_afresh_and_says_what_was_lost(sandbox):
    _history(sandbox)
    _damage_header(sandbox.home.db_file)
    result = sandbox.cli("db", "repair", check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == f"repaired {sandbox.home.db_file} (file is not a database)"
    assert lines[1].startswith(f"  the damaged file is kept as {sandbox.home.db_file}.damaged-")
    assert "  lost: the run history: nothing could be read (file is not a database)" in lines
    assert sandbox.cli("db", "check", check=True).stdout == f"{sandbox.home.db_file}: ok\n"
    sandbox.start_daemon()
    sandbox.wait_state("svc", "running")


def test_repair_of_a_truncated_database_keeps_the_rows_it_can_read(sandbox):
    _history(sandbox)
    path = sandbox.home.db_file
    db = sqlite3.connect(path)  # enough runs that the table spans many pages
    with db:
        db.executemany(
            "INSERT INTO runs (run_id, job, started_at, ended_at, exit_code, signal, result,"
            " output) VALUES (?, 'once', 1, 2, 0, NULL, 'completed', ?)",
            [(f"r{i}", "x" * 500) for i in range(400)],
        )
    recorded = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file that is cut
    db.close()
    os.truncate(path, os.path.getsize(path) * 2 // 3)
    assert sandbox.cli("daemon", "start").returncode == 1
    result = sandbox.cli("db", "repair", check=True)
    kept = next(line for line in result.stdout.splitlines() if line.startswith("  kept: "))
    assert "the config last applied (1 row)" in kept
    with sqlite3.connect(path) as db:
        runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    assert 0 < runs < recorded
    sandbox.start_daemon()
    sandbox.wait_state("svc", "running")


def test_repair_is_refused_while_the_daemon_runs(running):
    result = running.cli("db", "repair")
    pid = running.client().daemon_pid()
    assert (result.returncode, result.stderr) == (
        1,
        f"procclaw: the daemon is running (pid {pid}): `procclaw daemon stop` first\n",
    )
