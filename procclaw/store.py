"""`procclaw.db`: the controller's SQLite database (WAL mode, versioned schema).

The schema only moves forward through MIGRATIONS, applied in one transaction each and
recorded in `schema_version`, so a database from any earlier release opens in this one.
A database from a newer release is refused rather than misread.

Once open, the database is a record, never what keeps a job running: a write, or a read
of run history, that fails at run time (a full disk, an I/O error) is logged and kept in
`problem` for `status` and `daemon status` to show, and the controller carries on from
its memory. The reads a controller starts from stay strict: one that fails restarts
the controller rather than start it from empty state that its next write would make
permanent (a lost pause, a schedule fired twice).
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from procclaw.run import DURATION_BUCKETS, Run

# The newest runs of each job that `runs` can list; older ones are deleted, and stay
# counted in run_totals.
RUNS_KEPT = 10_000
# Each run's duration bucket, for runs recorded before run_totals (9e999: infinity).
_BUCKET_OF_A_RUN = (
    "CASE"
    + "".join(f" WHEN ended_at - started_at <= {bound} THEN {bound}" for bound in DURATION_BUCKETS)
    + " ELSE 9e999 END"
)
# run_totals counted from the runs table as it is.
_COUNT_EVERY_RUN = f"""INSERT INTO run_totals
    SELECT job, result, {_BUCKET_OF_A_RUN}, COUNT(*), SUM(ended_at - started_at)
    FROM runs GROUP BY 1, 2, 3"""

# Index i holds the statements that take the schema from version i to i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE applied_config (
               id INTEGER PRIMARY KEY CHECK (id = 1),
               daemon_id TEXT NOT NULL,
               settings_text TEXT,
               jobs_text TEXT,
               applied_at REAL NOT NULL
           )""",
    ),
    (
        # The last reported facts of each job (its supervisor owns them; this is the cache
        # a restarted controller or daemon starts from), and one row per finished run.
        """CREATE TABLE job_state (
               job TEXT PRIMARY KEY,
               facts TEXT NOT NULL,
               updated_at REAL NOT NULL
           )""",
        """CREATE TABLE runs (
               run_id TEXT PRIMARY KEY,
               job TEXT NOT NULL,
               started_at REAL NOT NULL,
               ended_at REAL NOT NULL,
               exit_code INTEGER,
               signal TEXT,
               result TEXT NOT NULL,
               output TEXT NOT NULL
           )""",
        "CREATE INDEX runs_by_job ON runs (job, ended_at)",
    ),
    (
        # Each scheduled job's latest due time already handled (fired, skipped or missed)
        # and which daemon's scheduler handled it, so no due time is ever fired twice;
        # and how many runs were skipped (its pause moved to `pauses`, below).
        """CREATE TABLE schedules (
               job TEXT PRIMARY KEY,
               last_due REAL,
               daemon_id TEXT,
               paused INTEGER NOT NULL DEFAULT 0,
               skipped INTEGER NOT NULL DEFAULT 0
           )""",
    ),
    (
        # Every job's pause (not only a scheduled job's): since when `pause` holds it down.
        """CREATE TABLE pauses (
               job TEXT PRIMARY KEY,
               since REAL NOT NULL
           )""",
        "INSERT INTO pauses SELECT job, strftime('%s', 'now') FROM schedules WHERE paused = 1",
        "ALTER TABLE schedules DROP COLUMN paused",
    ),
    (
        # How each run was started (procclaw/run.py CAUSES); '' for runs from before.
        "ALTER TABLE runs ADD COLUMN cause TEXT NOT NULL DEFAULT ''",
    ),
    (
        # The drop-ins of jobs.d/ as applied: a JSON map of file name to text.
        "ALTER TABLE applied_config ADD COLUMN dropins_text TEXT",
    ),
    (
        # Finished runs counted by job, result and duration bucket (procclaw/run.py), as
        # /metrics shows them: read in one small scan, and kept when old runs are not.
        """CREATE TABLE run_totals (
               job TEXT NOT NULL,
               result TEXT NOT NULL,
               bucket REAL NOT NULL,
               count INTEGER NOT NULL,
               duration_sum REAL NOT NULL,
               PRIMARY KEY (job, result, bucket)
           )""",
        _COUNT_EVERY_RUN,
    ),
    (
        # The changed jobs a reload stopped, to be started with their new config once at
        # rest: a controller restarted in between still owes them that start.
        "CREATE TABLE owed_restarts (job TEXT PRIMARY KEY)",
    ),
)


log = logging.getLogger("procclaw.store")
T = TypeVar("T")


class StoreError(Exception):
    """The database cannot be used as it is."""


def _tolerant(default: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A Store method whose sqlite3.Error is noted in `problem`, answering `default`."""

    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def tolerant(self: Store, *args: Any, **kwargs: Any) -> T:
            failures = self.failures
            try:
                result = method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                self.failed(method.__name__, exc)
                return default
            if self.failures == failures:  # its transaction committed too
                self.worked()
            return result

        return tolerant

    return wrap


@dataclass(frozen=True)
class ScheduleMark:
    """Where a scheduled job stands: the last due time handled, and runs skipped."""

    last_due: float | None = None
    daemon_id: str | None = None
    skipped: int = 0


@dataclass(frozen=True)
class ConfigSnapshot:
    """The config files' text as last applied, so a restarted controller reloads nothing."""

    daemon_id: str
    settings_text: str | None
    jobs_text: str | None
    dropins: dict[str, str] = field(default_factory=dict)  # jobs.d/, by file name


class Store:
    def __init__(self, path: Path, runs_kept: int = RUNS_KEPT):
        self.path = path
        self.runs_kept = runs_kept
        self._recorded_since_pruning: dict[str, int] = {}
        self.db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.problem: str | None = None  # the database's latest failure, until it works again
        self.failures = 0
        self._migrate()

    def failed(self, doing: str, exc: sqlite3.Error) -> None:
        self.failures += 1
        if self.problem is None:
            log.error("%s: %s failed: %s; jobs run on, unrecorded", self.path, doing, exc)
        self.problem = f"{doing} failed at {time.strftime('%H:%M:%S')}: {exc}"

    def worked(self) -> None:
        if self.problem is not None and not self.db.in_transaction:
            log.warning("%s: works again (after %s)", self.path, self.problem)
            self.problem = None

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            self.db.execute("INSERT INTO schema_version (version) VALUES (0)")
            current = 0
        else:
            current = row[0]
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this ProcClaw"
                f" understands ({len(MIGRATIONS)}): upgrade ProcClaw"
            )
        for version in range(current, len(MIGRATIONS)):
            with self.transaction():
                for statement in MIGRATIONS[version]:
                    self.db.execute(statement)
                self.db.execute("UPDATE schema_version SET version = ?", (version + 1,))

    def transaction(self):
        """A context manager for one write transaction."""
        return _Transaction(self)

    @property
    def schema_version(self) -> int:
        return self.db.execute("SELECT version FROM schema_version").fetchone()[0]

    @_tolerant(None)
    def save_config(self, snapshot: ConfigSnapshot) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO applied_config"
                " (id, daemon_id, settings_text, jobs_text, applied_at, dropins_text)"
                " VALUES (1, ?, ?, ?, ?, ?)",
                (
                    snapshot.daemon_id,
                    snapshot.settings_text,
                    snapshot.jobs_text,
                    time.time(),
                    json.dumps(snapshot.dropins),
                ),
            )

    def load_config(self) -> ConfigSnapshot | None:
        row = self.db.execute(
            "SELECT daemon_id, settings_text, jobs_text, dropins_text"
            " FROM applied_config WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        daemon_id, settings_text, jobs_text, dropins_text = row
        dropins = json.loads(dropins_text) if dropins_text else {}
        return ConfigSnapshot(daemon_id, settings_text, jobs_text, dropins)

    @_tolerant(None)
    def save_job_state(self, job: str, facts: dict[str, Any]) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO job_state VALUES (?, ?, ?)",
                (job, json.dumps(facts), time.time()),
            )

    def job_states(self) -> dict[str, dict[str, Any]]:
        rows = self.db.execute("SELECT job, facts FROM job_state").fetchall()
        return {job: json.loads(facts) for job, facts in rows}

    @_tolerant(None)
    def record_run(self, run: Run) -> None:
        """Record a finished run and count it; recording the same run twice keeps one row
        and counts it once."""
        with self.transaction():
            known = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,))
            counted = known.fetchone() is not None
            self.db.execute(
                "INSERT OR REPLACE INTO runs"
                " (run_id, job, started_at, ended_at, exit_code, signal, result, output, cause)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    run.job,
                    run.started_at,
                    run.ended_at,
                    run.exit_code,
                    run.signal,
                    run.result,
                    "\n".join(run.output),
                    run.cause,
                ),
            )
            if not counted:
                self.db.execute(
                    "INSERT INTO run_totals VALUES (?, ?, ?, 1, ?)"
                    " ON CONFLICT (job, result, bucket) DO UPDATE"
                    " SET count = count + 1, duration_sum = duration_sum + excluded.duration_sum",
                    (run.job, run.result, run.bucket, run.duration),
                )
                self._prune_runs(run.job)

    def count_runs_afresh(self) -> None:
        """run_totals from the runs kept: what a repair that could read no counts has."""
        with self.transaction():
            self.db.execute("DELETE FROM run_totals")
            self.db.execute(_COUNT_EVERY_RUN)

    def _prune_runs(self, job: str) -> None:
        """Keep the job's newest `runs_kept` runs; looked at once every hundredth of that
        many new runs, so that a run's record costs no walk through the others."""
        recorded = self._recorded_since_pruning.get(job, 0) + 1
        if recorded <= self.runs_kept // 100:
            self._recorded_since_pruning[job] = recorded
            return
        self._recorded_since_pruning[job] = 0
        self.db.execute(
            "DELETE FROM runs WHERE job = ? AND ended_at < (SELECT ended_at FROM runs"
            " WHERE job = ? ORDER BY ended_at DESC LIMIT 1 OFFSET ?)",
            (job, job, self.runs_kept - 1),
        )

    @_tolerant([])
    def runs(self, job: str, limit: int = 10) -> list[Run]:
        rows = self.db.execute(
            "SELECT run_id, job, started_at, ended_at, exit_code, signal, result, output, cause"
            " FROM runs WHERE job = ? ORDER BY ended_at DESC LIMIT ?",
            (job, limit),
        ).fetchall()
        return [Run(*row[:7], tuple(row[7].split("\n")) if row[7] else (), row[8]) for row in rows]

    @_tolerant(None)
    def save_schedule_mark(self, job: str, mark: ScheduleMark) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO schedules VALUES (?, ?, ?, ?)",
                (job, mark.last_due, mark.daemon_id, mark.skipped),
            )

    def schedule_marks(self) -> dict[str, ScheduleMark]:
        rows = self.db.execute("SELECT job, last_due, daemon_id, skipped FROM schedules").fetchall()
        return {job: ScheduleMark(due, daemon, skipped) for job, due, daemon, skipped in rows}

    def save_pause(self, job: str, since: float | None) -> bool:
        """Hold `job` down since `since`, or let it go (None); False if it was not
        written (see `problem`): a pause answered as done but lost would be undone by
        the next daemon start."""
        failures = self.failures
        try:
            with self.transaction():
                if since is None:
                    self.db.execute("DELETE FROM pauses WHERE job = ?", (job,))
                else:
                    self.db.execute("INSERT OR REPLACE INTO pauses VALUES (?, ?)", (job, since))
        except sqlite3.Error as exc:
            self.failed("save_pause", exc)
        if self.failures != failures:
            return False
        self.worked()
        return True

    @_tolerant(None)
    def save_owed_restart(self, job: str, owed: bool) -> None:
        with self.transaction():
            if owed:
                self.db.execute("INSERT OR IGNORE INTO owed_restarts VALUES (?)", (job,))
            else:
                self.db.execute("DELETE FROM owed_restarts WHERE job = ?", (job,))

    def owed_restarts(self) -> set[str]:
        """The jobs a reload stopped to restart them with their new config."""
        return {job for (job,) in self.db.execute("SELECT job FROM owed_restarts")}

    def pauses(self) -> dict[str, float]:
        """Each paused job, and since when."""
        return dict(self.db.execute("SELECT job, since FROM pauses").fetchall())

    def close(self) -> None:
        self.db.close()


def read_applied_config(path: Path) -> ConfigSnapshot | None:
    """The config last applied, read without writing: for actors beside the controller.

    None when the database or its table does not exist yet (a daemon just starting).
    """
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.OperationalError:
        return None
    try:
        row = db.execute(
            "SELECT daemon_id, settings_text, jobs_text FROM applied_config WHERE id = 1"
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()
    return ConfigSnapshot(*row) if row else None


class _Transaction:
    """One write transaction; inside another, it is part of that one (a batch of
    writes commits once). One that cannot begin or commit is noted in the store's
    `problem`, not raised: the writes in it are lost, the controller's work is not."""

    def __init__(self, store: Store):
        self.store = store
        self.db = store.db
        self._outer = False

    def __enter__(self) -> sqlite3.Connection:
        self._outer = not self.db.in_transaction
        if self._outer:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self.store.failed("a transaction", exc)
                self._outer = False
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._outer:
            return
        try:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        except sqlite3.Error as error:
            self.store.failed("a transaction", error)
            if self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # nothing more to lose
