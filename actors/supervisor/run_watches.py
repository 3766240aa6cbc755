"""What a running job is held to besides staying alive: its output heartbeat
(actors/supervisor/output_heartbeat.py) and its memory limit
(actors/supervisor/memory_limit.py). Each is there only for a job that asks for it;
both start with a run and end when it stops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.runtime.job_process import JobProcess
from actors.runtime.loop import EventLoop
from actors.supervisor.job_output import JobOutput
from actors.supervisor.memory_limit import MemoryLimit
from actors.supervisor.output_heartbeat import OutputHeartbeat
from procclaw.config import JobConfig
from procclaw.job_facts import JobFacts


class RunWatches:
    def __init__(
        self,
        loop: EventLoop,
        job: JobConfig,
        output: JobOutput,
        resume: JobFacts,
        report: Callable[[str | None], None],
        over_limit: Callable[[str], None],
        sample_memory: bool = True,
    ) -> None:
        self.heartbeat: OutputHeartbeat | None = None
        if job.health_check.type == "output":
            self.heartbeat = OutputHeartbeat(loop, job.health_check, report, resume.heartbeat_at)
            output.match_lines(job.health_check.stream, self.heartbeat.matcher)
        self.memory: MemoryLimit | None = None
        # Where the run's cgroup has memory.max, the kernel holds it to the limit.
        if job.limits.memory is not None and sample_memory:
            self.memory = MemoryLimit(loop, job.id, job.limits.memory, over_limit)

    def new_run(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.new_run()

    def begin(self, process: JobProcess) -> None:
        """The run is running (spawned, or adopted)."""
        if self.heartbeat is not None:
            self.heartbeat.watch(process.started_at)
        if self.memory is not None:
            self.memory.watch(process.pid)

    def heard(self) -> None:
        """A line matched the heartbeat's pattern while the run was running."""
        if self.heartbeat is not None:
            self.heartbeat.heard()

    def end(self) -> None:
        """The run is stopping or over: a stopping job owes no heartbeat."""
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.memory is not None:
            self.memory.stop()

    def facts(self) -> dict[str, Any]:
        heartbeat = self.heartbeat
        return {
            "heartbeat_at": heartbeat.heard_at if heartbeat else None,
            "heartbeat_late": heartbeat.late if heartbeat else False,
        }
