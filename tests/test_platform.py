"""The platform layer: Linux-only calls stay in its Linux part, and the portable part
does what the daemon asks of it, on real processes (here on Linux, as on a Mac)."""

from __future__ import annotations

import ast
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import wait_until

from procclaw.home import Home
from procclaw.platform import PlatformError, current
from procclaw.platform.linux import LinuxPlatform
from procclaw.platform.portable import PortablePlatform

ROOT = Path(__file__).parent.parent
LINUX_PART = ROOT / "procclaw" / "platform" / "linux.py"
# The Linux implementation's other parts: the daemon's cgroup v2 subtree, and the
# spawner that starts runs born in their cgroups.
LINUX_HELPERS = tuple(
    ROOT / "procclaw" / "platform" / name for name in ("linux_cgroups.py", "linux_spawner.py")
)
LINUX_ONLY_NAMES = {
    "pidfd_open",
    "pidfd_send_signal",
    "splice",
    "SPLICE_F_NONBLOCK",
    "F_SETPIPE_SZ",
    "prctl",
    "timerfd_create",
    "timerfd_settime",
}


def _linux_only_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if isinstance(node, ast.Attribute | ast.Name) and name in LINUX_ONLY_NAMES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and text.startswith("/proc"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text}")
    return found


def test_no_linux_only_call_is_made_outside_the_linux_platform():
    sources = [*ROOT.glob("procclaw/**/*.py"), *ROOT.glob("actors/**/*.py")]
    linux = (LINUX_PART, *LINUX_HELPERS)
    found = [hit for path in sources if path not in linux for hit in _linux_only_calls(path)]
    assert found == []
    assert _linux_only_calls(LINUX_PART)  # the check itself sees them


def test_an_unknown_platform_is_refused_in_one_line(monkeypatch):
    monkeypatch.setenv("PROCCLAW_PLATFORM", "windows95")
    current.cache_clear()
    try:
        with pytest.raises(PlatformError, match="PROCCLAW_PLATFORM='windows95' is unknown"):
            current()
    finally:
        current.cache_clear()


PLATFORMS = pytest.mark.parametrize(
    "platform", [LinuxPlatform(), PortablePlatform()], ids=lambda p: p.name
)


@pytest.fixture
def sleeper():
    marker = f"PROCCLAW_RUN=test-{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "PROCCLAW_RUN": marker.partition("=")[2]}
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env)
    yield process, marker.encode()
    process.kill()
    process.wait()


@PLATFORMS
def test_a_process_keeps_its_identity_and_a_gone_one_has_none(platform, sleeper):
    process, _ = sleeper
    first = platform.process_start_time(process.pid)
    assert first is not None and platform.process_start_time(process.pid) == first
    process.kill()
    process.wait()
    assert platform.process_start_time(process.pid) is None


@PLATFORMS
def test_the_exit_of_a_watched_process_makes_its_descriptor_readable(platform, sleeper):
    process, _ = sleeper
    watch = platform.watch_exit(process.pid)
    try:
        assert not select.select([watch.fd], [], [], 0.1)[0]
        process.kill()
        process.wait()
        assert select.select([watch.fd], [], [], 10)[0]
    finally:
        watch.close()
    assert platform.watch_exit(process.pid) is None


@PLATFORMS
def test_waiting_for_an_exit_ends_when_the_process_does_or_at_the_timeout(platform, sleeper):
    process, _ = sleeper
    assert platform.wait_for_exit(process.pid, 0.1) is False
    process.kill()
    process.wait()
    assert platform.wait_for_exit(process.pid, 5) is True


@PLATFORMS
def test_a_process_carrying_a_run_marker_is_found_and_killed(platform, sleeper):
    process, marker = sleeper
    assert platform.processes_marked(marker) == [process.pid]
    assert platform.processes_marked(marker + b"-other") == []
    platform.kill_marked(process.pid, marker + b"-other")  # not this run's: spared
    assert process.poll() is None
    platform.kill_marked(process.pid, marker)
    wait_until(lambda: process.poll() is not None)


def test_the_portable_platform_cannot_tell_about_strays_so_it_looks():
    assert PortablePlatform().has_strays(frozenset()) is True
    assert PortablePlatform().become_subreaper() is False


def test_this_machine_runs_the_platform_it_asked_for():
    wanted = os.environ.get("PROCCLAW_PLATFORM") or "linux"
    assert current().name == wanted


def test_daemon_status_says_which_platform_runs(sandbox):
    sandbox.env["PROCCLAW_PLATFORM"] = "portable"
    sandbox.start_daemon()
    assert "platform portable" in sandbox.cli("daemon", "status", check=True).stdout


def test_a_daemon_asked_for_an_unknown_platform_does_not_start(sandbox):
    sandbox.env["PROCCLAW_PLATFORM"] = "beos"
    result = sandbox.cli("daemon", "start")
    assert result.returncode != 0
    assert "PROCCLAW_PLATFORM='beos' is unknown: use one of linux, portable" in result.stderr


def test_a_long_job_id_gets_a_socket_path_that_fits_a_mac(tmp_path):
    home = Home(tmp_path / "h")
    long_ids = ["notify-" + "a" * 90, "notify-" + "a" * 89 + "b"]
    paths = [home.socket_file(name) for name in long_ids]
    assert all(len(str(path)) <= 100 for path in paths)  # macOS allows 104 with its NUL
    assert paths[0] != paths[1]
    assert home.socket_file("controller") == home.run_dir / "controller.sock"


@PLATFORMS
def test_what_is_below_a_process_is_found_and_killed_only_if_still_the_same(platform):
    shell = subprocess.Popen(["sh", "-c", "sleep 61 & wait"])
    try:
        [(child, start_time)] = wait_until(lambda: platform.descendants(shell.pid))
        platform.kill_same(child, start_time + "-not-this-one")
        assert platform.process_start_time(child) == start_time  # spared
        platform.kill_same(child, start_time)
        wait_until(lambda: platform.process_start_time(child) is None)
    finally:
        shell.kill()
        shell.wait()


@PLATFORMS
def test_the_processes_below_each_root_are_found_and_none_below_a_gone_one(platform):
    shell = subprocess.Popen(["sh", "-c", "sleep 61 & sleep 62 & wait"])
    gone = subprocess.Popen(["true"])
    gone.wait()
    try:
        wait_until(lambda: len(platform.trees([shell.pid])[shell.pid]) == 2)
        assert platform.trees([shell.pid, gone.pid])[gone.pid] == []
    finally:
        for pid in platform.trees([shell.pid])[shell.pid]:
            os.kill(pid, signal.SIGKILL)
        shell.kill()
        shell.wait()


SPAWNER_LET_GO = """
import os, sys
from procclaw.platform import linux
platform = linux.LinuxPlatform()
platform.start_spawner("sup-test")
spawner = linux._spawner.pid
platform.stop_spawner()  # it exits once its end of the pair reads nothing, and is reaped
assert platform.spawn_in_cgroup("/", None) is None  # none asked once let go
print("gone" if not os.path.exists(f"/proc/{spawner}") else "still there")
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the spawner is Linux's")
def test_a_spawner_let_go_exits_and_starts_nothing_more():
    """A supervisor where the daemon has no cgroups lets its spawner go at once."""
    done = subprocess.run(
        [sys.executable, "-c", SPAWNER_LET_GO], capture_output=True, text=True, timeout=30
    )
    assert (done.returncode, done.stdout.strip()) == (0, "gone"), done.stderr
