"""Starting a job's process, recognising it later, and killing every process it left.

A job runs in a session (and process group) of its own, with stdin from /dev/null,
stdout and stderr on the pipes root keeps, and no signal ignored or blocked. Its
environment carries PROCCLAW_JOB and PROCCLAW_RUN, which is how a grandchild that left
the group (setsid, double fork) is still found and killed when the job stops.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

from procclaw.config import JobConfig
from procclaw.job_facts import JobFacts
from procclaw.secrets.references import MissingSecret, expand

RUN_MARKER = "PROCCLAW_RUN"
JOB_MARKER = "PROCCLAW_JOB"


class SpawnError(Exception):
    """The job could not be started; the message says why, for `status`."""


@dataclass
class JobProcess:
    """One running instance of a job."""

    pid: int
    start_time: str  # process_start_time(): a pid alone may be reused
    started_at: float  # wall clock
    run_id: str
    popen: subprocess.Popen | None = field(default=None, repr=False)  # None when adopted

    @property
    def adopted(self) -> bool:
        return self.popen is None


def run_facts(process: JobProcess | None) -> dict[str, Any]:
    """The run's facts, as reports, heartbeats and the controller's cache all name them."""
    return {
        "pid": process.pid if process else None,
        "job_start": process.start_time if process else None,
        "run_id": process.run_id if process else None,
        "started_at": process.started_at if process else None,
    }


def resumed_process(facts: JobFacts) -> JobProcess | None:
    """The run a dead supervisor's last facts (its `run_facts`) name, if any."""
    if not facts.pid or not facts.job_start or facts.run_id is None:
        return None
    return JobProcess(facts.pid, facts.job_start, facts.started_at or 0.0, facts.run_id)


def command_line(job: JobConfig) -> list[str]:
    if job.shell:
        return ["/bin/sh", "-c", str(job.cmd)]
    if isinstance(job.cmd, str):
        return shlex.split(job.cmd)
    return list(job.cmd)


def environment(
    job: JobConfig, run_id: str, base: dict[str, str], secrets: Mapping[str, str]
) -> dict[str, str]:
    """The daemon's environment, then the job's `env` in order, with ${VAR} expanded
    from what came before and ${secret:NAME} from `secrets`."""
    env = dict(base)
    for key, value in job.env:
        try:
            env[key] = expand(value, env, secrets)
        except MissingSecret as exc:
            raise SpawnError(str(exc)) from None
    env[JOB_MARKER] = job.id
    env[RUN_MARKER] = run_id
    return env


def spawn(
    job: JobConfig,
    stdout_fd: int,
    stderr_fd: int,
    secrets: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
) -> JobProcess:
    """Start the job; `secrets` are the values its env refers to, used here and dropped.

    `extra_env` is what ProcClaw itself tells the job, such as NOTIFY_SOCKET.
    """
    try:
        argv = command_line(job)
    except ValueError as exc:  # the config check catches this; a stale config may not
        raise SpawnError(f"cannot start: cmd cannot be split into arguments: {exc}") from None
    if not argv:
        raise SpawnError("cmd is empty")
    if job.cwd and not os.path.isdir(job.cwd):
        raise SpawnError(f"cannot start: cwd {job.cwd} is not a directory")
    run_id = uuid.uuid4().hex
    env = environment(job, run_id, dict(os.environ), secrets)
    env.update(extra_env or {})
    try:
        popen = subprocess.Popen(
            argv,
            cwd=job.cwd or None,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout_fd,
            stderr=stderr_fd,
            start_new_session=True,
            close_fds=True,
            restore_signals=True,
        )
    except FileNotFoundError:
        raise SpawnError(f"cannot start: command not found: {argv[0]}") from None
    except PermissionError:
        raise SpawnError(f"cannot start: permission denied: {argv[0]}") from None
    except OSError as exc:
        raise SpawnError(f"cannot start: {argv[0]}: {exc.strerror or exc}") from None
    return JobProcess(popen.pid, process_start_time(popen.pid) or "", time.time(), run_id, popen)


def process_start_time(pid: int) -> str | None:
    """An exact identity for the process `pid` now is: a pid alone may be reused.

    On Linux: the boot id and the start time in clock ticks since boot, immune to
    wall-clock steps; elsewhere psutil's creation time. None if there is no such process.
    """
    if _BOOT_ID is not None:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            return None
        return f"{_BOOT_ID}:{int(fields[19])}"  # field 22 of stat(5), after "pid (comm)"
    try:
        return f"{psutil.Process(pid).create_time():.6f}"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def is_same_process(pid: int, start_time: str) -> bool:
    """True if `pid` is still the live process whose identity was `start_time`.

    A zombie (dead, not yet reaped by its parent, which after a daemon crash may be an
    init that never reaps) is not alive.
    """
    if process_start_time(pid) != start_time:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _read_boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id") as boot_id:
            return boot_id.read().strip()
    except OSError:
        return None


_BOOT_ID = _read_boot_id()


def signal_group(pgid: int, signum: int) -> None:
    """Send `signum` to the job's process group, waking it first if it was stopped."""
    for sig in (signal.SIGCONT, signum) if signum != signal.SIGKILL else (signum,):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return  # the group is gone: nothing left to signal


def kill_everything(pgid: int, run_id: str, group: bool = True) -> None:
    """SIGKILL the job's group (if `group`) and every process carrying its run marker."""
    if group:
        signal_group(pgid, signal.SIGKILL)
    kill_marked(run_id)


def kill_marked(run_id: str) -> None:
    """SIGKILL every process carrying this run's marker, wherever it went."""
    marker = f"{RUN_MARKER}={run_id}".encode()
    for pid in marked_processes(run_id):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            continue  # gone already
        try:
            # Checked again through the pidfd's own process: the pid may have been reused.
            if _carries(pid, marker):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os.close(pidfd)


def marked_processes(run_id: str) -> list[int]:
    """Our user's processes whose environment names this run (setsid'd grandchildren).

    Reads /proc directly: this runs at every job exit that may have left stragglers,
    and psutil's per-process bookkeeping cost tens of times more.
    """
    uid, me = os.getuid(), os.getpid()
    marker = f"{RUN_MARKER}={run_id}".encode()
    found = []
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                if entry.stat().st_uid != uid:
                    continue
            except OSError:
                continue
            if _carries(int(entry.name), marker):
                found.append(int(entry.name))
    return found


def _carries(pid: int, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            return marker in environ.read().split(b"\0")
    except OSError:
        return False  # gone, a zombie, or not ours to read


def has_strays(runs: frozenset[int]) -> bool:
    """Whether this process (a subreaper) has a child that is none of its jobs' runs.

    A supervisor is a child subreaper: whatever its jobs leave behind is re-parented to
    it when a job's leader exits, so no such child means no straggler anywhere. Reads
    the kernel's list of each thread's children, so it costs no scan of /proc.
    """
    children: set[int] = set()
    try:
        with os.scandir("/proc/self/task") as tasks:
            for task in tasks:
                with open(f"/proc/self/task/{task.name}/children") as listing:
                    children.update(int(pid) for pid in listing.read().split())
    except OSError:
        return True  # cannot tell: look for stragglers the slow way
    return bool(children - runs)
