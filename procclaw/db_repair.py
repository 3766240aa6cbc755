"""Checking procclaw.db before a daemon opens it, and repairing one that is damaged.

A truncated file or an overwritten header used to let the daemon start, then kill its
controller at every restart. `daemon start` now checks first and refuses in one line,
and `procclaw db repair` moves the damaged file aside, starts a new database and copies
into it whatever rows can still be read. The database is a record (applied config, last
job states, runs, schedule marks), never what keeps a job running, so losing part of it
costs history, not jobs.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from procclaw.store import Store

# What each table holds, as the repair report names it.
TABLES = {
    "applied_config": "the config last applied",
    "job_state": "the last known state of each job",
    "runs": "the run history",
    "schedules": "the schedule marks (last due time handled, skip count)",
    "pauses": "the paused jobs",
    "run_totals": "the counts of finished runs",
    "owed_restarts": "the restarts a reload owes",
}


def database_problem(path: Path) -> str | None:
    """Why the database at `path` cannot be used, or None (also when it does not exist)."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(path, timeout=2.0)
        try:
            verdict = db.execute("PRAGMA quick_check(1)").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    if verdict is None or verdict[0] != "ok":
        return verdict[0] if verdict else "its integrity check gave no answer"
    return None


@dataclass
class RepairReport:
    damaged_copy: Path
    kept: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    lost: dict[str, str] = field(default_factory=dict)  # table -> what was lost

    def lines(self) -> list[str]:
        lines = [f"the damaged file is kept as {self.damaged_copy}"]
        if self.kept:
            kept = ", ".join(
                f"{TABLES[table]} ({rows} row{'s' if rows != 1 else ''})"
                for table, rows in self.kept.items()
            )
            lines.append(f"kept: {kept}")
        lines += [f"lost: {TABLES[table]}: {what}" for table, what in self.lost.items()]
        return lines


class RepairFailed(Exception):
    """The new database could not be written; the damaged one is where it was."""


def repair(path: Path) -> RepairReport:
    """Build a new database beside the one at `path` from what can be read of it, then
    move the damaged one aside and the new one into its place.

    The daemon must not be running. The -wal and -shm files move with the damaged file:
    the WAL may hold the latest writes. Until the new database is whole, nothing at
    `path` changes: a repair that fails (a full disk) leaves it as it was.
    """
    damaged = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    building = path.with_name(f"{path.name}.repairing")
    _remove(building)
    report = RepairReport(damaged)
    reading = path.with_name(f"{path.name}.reading")
    try:
        _padded_copy(path, reading)
        _copy_readable(reading, building, report)
    except (sqlite3.Error, OSError) as exc:
        _remove(building)
        raise RepairFailed(
            f"the new database could not be written ({exc}); {path} is as it was"
        ) from None
    finally:
        reading.unlink(missing_ok=True)
    _move(path, damaged)
    _move(building, path)
    return report


def _copy_readable(reading: Path, building: Path, report: RepairReport) -> None:
    store = Store(building)
    old = sqlite3.connect(reading, timeout=2.0)
    try:
        present = _tables_in(old)
        for table in TABLES:
            if present is not None and table not in present:
                continue  # a database from a release before that table
            rows, problem = _readable_rows(old, table)
            # A database from before a column was added has fewer: the new ones take
            # their defaults (columns are only ever added at the end).
            columns = [info[1] for info in store.db.execute(f"PRAGMA table_info({table})")]
            kept = 0
            with store.transaction():
                for row in rows:
                    names = ", ".join(columns[: len(row)])
                    marks = ", ".join("?" * len(row))
                    try:
                        store.db.execute(
                            f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", row
                        )
                    except sqlite3.IntegrityError:
                        continue  # a row the damage left without what it must have
                    kept += 1
            if store.failures:
                raise sqlite3.OperationalError(store.problem)
            if kept:
                report.kept[table] = kept
            if kept < len(rows):
                problem = "; ".join(filter(None, [problem, f"{len(rows) - kept} damaged rows"]))
            if problem:
                report.lost[table] = problem
        if "run_totals" not in report.kept:
            store.count_runs_afresh()  # the runs deleted before are no longer counted
    finally:
        old.close()
        store.close()


def _tables_in(db: sqlite3.Connection) -> set[str] | None:
    """The tables the database has, or None when its schema cannot be read."""
    try:
        return {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError:
        return None


def _move(path: Path, to: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            os.replace(source, to.with_name(to.name + suffix))


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _readable_rows(db: sqlite3.Connection, table: str) -> tuple[list[tuple], str | None]:
    """The rows of `table` that can be read, and what could not be, if anything.

    A table that cannot be read whole is read row by row from its first row forward and
    from its last row back, each until the damage: what lies between is lost.
    """
    try:
        return db.execute(f"SELECT * FROM {table}").fetchall(), None
    except sqlite3.DatabaseError as exc:
        why = str(exc)
    found: dict[int, tuple] = {}
    for order in ("ASC", "DESC"):
        try:
            cursor = db.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid {order}")
            while (row := cursor.fetchone()) is not None and row[0] not in found:
                found[row[0]] = row[1:]
        except sqlite3.DatabaseError:
            continue
    rows = [found[rowid] for rowid in sorted(found)]
    if not rows:
        return [], f"nothing could be read ({why})"
    return rows, f"the rows in its damaged part ({why})"


def _padded_copy(damaged: Path, copy: Path) -> None:
    """Copy the damaged file, grown back to the size its header gives: SQLite reads
    nothing at all of a file shorter than its header says, and zeroed pages only cost
    the rows that were on them."""
    shutil.copyfile(damaged, copy)
    with open(copy, "r+b") as file:
        header = file.read(100)
        if len(header) == 100 and header.startswith(b"SQLite format 3\0"):
            page_size = struct.unpack(">H", header[16:18])[0]
            pages = struct.unpack(">I", header[28:32])[0]
            size = (65536 if page_size == 1 else page_size) * pages
            actual = os.fstat(file.fileno()).st_size
            # A damaged header may claim terabytes: grow no further than real loss could.
            size = min(size, max(16 * actual, actual + 64 * 1024**2))
            if size > actual:
                file.truncate(size)
