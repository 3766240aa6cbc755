"""The daemon's cgroup v2 subtree, where the machine offers one we may write to (Linux).

Found at run time: the cgroup2 mount from /proc/self/mountinfo, our own cgroup from
/proc/self/cgroup (`0::<path>`; under a systemd service with Delegate=yes, the
service's own cgroup). The subtree is `<our cgroup>/procclaw-<id>/`, `<id>` a hash of
the daemon's home, so a daemon started again (after a crash, too) finds the same one:

    procclaw-<id>/daemon                  the daemon, only where controllers need it out
                                          of its old cgroup (no internal processes)
    procclaw-<id>/jobs/<job>/run-<run id> one leaf per run, joined by the job's process
                                          before its program runs (child_setup.py)

A leaf per run, not per job: a restarted job's new run is never caught by the kill of
the run before it. Root creates the subtree once at start (`prepare`); supervisors only
find it (`find`). Nothing here touches a cgroup outside `procclaw-<id>`.
"""

from __future__ import annotations

import errno
import os
import select
import time
from dataclasses import dataclass
from pathlib import Path

from procclaw.lean_hashes import sha256

WANTED = ("cpu", "memory")  # the controllers limits use, enabled when offered
CPU_PERIOD = 100_000  # µs, cpu.max's default period
# A run's cgroup is what stops it whole; without cgroup.kill the older ways do.
NO_KILL = "this kernel's cgroups have no cgroup.kill (Linux 5.14 or later)"


def subtree_name(home: Path) -> str:
    """`procclaw-<id>`: the same for the same home, whatever the daemon's pid."""
    digest = sha256(str(Path(home).resolve()).encode()).hexdigest()[:12]
    return f"procclaw-{digest}"


@dataclass(frozen=True)
class CgroupTree:
    """The daemon's subtree: where each run's cgroup goes, and what it can limit."""

    base: Path
    controllers: tuple[str, ...]

    def describe(self) -> dict:
        return {"version": "v2", "path": str(self.base), "controllers": list(self.controllers)}

    def run_cgroup(self, job: str, run_id: str) -> Path:
        return self.base / "jobs" / job / f"run-{run_id}"

    def make_run(self, job: str, run_id: str, memory: int | None, cpu: float | None) -> Path:
        """Create the run's cgroup, limits set; OSError if it cannot be."""
        leaf = self.run_cgroup(job, run_id)
        leaf.parent.mkdir(exist_ok=True)
        _enable(leaf.parent, self.controllers)
        leaf.mkdir(exist_ok=True)
        if memory is not None and "memory" in self.controllers:
            _write(leaf / "memory.max", str(memory))
        if cpu is not None and "cpu" in self.controllers:
            _write(leaf / "cpu.max", f"{max(1000, int(cpu / 100 * CPU_PERIOD))} {CPU_PERIOD}")
        return leaf

    def limits_memory(self) -> bool:
        return "memory" in self.controllers

    def release(self) -> None:
        """At the daemon's clean exit: remove what no job run still holds."""
        jobs = self.base / "jobs"
        for level in [*(jobs.iterdir() if jobs.is_dir() else ()), jobs, self.base]:
            if level.is_dir():
                try:
                    level.rmdir()
                except OSError:
                    pass  # a run left to the next daemon (or the daemon's own leaf)

    def kill(self, leaf: Path) -> None:
        """SIGKILL every process in the cgroup, wherever it went (setsid, cleared env)."""
        try:
            _write(leaf / "cgroup.kill", "1")
        except FileNotFoundError:
            pass  # removed already: nothing in it

    def empty(self, leaf: Path) -> bool:
        """Whether no process is in the cgroup now (or it is gone)."""
        try:
            return b"populated 0" in (leaf / "cgroup.events").read_bytes()
        except FileNotFoundError:
            return True

    def wait_empty(self, leaf: Path, timeout: float) -> bool:
        """Until no process is left in the cgroup (`populated 0`); False if `timeout` ran
        out first. The kernel wakes a poll on cgroup.events at each change."""
        deadline = time.monotonic() + timeout
        try:
            events = os.open(leaf / "cgroup.events", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return True
        try:
            poller = select.poll()
            poller.register(events, select.POLLPRI | select.POLLERR)
            while True:
                if b"populated 0" in os.pread(events, 4096, 0):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                poller.poll(left * 1000)
        finally:
            os.close(events)

    def remove(self, leaf: Path) -> bool:
        """Remove an empty run cgroup, and its job's cgroup once no run is left in it."""
        for path in (leaf, leaf.parent):
            try:
                path.rmdir()
            except FileNotFoundError:
                continue
            except OSError as exc:
                if exc.errno in (errno.EBUSY, errno.ENOTEMPTY):
                    return path != leaf
                raise
        return True

    def cpu_seconds(self, leaf: Path) -> float | None:
        """CPU time of every process ever in the cgroup (cpu.stat usage_usec)."""
        try:
            for line in (leaf / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
        except OSError:
            pass
        return None

    def memory_current(self, leaf: Path) -> int | None:
        """Memory the cgroup is charged (memory.current), where the memory controller is on."""
        try:
            return int((leaf / "memory.current").read_text())
        except (OSError, ValueError):
            return None


def find(home: Path) -> CgroupTree | str:
    """The subtree root made for `home`, or why there is none."""
    ours = _our_cgroup(home)
    if isinstance(ours, str):
        return ours
    base = ours / subtree_name(home)
    if not (base / "jobs").is_dir():
        return f"the daemon made no cgroup subtree at {base}"
    if not (base / "jobs" / "cgroup.kill").exists():
        return NO_KILL
    return CgroupTree(base, _enabled(base / "jobs"))


def offered(home: Path) -> CgroupTree | str:
    """The subtree `prepare` would make for `home` and the limits our cgroup offers it,
    making nothing: what a daemon started from here could hold."""
    ours = _our_cgroup(home)
    if isinstance(ours, str):
        return ours
    return CgroupTree(ours / subtree_name(home), _offered(ours))


def prepare(home: Path) -> CgroupTree | str:
    """Create the daemon's subtree (root, once at start), or say why there is none.

    Controllers are enabled where our cgroup offers them; a cgroup that is not the
    hierarchy's root must hold no process to pass them on, so the daemon first moves
    into `daemon`. Without them the subtree still kills and counts."""
    ours = _our_cgroup(home)
    if isinstance(ours, str):
        return ours
    base = ours / subtree_name(home)
    try:
        (base / "jobs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create {base}: {exc.strerror or exc}"
    if not (base / "jobs" / "cgroup.kill").exists():
        return NO_KILL
    offered = _offered(ours)
    if offered:
        try:
            if not _is_mount_root(ours):
                (base / "daemon").mkdir(exist_ok=True)
                _write(base / "daemon" / "cgroup.procs", "0")
            for level in (ours, base, base / "jobs"):
                _enable(level, offered)
        except OSError:
            pass  # others share our cgroup: kill and count, but no limits
    return CgroupTree(base, _enabled(base / "jobs"))


def _our_cgroup(home: Path) -> Path | str:
    mount = _cgroup2_mount()
    if mount is None:
        return "no cgroup v2 hierarchy is mounted"
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError as exc:
        return f"cannot read /proc/self/cgroup: {exc.strerror}"
    path = next((line[3:] for line in lines if line.startswith("0::")), None)
    if path is None:
        return "this process is in no cgroup v2"
    ours = mount[1] / path.lstrip("/").removeprefix(mount[0].lstrip("/")).lstrip("/")
    name = subtree_name(home)
    # A daemon moved into its own `daemon` leaf, and the actors it forked since.
    if ours.name == "daemon" and ours.parent.name == name:
        ours = ours.parent.parent
    return ours


def _cgroup2_mount() -> tuple[str, Path] | None:
    """(the mount's root within the hierarchy, where it is mounted)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields, _, after = line.partition(" - ")
        parts = fields.split()
        if after.split()[:1] == ["cgroup2"] and len(parts) > 4:
            return parts[3], Path(parts[4].replace("\\040", " "))
    return None


def _is_mount_root(path: Path) -> bool:
    return not (path / "cgroup.type").exists()  # the root cgroup alone has no type


def _offered(ours: Path) -> tuple[str, ...]:
    return tuple(c for c in WANTED if c in _read(ours / "cgroup.controllers").split())


def _enabled(level: Path) -> tuple[str, ...]:
    return tuple(c for c in WANTED if c in _read(level / "cgroup.subtree_control").split())


def _enable(level: Path, controllers: tuple[str, ...]) -> None:
    if controllers:
        _write(level / "cgroup.subtree_control", " ".join(f"+{c}" for c in controllers))


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)
