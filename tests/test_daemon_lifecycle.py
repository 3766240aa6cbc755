"""Starting and stopping the daemon from the installed CLI."""

import os
import signal
import stat
import subprocess

import psutil
from conftest import is_gone, wait_until

from actors.runtime.registry import CORE_ACTORS


def test_start_runs_root_zygote_and_core_actors_then_stop_leaves_nothing(sandbox):
    sandbox.cli("init", check=True)
    result = sandbox.cli("daemon", "start", check=True)
    assert "procclaw daemon started" in result.stdout
    root_pid = sandbox.client().daemon_pid()
    tree = sandbox.remember_tree()
    status = sandbox.daemon_status()
    assert status["pid"] == root_pid
    # The sample config's continuous job starts with the daemon, under its supervisor.
    wait_until(lambda: running_jobs(sandbox) == ["clock"])
    actors = {a["name"]: a["state"] for a in sandbox.daemon_status()["actors"]}
    supervisor, _ = sandbox.supervisor_of("clock")
    # The sample config has no scheduled job, no check but `process`, no alert channel
    # and no OpenClaw workspace, and the API has had no client: those actors are off.
    started = {"controller": "up", supervisor: "up"}
    assert actors == {**dict.fromkeys(CORE_ACTORS, "off"), **started}
    tree = sandbox.remember_tree()
    assert status["zygote_pid"] in tree
    assert sandbox.home.pid_file.read_text().strip() == str(root_pid)

    stopped = sandbox.cli("daemon", "stop", check=True)
    assert f"stopped (pid {root_pid})" in stopped.stdout
    assert not [pid for pid in tree if not is_gone(pid)]
    assert not sandbox.home.pid_file.exists()
    assert not list(sandbox.home.run_dir.glob("*.sock"))


def running_jobs(box):
    return [job["id"] for job in box.client().call("list") if job["state"] == "running"]


def test_background_daemon_is_detached_into_its_own_session_and_logs_to_daemon_log(running):
    root = psutil.Process(running.client().daemon_pid())
    assert os.getsid(root.pid) == root.pid  # its own session: no controlling terminal
    assert "daemon started" in running.home.daemon_log.read_text()
    assert root.cwd() == str(running.home.root)


def test_run_dir_is_private_whatever_the_umask(sandbox):
    sandbox.cli("init", check=True)
    result = subprocess.run(
        ["sh", "-c", 'umask 000 && exec "$0" daemon start', sandbox.cli_path()],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    sandbox.remember_tree()
    assert stat.S_IMODE(sandbox.home.run_dir.stat().st_mode) == 0o700


def test_second_start_is_refused_and_the_first_daemon_is_untouched(running):
    first = running.client().daemon_pid()
    controller = running.actor_pid("controller")
    result = running.cli("daemon", "start")
    assert result.returncode == 1
    assert result.stderr.strip() == f"procclaw: already running (pid {first})"
    assert running.client().daemon_pid() == first
    assert running.actor_pid("controller") == controller
    assert running.client().call("ping")["pid"] == controller
    # The root this start launched (to import while the check ran) is gone again.
    roots = [pid for pid in processes_of(running) if "root" in psutil.Process(pid).name()]
    assert roots == [first]


def test_a_start_refused_for_its_config_leaves_no_process_and_nothing_in_the_log(sandbox):
    sandbox.home.jobs_file.write_text("jobs:\n  a:\n    cmd: sleep 1\n    bogus: 1\n")
    result = sandbox.cli("daemon", "start")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{sandbox.home.jobs_file}:4: job 'a': unknown key 'bogus'",
        "procclaw: not started: fix the config above (`procclaw config --validate`)",
    ]
    assert processes_of(sandbox) == []
    assert sandbox.home.daemon_log.read_text() == ""
    assert not sandbox.home.pid_file.exists()


def test_a_root_that_dies_while_starting_is_reported_with_what_it_said(sandbox, tmp_path):
    broken = tmp_path / "broken"
    (broken / "actors" / "root").mkdir(parents=True)
    for package in ("actors", "actors/root"):
        (broken / package / "__init__.py").write_text("")
    (broken / "actors/root/actor.py").write_text('raise ImportError("a broken install")\n')
    path = os.pathsep.join(filter(None, [str(broken), sandbox.env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sandbox.cli_path(), "daemon", "start"],
        env={**sandbox.env, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "procclaw: daemon failed to start (exit 1):" in result.stderr
    assert "ImportError: a broken install" in result.stderr
    assert processes_of(sandbox) == []


def processes_of(box) -> list[int]:
    """Every process started with this sandbox's PROCCLAW_HOME, or in it (a process title
    may write over the environment)."""
    home = str(box.home.root)
    found = []
    for process in psutil.process_iter(["environ", "cwd"]):
        environ = process.info["environ"] or {}
        if home in (environ.get("PROCCLAW_HOME"), process.info["cwd"]):
            found.append(process.pid)
    return found


def test_a_stale_pid_file_from_a_dead_daemon_does_not_block_a_start(sandbox):
    sandbox.cli("init", check=True)
    sandbox.home.root.mkdir(exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    sandbox.home.pid_file.write_text(f"{dead.pid}\n")
    (sandbox.home.run_dir).mkdir(mode=0o700, exist_ok=True)
    (sandbox.home.run_dir / "controller.sock").write_text("stale")
    assert sandbox.cli("list").stderr.startswith("procclaw: daemon not running")
    pid = sandbox.start_daemon()
    assert pid != dead.pid
    assert sandbox.client().call("ping")


def test_sigterm_to_root_stops_everything_and_exits_zero(sandbox):
    sandbox.cli("init", check=True)
    proc = subprocess.Popen(
        [sandbox.cli_path(), "daemon", "start", "-f"],
        env=sandbox.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: sandbox.client().daemon_pid() == proc.pid, timeout=15)
        wait_until(lambda: sandbox.actor_pid("controller"), timeout=15)
        tree = sandbox.remember_tree()
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        wait_until(lambda: all(is_gone(pid) for pid in tree), timeout=5)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_daemon_status_reports_actors_and_exits_three_when_not_running(sandbox):
    sandbox.cli("init", check=True)
    down = sandbox.cli("daemon", "status")
    assert down.returncode == 3
    assert "daemon not running" in down.stderr
    sandbox.start_daemon()
    up = sandbox.cli("daemon", "status", check=True)
    assert "procclaw daemon running" in up.stdout
    assert "controller" in up.stdout


def test_daemon_logs_shows_the_end_of_the_daemon_log(every_actor):
    running = every_actor
    result = running.cli("daemon", "logs", "-n", "5", check=True)
    shown = result.stdout.splitlines()
    logged = running.home.daemon_log.read_text().splitlines()  # it may have grown since
    assert len(shown) == 5 and len(logged) > 5
    start = logged.index(shown[0])
    assert start > 0 and logged[start : start + 5] == shown


def test_ctrl_c_at_a_foreground_daemon_stops_jobs_gracefully_and_exits_zero(sandbox):
    sandbox.write(
        "jobs.yaml",
        """\
        jobs:
          polite:
            type: continuous
            shell: true
            cmd: trap 'echo got TERM; exit 0' TERM; echo up; while true; do sleep 0.05; done
        """,
    )
    # Like a terminal: the daemon leads a process group, and Ctrl-C signals all of it.
    proc = subprocess.Popen(
        [sandbox.cli_path(), "daemon", "start", "-f"],
        env=sandbox.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    try:
        wait_until(lambda: "up" in _read(sandbox.home.job_log("polite")), timeout=15)
        tree = sandbox.remember_tree()
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert "got TERM" in _read(sandbox.home.job_log("polite"))  # stopped, not interrupted
        wait_until(lambda: all(is_gone(pid) for pid in tree), timeout=5)
    finally:
        proc.kill()
        proc.wait()


def _read(path):
    return path.read_text() if path.exists() else ""


def test_the_zygote_forked_from_root_keeps_none_of_roots_descriptors_but_its_own(running):
    """Root's lock and its readiness pipe to `daemon start` must stay root's alone.

    A zygote (or an actor forked from it) holding the lock would keep a second daemon
    out after root died; one holding the readiness pipe would keep `daemon start`
    waiting for an end of file that never comes.
    """
    zygote = running.daemon_status()["zygote_pid"]
    root = running.client().daemon_pid()
    # At rest: while it forks a supervisor, it holds that one's channel from root too.
    running.wait_state("clock", "running")

    def targets() -> dict[str, str]:
        return {
            fd: os.readlink(f"/proc/{zygote}/fd/{fd}") for fd in os.listdir(f"/proc/{zygote}/fd")
        }

    def beyond_stdio() -> list[str]:
        return sorted(target.split(":")[0] for fd, target in targets().items() if int(fd) > 2)

    # The lifeline and the channel to root.
    wait_until(lambda: beyond_stdio() == ["pipe", "socket"], timeout=10)
    assert str(running.home.pid_file) not in targets().values()
    assert psutil.Process(zygote).ppid() == root
