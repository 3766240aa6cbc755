"""Starting a job's process, recognising it later, and killing every process it left.

A job runs in a session (and process group) of its own, with stdin from /dev/null,
stdout and stderr on the pipes root keeps, and no signal ignored or blocked. Its
environment carries PROCCLAW_JOB and PROCCLAW_RUN, which is how a grandchild that left
the group (setsid, double fork) is still found and killed when the job stops, where no
cgroup holds the run. A run with a cgroup joins it, and a job with rlimits gets them
set, in its own process before its program runs (actors/runtime/child_setup.py).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

from actors.runtime import child_setup
from procclaw.config import JobConfig
from procclaw.job_facts import JobFacts
from procclaw.platform import current
from procclaw.platform.base import ChildSpec
from procclaw.secrets.references import MissingSecret, expand

RUN_MARKER = "PROCCLAW_RUN"
JOB_MARKER = "PROCCLAW_JOB"
STOPS_BY_CGROUP = "cgroup"
STOPS_BY_MARKER = "process group + run marker"


class SpawnError(Exception):
    """The job could not be started; the message says why, for `status`."""


@dataclass
class BornChild:
    """What a supervisor uses of a Popen, for a run started without one (clone3)."""

    pid: int
    returncode: int | None = None

    def wait(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = os.waitpid(self.pid, 0)[1]
            except ChildProcessError:
                pass  # reaped already, by the supervisor's reaper
        return self.returncode


@dataclass
class JobProcess:
    """One running instance of a job."""

    pid: int
    start_time: str  # process_start_time(): a pid alone may be reused
    started_at: float  # wall clock
    run_id: str
    # The child we spawned; None when adopted.
    popen: subprocess.Popen | BornChild | None = field(default=None, repr=False)
    cgroup: str | None = None  # the run's own cgroup, where the daemon has a subtree

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
        "stops_by": (STOPS_BY_CGROUP if process.cgroup else STOPS_BY_MARKER) if process else None,
        "cgroup": process.cgroup if process else None,
    }


def resumed_process(facts: JobFacts) -> JobProcess | None:
    """The run a dead supervisor's last facts (its `run_facts`) name, if any."""
    if not facts.pid or not facts.job_start or facts.run_id is None:
        return None
    started_at = facts.started_at or 0.0
    return JobProcess(facts.pid, facts.job_start, started_at, facts.run_id, None, facts.cgroup)


def new_run_id() -> str:
    return uuid.uuid4().hex


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
    umask: int = 0o022,
    cgroup: str | None = None,
    run_id: str | None = None,
    born_inside: bool = False,
) -> tuple[JobProcess, int | None]:
    """Start the job; `secrets` are the values its env refers to, used here and dropped.

    `extra_env` is what ProcClaw itself tells the job, such as NOTIFY_SOCKET. `umask` is
    the job's: the one the daemon was started with, not the daemon's own 077. `cgroup`
    is the run's cgroup, made for `run_id`, which the job joins before its program runs;
    with `born_inside` (one start alone, such as a restart after an exit) it is born in
    it where the system allows, which saves that start the join's wait.

    Returns the process and, for a job whose rlimits child_setup sets first, the
    descriptor its report comes on: readable once the program runs (EOF) or could not
    (`exec_outcome` tells which), so the caller's loop need not wait for it.
    """
    try:
        argv = command_line(job)
    except ValueError as exc:  # the config check catches this; a stale config may not
        raise SpawnError(f"cannot start: cmd cannot be split into arguments: {exc}") from None
    if not argv:
        raise SpawnError("cmd is empty")
    if job.cwd and not os.path.isdir(job.cwd):
        raise SpawnError(f"cannot start: cwd {job.cwd} is not a directory")
    run_id = run_id or new_run_id()
    env = environment(job, run_id, dict(os.environ), secrets)
    env.update(extra_env or {})
    limits = job.limits.rlimits()
    report_r = None
    if not limits and cgroup is None:
        popen = _popen(job, argv, env, (stdout_fd, stderr_fd), umask)
    elif not limits:
        program = _program_path(argv[0], env, job.cwd)
        spec = ChildSpec(program, argv, env, job.cwd, umask, stdout_fd, stderr_fd)
        popen = _born_inside(cgroup, spec) if born_inside else None
        # Joining a cgroup needs no Python: sh joins and execs the program in about a
        # millisecond, where child_setup's interpreter takes ten, on every start.
        popen = popen or _popen(job, _joining(cgroup, argv), env, (stdout_fd, stderr_fd), umask)
    else:
        try:
            report_r, report_w = os.pipe()
        except OSError as exc:  # out of descriptors
            raise SpawnError(f"cannot start: {exc.strerror or exc}") from None
        try:
            command = child_setup.command(argv, limits, report_w, cgroup)
            popen = _popen(job, command, env, (stdout_fd, stderr_fd), umask, report_w)
        except SpawnError:
            os.close(report_r)
            raise
        finally:
            os.close(report_w)
    start_time = process_start_time(popen.pid) or ""
    return JobProcess(popen.pid, start_time, time.time(), run_id, popen, cgroup), report_r


def _joining(cgroup: str, argv: list[str]) -> list[str]:
    """`argv`, run by a shell that first moves itself into `cgroup` (a failure to join is
    its exit status 127, with the shell's reason in the job's error log)."""
    script = 'echo 0 >"$0/cgroup.procs" || exit 127; exec "$@"'
    return ["/bin/sh", "-c", script, cgroup, *argv]


def _program_path(program: str, env: dict[str, str], cwd: str | None) -> str:
    """Where `program` is, found as execvp finds it; the SpawnError Popen would raise
    for it, found before a shell runs it."""
    if "/" not in program:
        found = shutil.which(program, path=env.get("PATH", os.defpath))
        if found is None:
            raise _cannot_run(program, FileNotFoundError())
        return found
    path = os.path.join(cwd or os.getcwd(), program)
    if not os.path.isfile(path):
        raise _cannot_run(program, FileNotFoundError())
    if not os.access(path, os.X_OK):
        raise _cannot_run(program, PermissionError())
    return path


def _born_inside(cgroup: str, spec: ChildSpec) -> BornChild | None:
    """The process started inside `cgroup` from birth, or None where it cannot be."""
    pid = current().spawn_in_cgroup(cgroup, spec)
    return None if pid is None else BornChild(pid)


def _popen(
    job: JobConfig,
    command: list[str],
    env: dict[str, str],
    output: tuple[int, int],
    umask: int,
    report_fd: int | None = None,
) -> subprocess.Popen:
    try:
        return subprocess.Popen(
            command,
            cwd=job.cwd or None,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output[0],
            stderr=output[1],
            start_new_session=True,
            close_fds=True,
            pass_fds=() if report_fd is None else (report_fd,),
            restore_signals=True,
            umask=umask,
        )
    except OSError as exc:
        raise _cannot_run(command[0], exc) from None
    except ValueError as exc:  # a NUL in an argument or the environment
        raise SpawnError(f"cannot start: {exc}") from None


def _cannot_run(program: str, exc: OSError) -> SpawnError:
    if isinstance(exc, FileNotFoundError):
        return SpawnError(f"cannot start: command not found: {program}")
    if isinstance(exc, PermissionError):
        return SpawnError(f"cannot start: permission denied: {program}")
    return SpawnError(f"cannot start: {program}: {exc.strerror or exc}")


def exec_outcome(process: JobProcess, report_fd: int, job: JobConfig) -> SpawnError | None:
    """Once `report_fd` (from `spawn`) is readable: None if the job's own program runs, in
    its cgroup with its rlimits set, or the SpawnError saying why it does not (its
    process, which exits at once after its report, reaped). Closes `report_fd`."""
    report = child_setup.read_report(report_fd)
    if report is None:
        return None
    assert process.popen is not None
    process.popen.wait()  # it exits at once after its report
    kind, detail = report
    program = command_line(job)[0]
    if kind == "exec" and detail.isdigit():
        return _cannot_run(program, OSError(int(detail), os.strerror(int(detail))))
    return SpawnError(detail if kind == "limit" else f"cannot start: {detail}")


def process_start_time(pid: int) -> str | None:
    """An exact identity for the process `pid` now is (a pid alone may be reused); None
    if there is no such process."""
    return current().process_start_time(pid)


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


def signal_group(pgid: int, signum: int) -> None:
    """Send `signum` to the job's process group, waking it first if it was stopped."""
    for sig in (signal.SIGCONT, signum) if signum != signal.SIGKILL else (signum,):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return  # the group is gone: nothing left to signal


def kill_everything(pgid: int, run_id: str, group: bool = True) -> None:
    """SIGKILL the job's group (if `group`), every process descended from its leader,
    and every process carrying its run marker."""
    below = descendants(pgid)
    if group:
        signal_group(pgid, signal.SIGKILL)
    kill_processes(below)
    kill_marked(run_id)


def descendants(pid: int) -> list[tuple[int, str]]:
    """The run's processes now, whatever group or session they moved to, each with its
    identity: kept, so that once the leader is gone they are found again even with
    their environment cleared."""
    return current().descendants(pid)


def kill_processes(processes: list[tuple[int, str]]) -> None:
    """SIGKILL those of `descendants` still alive (a pid reused meanwhile is spared)."""
    platform = current()
    for pid, start_time in processes:
        platform.kill_same(pid, start_time)


def kill_marked(run_id: str) -> None:
    """SIGKILL every process carrying this run's marker, wherever it went."""
    platform, marker = current(), _marker(run_id)
    for pid in platform.processes_marked(marker):
        platform.kill_marked(pid, marker)


def marked_processes(run_id: str) -> list[int]:
    """Our user's processes whose environment names this run (setsid'd grandchildren)."""
    return current().processes_marked(_marker(run_id))


def has_strays(runs: frozenset[int]) -> bool:
    """Whether the job's leftovers may still run: a supervisor (a subreaper where there
    is one) with a child that is none of its jobs' runs, or a system that cannot tell."""
    return current().has_strays(runs)


def _marker(run_id: str) -> bytes:
    return f"{RUN_MARKER}={run_id}".encode()
