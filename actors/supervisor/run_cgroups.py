"""The cgroups of a supervisor's job runs, where the daemon made a cgroup subtree.

Root makes the subtree at start (procclaw/platform/linux_cgroups.py); a supervisor finds it,
makes each run's cgroup before the run starts, and once the run ended kills whatever is
left in it (`cgroup.kill`: a double-forked, setsid'd daemon with its environment
cleared included), waits for it to be empty and removes it. A run's cgroup is named by
its run id, so a supervisor that adopts a run (its holder died) finds it again.
Where there is no subtree every call here does nothing, and jobs start as they did.
"""

from __future__ import annotations

import logging
from pathlib import Path

from procclaw.config import JobConfig
from procclaw.platform import current
from procclaw.platform.linux_cgroups import CgroupTree

log = logging.getLogger("procclaw.supervisor")

# How long a run's end waits for its cgroup to be empty. SIGKILL of what is in it takes
# milliseconds; a process stuck in the kernel (D state) is not waited for longer.
EMPTY_WAIT = 2.0


class RunCgroups:
    def __init__(self, home: Path):
        found = current().job_cgroups(home, create=False)
        self.tree: CgroupTree | None = None if isinstance(found, str) else found

    def make(self, job: JobConfig, run_id: str) -> str | None:
        """The new run's cgroup, limits set (None: the run goes without one)."""
        if self.tree is None:
            return None
        try:
            leaf = self.tree.make_run(job.id, run_id, job.limits.memory, job.limits.cpu)
        except OSError as exc:
            log.warning("job %s: runs without a cgroup: %s", job.id, exc)
            return None
        return str(leaf)

    def adopted(self, job_id: str, run_id: str) -> str | None:
        """The cgroup of a run started by another supervisor, if it has one."""
        if self.tree is None:
            return None
        leaf = self.tree.run_cgroup(job_id, run_id)
        return str(leaf) if leaf.is_dir() else None

    def limits_memory(self) -> bool:
        """Whether the kernel holds a run to its memory limit (memory.max)."""
        return self.tree is not None and self.tree.limits_memory()

    def kill(self, cgroup: str | None) -> None:
        if cgroup is not None and self.tree is not None:
            self.tree.kill(Path(cgroup))

    def usage(self, cgroup: str) -> tuple[float | None, int | None]:
        """CPU seconds of everything ever in the run's cgroup, and its memory.current."""
        if self.tree is None:
            return None, None
        return self.tree.cpu_seconds(Path(cgroup)), self.tree.memory_current(Path(cgroup))

    def end(self, job_id: str, cgroup: str | None) -> bool:
        """Kill what is left in the run's cgroup, wait until it is empty, remove it.

        True when nothing of the run is left: the cgroup held all of it and is empty."""
        if cgroup is None or self.tree is None:
            return False
        leaf = Path(cgroup)
        if not self.tree.empty(leaf):  # empty when the run was one process, now gone
            self.tree.kill(leaf)
            if not self.tree.wait_empty(leaf, EMPTY_WAIT):
                log.warning(
                    "job %s: %s is not empty %g s after cgroup.kill", job_id, leaf, EMPTY_WAIT
                )
                return False
        try:
            self.tree.remove(leaf)
        except OSError as exc:
            log.warning("job %s: cannot remove %s: %s", job_id, leaf, exc)
        return True
