"""`procclaw daemon`: start, stop and inspect the daemon.

Usage:
  procclaw daemon start [-f]
  procclaw daemon stop [--timeout=SECONDS]
  procclaw daemon status [--json]
  procclaw daemon logs [-f] [-n N]

Options:
  -f                   start: stay in the foreground (for systemd, launchd, a terminal);
                       logs: follow the log as it grows
  -n N                 How many lines of the log to show [default: 50]
  --timeout=SECONDS    How long `stop` waits for jobs to stop gracefully [default: 120]
  --json               Print machine-readable JSON

`daemon status` exits 0 when the daemon runs and 3 when it does not.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

from procclaw.cli.arguments import line_count, seconds
from procclaw.cli.errors import CliFailure
from procclaw.cli.render import format_duration
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home
from procclaw.platform import current

USAGE = __doc__
READY_TIMEOUT = 30.0
NOT_RUNNING = 3


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    home = Home.from_env()
    if args["start"]:
        return start(home, foreground=args["-f"])
    if args["stop"]:
        return stop(home, timeout=seconds(args["--timeout"], "--timeout"))
    if args["status"]:
        return status(home, as_json=args["--json"])
    from procclaw.logfiles import show_file

    return show_file(home.daemon_log, lines=line_count(args["-n"]), follow=args["-f"])


def _check_can_start(home: Home) -> str:
    """Refuse early, with the reason, anything that would make the daemon fail; the log level."""
    from procclaw.config import ConfigError, load_config
    from procclaw.cpu_limits import local_refusal
    from procclaw.pidfile import PidFile

    pid = PidFile(home.pid_file).running_pid()
    if pid is not None:
        raise CliFailure(f"already running (pid {pid})")
    current()  # PlatformError: the platform asked for cannot run here
    try:
        config = load_config(home, local_refusal(home.root, daemon_started=False))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise CliFailure(
            "not started: fix the config above (`procclaw config --validate`)"
        ) from None
    from procclaw.db_repair import database_problem

    if problem := database_problem(home.db_file):
        raise CliFailure(
            f"{home.db_file} is damaged ({problem}): `procclaw db repair` keeps what can be"
            " read and moves the damaged file aside; then start again"
        )
    tightened = home.prepare()
    if tightened:
        print(f"procclaw: {home.describe_tightened(tightened)}", file=sys.stderr)
    home.check_socket_room()  # a too-long PROCCLAW_HOME is refused here, not in the daemon
    return config.settings.daemon.log_level


def start(home: Home, foreground: bool) -> int:
    command = [sys.executable, "-m", "actors.root.actor"]
    if foreground:
        log_level = _check_can_start(home)
        os.execv(sys.executable, [*command, "--log-level", log_level])
    # Root imports its code (a few hundred ms) while we check the config; it waits on
    # `go` for the log level, and is killed unstarted if the check fails.
    home.make_directories()  # for the daemon's log, which root writes from the start
    go_reader, go_writer = os.pipe()
    reader, writer = os.pipe()
    log_offset = home.daemon_log.stat().st_size if home.daemon_log.exists() else 0
    log_fd = os.open(home.daemon_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(log_fd, "ab") as log_file:
        daemon = subprocess.Popen(
            [*command, "--go-fd", str(go_reader), "--notify-fd", str(writer)],
            pass_fds=(go_reader, writer),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            cwd=home.root,
        )
    os.close(go_reader)
    os.close(writer)
    try:
        try:
            log_level = _check_can_start(home)
        except BaseException:
            daemon.kill()  # it has done nothing yet but import
            daemon.wait()
            raise
        try:
            os.write(go_writer, f"{log_level}\n".encode())
        except BrokenPipeError:
            pass  # root died while importing: its exit status and log say why, below
        ready = _wait_ready(reader, READY_TIMEOUT)
    finally:
        os.close(reader)
        os.close(go_writer)
    if not ready:
        code = daemon.poll()
        problem = _log_since(home, log_offset) or "no output"
        if code is None:
            raise CliFailure(f"daemon (pid {daemon.pid}) not ready after {READY_TIMEOUT:g} s")
        raise CliFailure(f"daemon failed to start (exit {code}):\n{problem}")
    daemon.returncode = 0  # it lives on without us; nothing to reap
    print(f"procclaw daemon started (pid {daemon.pid}, home {home.root})")
    return 0


def _wait_ready(reader: int, timeout: float) -> bool:
    """Wait for root's `ready` line; EOF first means it died starting."""
    deadline = time.monotonic() + timeout
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([reader], [], [], left)
        if not readable:
            return False
        chunk = os.read(reader, 64)
        if not chunk:
            return False
        data += chunk
        if b"ready" in data:
            return True
    return False


def _log_since(home: Home, offset: int) -> str:
    try:
        with open(home.daemon_log, "rb") as log_file:
            log_file.seek(offset)
            return log_file.read(8192).decode(errors="replace").strip()
    except OSError:
        return ""


def stop(home: Home, timeout: float) -> int:
    from procclaw.client import Client, DaemonNotAnswering

    client = Client(home)
    pid = client.require_daemon()
    try:
        client.require_socket("daemon")
        client.call("shutdown")
    except DaemonNotAnswering as exc:
        # The lock proves the pid is the daemon; SIGTERM stops it as `shutdown` would.
        print(f"procclaw: {exc.message}; sending SIGTERM to pid {pid}", file=sys.stderr)
        os.kill(pid, signal.SIGTERM)
    if not current().wait_for_exit(pid, timeout):
        raise CliFailure(f"daemon (pid {pid}) still stopping after {timeout:g} s")
    print(f"procclaw daemon stopped (pid {pid})")
    return 0


def status(home: Home, as_json: bool) -> int:
    from procclaw.client import Client, ClientError, DaemonNotRunning

    client = Client(home)
    try:
        daemon = client.call_endpoint("daemon", "status")
    except DaemonNotRunning as exc:
        if as_json:
            print(json.dumps({"running": False}))
        else:
            print(f"procclaw: {exc}", file=sys.stderr)
        return NOT_RUNNING
    database, log_troubles = None, {}
    try:
        controller = client.call("ping")
        jobs: int | str = controller["jobs"]
        database, log_troubles = controller.get("database"), controller.get("log_troubles", {})
    except ClientError as exc:
        jobs = f"unknown: {exc.message}"  # root's own report still stands
    if as_json:
        extra = {
            "jobs": jobs,
            "database": database,
            "log_troubles": log_troubles,
            "footprint": {
                key: value
                for key, value in vars(_own_processes(daemon)).items()
                if key != "at"  # a monotonic time: nothing to anyone outside
            },
        }
        print(json.dumps({"running": True, **daemon, **extra}, indent=2))
        return 0
    uptime = format_duration(time.time() - daemon["started_at"])
    print(f"procclaw daemon running (pid {daemon['pid']}, up {uptime})")
    print(f"home     {daemon['home']}")
    print(f"jobs     {jobs}")
    print(f"platform {daemon['platform']}")
    print(f"cgroups  {_describe_cgroups(daemon.get('cgroups'))}")
    print(f"costs    {_footprint(daemon)}")
    if database:
        print(f"database {database} (jobs run on; this is not recorded)")
    for job_id, trouble in log_troubles.items():
        print(f"log      {job_id}: {trouble}")
    print("actors:")
    for actor in daemon["actors"]:
        pid = actor["pid"] if actor["pid"] is not None else "-"
        note = actor.get("problem") or actor.get("listening") or actor.get("note") or ""
        print(
            f"  {actor['name']:<20} {actor['state']:<9} pid {pid:<8} restarts {actor['restarts']}"
            + (f"  {note}" if note else "")
        )
    return 0


def _describe_cgroups(found: dict | None) -> str:
    """`v2 at /sys/fs/cgroup/..., controllers: none (...)` or `none (why)`."""
    if not found or not found.get("version"):
        return f"none ({(found or {}).get('why', 'the daemon did not say')})"
    controllers = found["controllers"]
    memory = "enforced" if "memory" in controllers else "by sampling"
    cpu = "enforced" if "cpu" in controllers else "refused"
    return (
        f"v2 at {found['path']}, controllers: {', '.join(controllers) or 'none'}"
        f" (memory limits {memory}, cpu limits {cpu})"
    )


def _own_processes(daemon: dict):
    """What ProcClaw's own processes (root and its actors, not the jobs) cost."""
    from procclaw.process_usage import footprint

    pids = [daemon["pid"], *(actor["pid"] for actor in daemon["actors"] if actor["pid"])]
    return footprint(pids)


def _footprint(daemon: dict) -> str:
    """`97.3M PSS (121M RSS), 4.2 s of CPU, 9 processes`."""
    from procclaw.cli.render import format_memory

    own = _own_processes(daemon)
    pss = f"{format_memory(own.memory_pss)} PSS ({format_memory(own.memory)} RSS)"
    memory = pss if own.memory_pss is not None else f"{format_memory(own.memory)} RSS"
    return f"{memory}, {own.cpu_seconds:.1f} s of CPU, {own.processes} processes"
