"""`ps aux | grep procclaw` tells the daemon's processes apart: root by its home, each
actor by its name, a supervisor by the jobs it holds, as it takes and lets go of them."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import EVERY_ACTOR_JOB, Sandbox, wait_until, wake_the_gateway

from procclaw.platform import current

pytestmark = pytest.mark.timeout(60)

SLEEPERS = """\
jobs:
  web:
    cmd: sleep 300
    type: continuous
  db:
    cmd: sleep 300
    type: continuous
"""


def title(pid: int) -> str:
    """What `ps -o args` shows: the command line, here the title set in its place."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode()


def assert_short_name(pid: int, name: str) -> None:
    """The 15-byte name of `ps -e` and pkill, which only the linux layer sets apart."""
    if current().name == "linux":
        assert Path(f"/proc/{pid}/comm").read_text().strip() == name


def test_root_each_actor_and_a_supervisor_holding_two_jobs_are_named(sandbox):
    sandbox.write("procclaw.yaml", "daemon:\n  supervisors: 1\n")
    Path(sandbox.env["OPENCLAW_WORKSPACE_DIR"]).mkdir()  # the alerter notes events there
    root = sandbox.run_jobs(SLEEPERS + EVERY_ACTOR_JOB)
    wake_the_gateway(sandbox)
    sandbox.wait_state("web", "running")
    sandbox.wait_state("db", "running")
    status = sandbox.daemon_status()

    assert title(root) == f"procclaw: root {sandbox.home.root}"
    assert_short_name(root, "procclaw-root")
    assert title(status["zygote_pid"]) == "procclaw: zygote"
    core = {a["name"]: a["pid"] for a in status["actors"] if a["kind"] != "supervisor"}
    assert {"controller", "scheduler", "health", "alerter", "gateway"} <= set(core)
    for name, pid in core.items():
        assert title(pid) == f"procclaw: {name}"
        assert_short_name(pid, f"pc-{name}")
    _, supervisor = sandbox.supervisor_of("web")
    assert sandbox.supervisor_of("db")[1] == supervisor
    assert title(supervisor) == "procclaw: supervisor db,web"

    sandbox.cli("stop", "db", check=True)
    wait_until(lambda: title(supervisor) == "procclaw: supervisor web")
    sandbox.cli("start", "db", check=True)
    wait_until(lambda: title(supervisor) == "procclaw: supervisor db,web")


def test_ps_finds_the_daemon_by_name_and_tells_two_homes_apart(sandbox):
    other = Sandbox(Path(tempfile.mkdtemp(prefix="pc-", dir="/tmp")))
    # In the user's home, the home is shown as a shell prompt shows it.
    other.env["HOME"] = str(other.home.root.parent)
    try:
        first = sandbox.run_jobs("jobs: {}\n")
        second = other.run_jobs("jobs: {}\n")
        shown = subprocess.run(
            ["ps", "-o", "pid=,args=", "-p", f"{first},{second}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines = {
            int(pid): args for pid, args in (line.split(None, 1) for line in shown.splitlines())
        }
        assert lines[first].strip() == f"procclaw: root {sandbox.home.root}"
        assert lines[second].strip() == f"procclaw: root ~/{other.home.root.name}"
    finally:
        other.teardown()
        shutil.rmtree(other.home.root, ignore_errors=True)
