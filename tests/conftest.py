"""Test harness: a PROCCLAW_HOME per test, the installed CLI, real daemons torn down by pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from api_port import free_port, use_port
from openclaw_helpers import FakeOpenClawCli

from procclaw.client import Client
from procclaw.home import Home
from procclaw.platform import current
from procclaw.store import MIGRATIONS
from procclaw.subscription import Subscription

CLI = shutil.which("procclaw")
PROGRAMS = Path(__file__).parent / "programs"  # small jobs with exact behaviour


def is_gone(pid: int) -> bool:
    """True once `pid` is dead: no such process, or a zombie nobody has reaped yet."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def database_at(path: Path, version: int) -> sqlite3.Connection:
    """A procclaw.db as the release with schema `version` left it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (?)", (version,))
    for statements in MIGRATIONS[:version]:
        for statement in statements:
            db.execute(statement)
    return db


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02):
    """Poll `predicate` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


class Sandbox:
    """One test's PROCCLAW_HOME, the CLI pointed at it, and every process it started."""

    def __init__(self, root: Path):
        self.home = Home(root)
        self.env = {
            **os.environ,
            "PROCCLAW_HOME": str(root),
            "PYTHONUNBUFFERED": "1",
            # No test touches the keyring of the person running the tests.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            # Nor the OpenClaw memory of that person: this workspace does not exist, and
            # neither does this state dir (whose openclaw.json would come first).
            "OPENCLAW_WORKSPACE_DIR": str(root / "openclaw-workspace"),
            "OPENCLAW_STATE_DIR": str(root / "openclaw-state"),
        }
        # Nor their OpenClaw config file, profile or port, which would move the state dir's.
        for name in ("OPENCLAW_CONFIG_PATH", "OPENCLAW_PROFILE", "OPENCLAW_GATEWAY_PORT"):
            self.env.pop(name, None)
        self._known_pids: set[int] = set()
        self.last_start: subprocess.CompletedProcess | None = None  # of start_daemon
        self.api_port = free_port()

    def write(self, name: str, text: str) -> Path:
        path = self.home.root / name
        path.write_text(textwrap.dedent(text))
        return path

    def cli_path(self) -> str:
        assert CLI, "the procclaw console script is not installed: pip install -e '.[test]'"
        return CLI

    def cli(self, *args: str, timeout: float = 30.0, check: bool = False, **kwargs):
        command = [CLI, *args] if CLI else [sys.executable, "-m", "procclaw", *args]
        result = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout, **kwargs
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"procclaw {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def start_daemon(self, **run_options) -> int:
        """Start the daemon on this sandbox's API port; `run_options` go to subprocess.run."""
        use_port(self.home.config_file, self.api_port)
        self.last_start = self.cli("daemon", "start", check=True, **run_options)
        pid = self.client().daemon_pid()
        assert pid is not None
        self.remember_tree()
        return pid

    def run_jobs(self, jobs_yaml: str) -> int:
        """Write jobs.yaml and start the daemon on it."""
        self.write("jobs.yaml", jobs_yaml)
        return self.start_daemon()

    def job(self, job_id: str) -> dict:
        return self.client().call("status", {"job": job_id})

    def wait_state(self, job_id: str, *states: str, timeout: float = 15.0) -> dict:
        return wait_until(
            lambda: (job := self.job(job_id))["state"] in states and job, timeout=timeout
        )

    def wait_output(self, job_id: str, text: str) -> None:
        """Until the job wrote `text` to its log: it is past its own start-up."""
        log = self.home.job_log(job_id)
        wait_until(lambda: log.exists() and text in log.read_text())

    def client(self, timeout: float = 5.0) -> Client:
        return Client(self.home, timeout=timeout, caller="cli")

    def subscribe(self, *prefixes: str) -> Subscription:
        subscription = Subscription(self.home, prefixes or ("",))
        subscription.sync(self.client())
        return subscription

    def daemon_status(self) -> dict:
        return self.client().call_endpoint("daemon", "status")

    def actor(self, name: str) -> dict | None:
        for actor in self.daemon_status()["actors"]:
            if actor["name"] == name:
                return actor
        return None

    def supervisor_of(self, job_id: str) -> tuple[str, int]:
        """The name and pid of the supervisor holding a live job."""
        job = wait_until(lambda: (found := self.job(job_id)).get("sup_pid") and found)
        return job["supervisor"], job["sup_pid"]

    def held_jobs(self) -> set[str]:
        """The jobs some supervisor holds (root's word): a job at rest is let go."""
        held = self.client().call_endpoint("daemon", "held")["supervisors"]
        return {job for jobs in held.values() for job in jobs}

    def supervisor_names(self) -> set[str]:
        return {a["name"] for a in self.daemon_status()["actors"] if a["kind"] == "supervisor"}

    def actor_pid(self, name: str) -> int | None:
        for actor in self.daemon_status()["actors"]:
            if actor["name"] == name and actor["state"] == "up":
                return actor["pid"]
        return None

    def remember_tree(self) -> set[int]:
        """Record the daemon's whole process tree so teardown can kill it by pid."""
        pid = self.client().daemon_pid()
        if pid is None:
            return set()
        pids = {pid} | {p.pid for p in _descendants(pid)}
        self._known_pids |= pids
        return pids

    def teardown(self) -> None:
        if self.client().daemon_pid() is not None:
            self.remember_tree()
            self.cli("daemon", "stop", "--timeout", "20", timeout=30)
        for pid in self._known_pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.remove_cgroups()

    def cgroup_subtree(self) -> Path | None:
        """The daemon's cgroup subtree for this home, if it made one."""
        found = current().job_cgroups(self.home.root, create=False)
        return None if isinstance(found, str) else found.base

    def remove_cgroups(self) -> None:
        """Leave the cgroup hierarchy as found: kill what is left in this home's subtree
        (only ours: it is named for this home) and remove it, deepest first."""
        base = self.cgroup_subtree()
        if base is None:
            return
        (base / "cgroup.kill").write_text("1")
        wait_until(lambda: "populated 0" in (base / "cgroup.events").read_text(), timeout=10)
        for directory, _subdirs, _files in sorted(os.walk(base), reverse=True):
            Path(directory).rmdir()


REAL_OPENCLAW_OPTION = "--real-openclaw"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        REAL_OPENCLAW_OPTION,
        action="store_true",
        help="also run the tests marked real_openclaw, against the openclaw on PATH",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The real OpenClaw gateway takes minutes and a Node install: only when asked."""
    if config.getoption(REAL_OPENCLAW_OPTION):
        return
    skip = pytest.mark.skip(
        reason=f"runs the real OpenClaw gateway: opt in with {REAL_OPENCLAW_OPTION},"
        " with openclaw on PATH (see README, OpenClaw)"
    )
    for item in items:
        if "real_openclaw" in item.keywords:
            item.add_marker(skip)


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Short paths: unix socket addresses are limited to ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="pc-", dir="/tmp"))
    box = Sandbox(root)
    try:
        yield box
    finally:
        box.teardown()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def running(sandbox: Sandbox) -> Sandbox:
    """A sandbox with a daemon started from the sample config `procclaw init` writes."""
    sandbox.cli("init", check=True)
    sandbox.start_daemon()
    return sandbox


# A job that makes the daemon start every actor it starts only on demand: a scheduled
# job (the scheduler) with a file check (the health actor).
EVERY_ACTOR_JOB = """\

  yearly:
    cmd: 'true'
    type: scheduled
    schedule: "0 0 1 1 *"
    health_check: {type: file, path: /, max_age: 3600}
"""


@pytest.fixture
def every_actor(sandbox: Sandbox) -> Sandbox:
    """`running`, with every actor up: the sample config, a job that needs the
    scheduler and the health actor, an OpenClaw workspace for the alerter to note
    events in, and a first request to the API for the gateway."""
    sandbox.cli("init", check=True)
    with sandbox.home.jobs_file.open("a") as jobs:
        jobs.write(EVERY_ACTOR_JOB)
    Path(sandbox.env["OPENCLAW_WORKSPACE_DIR"]).mkdir()
    sandbox.start_daemon()
    wake_the_gateway(sandbox)
    return sandbox


def wake_the_gateway(sandbox: Sandbox) -> None:
    """Knock at the API (root starts the gateway for its first client); then wait until
    every actor is up."""
    with socket.create_connection(("127.0.0.1", sandbox.api_port), timeout=10):
        pass  # a knock is enough
    wait_until(lambda: all(a["state"] == "up" for a in sandbox.daemon_status()["actors"]))
    sandbox.remember_tree()


KEYRING_DOUBLE = Path(__file__).parent / "keyring_double"


@pytest.fixture
def disk_keyring(sandbox: Sandbox) -> Path:
    """Give the sandbox a usable keyring: an on-disk stand-in for the OS keyring service.

    Returns its file; creating `<file>.locked` makes it hang like a locked keyring.
    """
    path = sandbox.home.root / "test-keyring.json"
    pythonpath = [str(KEYRING_DOUBLE), *filter(None, [sandbox.env.get("PYTHONPATH")])]
    sandbox.env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    sandbox.env["PYTHON_KEYRING_BACKEND"] = "disk_keyring.DiskKeyring"
    sandbox.env["TEST_KEYRING_FILE"] = str(path)
    return path


@pytest.fixture
def workspace(sandbox: Sandbox) -> Path:
    """An OpenClaw workspace that exists, for the alerter's memory notes."""
    path = sandbox.home.root / "agent-workspace"
    path.mkdir()
    return path


@pytest.fixture
def cli(sandbox: Sandbox) -> FakeOpenClawCli:
    """A fake `openclaw` first on the daemon's PATH: alerts go through it."""
    fake = FakeOpenClawCli(sandbox.home.root / "bin")
    sandbox.env["PATH"] = f"{fake.bin_dir}:{sandbox.env['PATH']}"
    return fake
