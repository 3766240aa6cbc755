"""What the daemon asks of the operating system, as one interface (see __init__.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from procclaw.platform.linux_cgroups import CgroupTree


class PlatformError(Exception):
    """The platform asked for cannot run here; the message says why."""


@dataclass(frozen=True)
class ChildSpec:
    """A job's process as the supervisor starts it: a session of its own, stdin from
    /dev/null, its output on the supervisor's pipes, no other descriptor, no signal
    ignored or blocked."""

    program: str  # a path: the caller found it on PATH
    argv: list[str]
    env: dict[str, str]
    cwd: str | None
    umask: int
    stdout_fd: int
    stderr_fd: int


class ExitWatch(Protocol):
    """A descriptor that turns readable once a process (not our child) has exited."""

    fd: int

    def close(self) -> None: ...


class WallClockAlarm(Protocol):
    """A descriptor that turns readable at a wall-clock time, or when the clock is set."""

    fd: int

    def set(self, when: float | None, now: float) -> None:
        """Ring at the POSIX time `when` (None: only when the clock is set)."""

    def read(self) -> str | None:
        """Why it is readable: "due", "clock set", or None (spurious)."""

    def close(self) -> None: ...


class Platform(Protocol):
    name: str
    # Whether splice() moves a job's output into its log without passing through us.
    can_splice: bool

    def set_process_name(self, name: str, title: str) -> None:
        """Name this process: `name` (15 bytes at most) for `ps -e`, `top` and pkill,
        `title` for `ps aux` and `ps -o args`, in place of its command line."""

    def become_subreaper(self) -> bool:
        """Make orphaned descendants re-parent to this process; False where none can."""

    def process_start_time(self, pid: int) -> str | None:
        """An identity for `pid` that a reused pid does not share; None if it is gone."""

    def watch_exit(self, pid: int) -> ExitWatch | None:
        """Watch a process that is not our child; None if it is gone already."""

    def wait_for_exit(self, pid: int, timeout: float) -> bool:
        """Block until `pid` (not our child) exits; False when `timeout` ran out first."""

    def processes_marked(self, marker: bytes) -> list[int]:
        """Our user's processes (but this one) whose environment holds `marker`."""

    def kill_marked(self, pid: int, marker: bytes) -> None:
        """SIGKILL `pid` if it still carries `marker` (a reused pid never does)."""

    def descendants(self, pid: int) -> list[tuple[int, str]]:
        """Every process below `pid` now, with its identity (`process_start_time`)."""

    def trees(self, roots: list[int]) -> dict[int, list[int]]:
        """The processes below each of `roots` now (none below a root that is gone)."""

    def kill_same(self, pid: int, start_time: str) -> None:
        """SIGKILL `pid` if it is still the process whose identity was `start_time`."""

    def has_strays(self, runs: frozenset[int]) -> bool:
        """Whether anything our jobs left behind may still run (True when unsure)."""

    def enlarge_pipe(self, fd: int, size: int) -> None:
        """Give the pipe `size` bytes of room where the system allows it."""

    def move_in_kernel(self, pipe_fd: int, file_fd: int, limit: int) -> int:
        """Move up to `limit` bytes from the pipe to the file in the kernel; raises
        BlockingIOError when the pipe is empty. Only when `can_splice`."""

    def wall_clock_alarm(self) -> WallClockAlarm: ...

    def start_spawner(self, owner: str) -> None:
        """Make ready, while this process has one thread, what `spawn_in_cgroup` needs;
        `owner` names this process in the helper's title, where there is one."""

    def stop_spawner(self) -> None:
        """Let go of what `start_spawner` made: no run of ours will be born in a cgroup."""

    def spawn_in_cgroup(self, cgroup: str, spec: ChildSpec) -> int | None:
        """Start `spec` inside `cgroup` from its birth: its pid, or None where the system
        cannot or `start_spawner` was not called (the process then joins the cgroup
        itself)."""

    def job_cgroups(self, home: Path, create: bool) -> CgroupTree | str:
        """The daemon's cgroup subtree for `home` (made first, if `create`: root alone
        does), or why jobs run without one."""

    def job_cgroups_offered(self, home: Path) -> CgroupTree | str:
        """What `job_cgroups(home, create=True)` would give a daemon started from this
        process, making nothing; or why it would have none."""
