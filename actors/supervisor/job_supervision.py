"""One job held by a supervisor: its state, its runs, its stops, its output and notices.

A supervisor actor (actor.py) holds many of these, one per live job. Each inherits,
through root, its job's stdout and stderr pipes; root keeps its own copies, so when the
supervisor dies the job's output waits in the kernel, and the next supervisor reads on
from where the last one stopped. Root learns the job's facts at every change, so a
replacement supervisor adopts the running job instead of starting a second one.

Each state is published as `job.<id>.<state>` with the job's facts, once the controller
has them (through the supervisor's ReportQueue), with one record per finished run.

This module owns the job's state (`_set_state` is the one place it changes); the parts
listed in this package's __init__.py own the rest.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from actors.runtime.job_process import JobProcess, resumed_process, run_facts
from actors.runtime.loop import Timer
from actors.supervisor.job_notices import JobNotices
from actors.supervisor.job_output import JobOutput
from actors.supervisor.run_exits import RunExits
from actors.supervisor.run_start import RunStart
from actors.supervisor.run_watches import RunWatches
from actors.supervisor.stop_sequence import StopSequence
from actors.supervisor.supervision_host import JobPipes, SupervisionHost
from procclaw import protocol
from procclaw.config import JobConfig
from procclaw.exit_status import describe_status
from procclaw.job_facts import HeldFacts, JobExited, JobFacts
from procclaw.placement import Placement
from procclaw.reports import HealthReport, report_to_wire
from procclaw.rules.after_exit import AfterExit
from procclaw.rules.retry import RetryPolicy
from procclaw.run import Run
from procclaw.states import RESTING_STATES, JobState, check_transition
from procclaw.wire_record import WireRecord

log = logging.getLogger("procclaw.supervisor")


class JobSupervision:
    def __init__(
        self,
        host: SupervisionHost,
        job: JobConfig,
        pipes: JobPipes,
        placement: Placement,
    ):
        self.host = host
        self.job = job
        self.pipes = pipes
        self.placement = placement.with_config({})
        resume = placement.resume or HeldFacts(job.id, last_exit=placement.last_exit)
        self.state = JobState.STOPPED
        # A job being resumed is ours from birth: root knows its pid already, so if we
        # die before adopting it, our replacement still knows it.
        self.process: JobProcess | None = resumed_process(resume)
        policy = RetryPolicy.from_config(job.retry)
        continuous = job.type == "continuous"
        self.after_exit = AfterExit.resumed(policy, continuous, job.restart, resume)
        self.reason: str | None = resume.reason
        self.last_exit: str | None = resume.last_exit
        # Which placement of this job we are: the controller ignores the state reports
        # of an earlier one that arrive after it asked for us.
        self.generation: int = max(resume.generation, placement.generation)
        self._resume = resume
        # How the current run was started (procclaw/run.py CAUSES), and how the run a
        # restart under way starts will be.
        self.cause: str | None = resume.cause
        self._restart_cause = resume.restart_cause
        self._retry_at: float | None = None  # wall clock: when a backoff ends
        self._retry: Timer | None = None  # the end of a backoff
        self.stopping = StopSequence(
            host.loop, job, f"job {job.id}", self._runtime_exceeded, host.cgroups
        )
        self.done = False  # at rest: nothing more happens until it is let go
        self.final = False  # the daemon is stopping: once at rest, it stays down
        self.last_run: Run | None = resume.last_run
        self.notices = JobNotices(host.home, job, resume)
        self.output = JobOutput(job, host.home, pipes.out_r, pipes.err_r)
        self.watches = RunWatches(
            host.loop,
            job,
            self.output,
            resume,
            self._report_facts,
            self._over_limit,
            sample_memory=not host.cgroups.limits_memory(),
        )
        self.starts = RunStart(host, job, pipes)
        self.exits = RunExits(host.loop, host.calls, host.reaper, self._exited)

    # ---- life in the supervisor --------------------------------------------------------

    def begin(self) -> None:
        """Our first act: start the job, or carry on where a dead predecessor left off."""
        for fd in self.pipes.all():
            os.set_inheritable(fd, False)
        self.output.watch(
            self.host.loop,
            on_trouble=lambda: self._report_facts(event="log"),
            on_match=lambda: self.state == JobState.RUNNING and self.watches.heard(),
        )
        self.notices.listen(
            self.host.loop,
            running=lambda: self.process is not None,
            on_ready=lambda: self._report_facts(event="ready"),
            on_change=self._report_facts,
        )
        resume = self._resume
        state = resume.state
        if self.process is not None:
            self._adopt(JobState.STOPPING if state == JobState.STOPPING else JobState.RUNNING)
        elif state == JobState.BACKOFF and resume.retry_at:
            self._take_over_state(JobState.BACKOFF)
            self._retry_at = resume.retry_at
            delay = max(0.0, resume.retry_at - time.time())
            self._retry = self.host.loop.call_later(delay, lambda: self._start("retry"))
        elif state in RESTING_STATES and (self.last_run or state != JobState.STOPPED):
            # It ended while our predecessor was recording it: record it again, then go.
            if self.last_run is not None:
                self.host.report(report_to_wire(self.last_run), [])
            # Its event may have died with our predecessor, unpublished: say it again.
            self._take_over_state(state, announce=True)
            self._finish()
        else:
            self._start(self.placement.cause)

    def close(self) -> None:
        """Let go: the job is at rest and recorded (or the supervisor is exiting)."""
        self._cancel_retry()
        self.starts.cancel()
        self.watches.end()
        self.exits.close()
        self.output.unwatch(self.host.loop)
        self.output.close()
        self.notices.close()
        for fd in self.pipes.all():
            try:
                os.close(fd)
            except OSError:
                pass

    def placed_again(self, placement: Placement) -> None:
        """The controller placed the job anew while it runs here (it had seen it at rest
        a moment before): carry on under the newer placement, so our reports count."""
        if placement.generation > self.generation:
            self.placement = placement.with_config({})
            self.generation = placement.generation
            self._report_facts()

    def root_facts(self, now: JobFacts | None = None) -> HeldFacts:
        """Everything a replacement supervisor needs to carry on exactly where we are
        (`now`: our facts, when the caller has just made them)."""
        return (now or self.facts()).extended(
            HeldFacts,
            kill_at=self.stopping.kill_at,
            retry_at=self._retry_at,
            **self.after_exit.wishes(),
            restart_cause=self._restart_cause,
            last_run=self.last_run,
        )

    def shut_down(self) -> None:
        """Daemon shutdown: stop the job gracefully; it stays down."""
        self.final = True
        self.after_exit.forget_wishes()
        if self.state in RESTING_STATES:
            self._finish()
        else:
            self.stop(force=False)

    # ---- the one place a state changes -------------------------------------------------

    def _set_state(self, new: JobState, **extra: Any) -> None:
        check_transition(self.state, new)
        self.state = new
        facts = self.facts().but(**extra)
        self.host.tell_root(self.job.id, facts)  # a replacement must know this state
        events: list[tuple[str, WireRecord]] = [(self._topic(new.value), facts)]
        if new == JobState.RUNNING and self.job.health_check.type == "process":
            # A process check's verdict, ours to tell: alive until the exit we report.
            # The controller records it from the report itself.
            verdict = HealthReport(job=self.job.id, run_id=facts.run_id, healthy=True)
            events.append((self._topic("health"), verdict))
        self.host.report(report_to_wire(facts), events)

    def _take_over_state(self, state: JobState, announce: bool = False) -> None:
        """Start as a dead predecessor left off: only the controller hears it again
        (reports are idempotent), and, if `announce`, the bus."""
        self.state = state
        self._report_facts(event=state.value if announce else None)

    def _report_facts(self, event: str | None = None) -> None:
        """Tell root and the controller our facts, the state unchanged (then `event`)."""
        self.host.tell_root(self.job.id, None)
        facts = self.facts()
        events = [(self._topic(event), facts)] if event else []
        self.host.report(report_to_wire(facts), events)

    def facts(self) -> JobFacts:
        return JobFacts(
            job=self.job.id,
            state=self.state,
            **run_facts(self.process),
            cause=self.cause,
            **self.after_exit.counts(),
            last_exit=self.last_exit,
            reason=self.reason,
            supervisor=self.host.supervisor,
            sup_pid=os.getpid(),
            sup_start=self.host.sup_start,
            generation=self.generation,
            log_trouble=self.output.trouble(),
            **self.notices.facts(),
            **self.watches.facts(),
        )

    def _topic(self, event: str) -> str:
        return protocol.job_topic(self.job.id, event)

    # ---- starting ----------------------------------------------------------------------

    def _start(self, cause: str) -> None:
        self.cause = cause
        self._retry = None
        self._retry_at = None
        self.done = False
        self.notices.new_run()
        self.watches.new_run()
        self._set_state(JobState.STARTING)
        self.starts.begin(
            self.notices.run_env(), self._spawned, self._not_started, alone=cause == "retry"
        )

    def _spawned(self, process: JobProcess) -> None:
        self.process = process
        self.exits.spawned(process)
        self.reason = None
        self._set_state(JobState.RUNNING)  # root learns the pid before anything else
        self.stopping.watch_runtime(process)
        self.watches.begin(process)

    def _not_started(self, reason: str) -> None:
        self.reason = reason
        self._set_state(JobState.FAILED)
        self._finish()

    def _adopt(self, state: JobState) -> None:
        """Take over a job left running (or stopping) by a supervisor that died."""
        process = self.process
        assert process is not None
        self._take_over_state(state)
        self.after_exit.then_start = self._resume.then_start
        if not self.exits.adopt(process):
            return
        log.info("job %s: adopted pid %d (%s)", self.job.id, process.pid, state)
        if state == JobState.RUNNING:
            self.stopping.watch_runtime(process)
            self.watches.begin(process)
        if state == JobState.STOPPING:
            self.stopping.resume(process, self._resume.kill_at)

    # ---- exits -------------------------------------------------------------------------

    def _exited(self, status: int | None) -> None:
        process = self.process
        assert process is not None
        self.process = None
        self.watches.end()
        self.stopping.ended(process)
        # Nothing of the run outlives it, and it is not stopped while any of it runs.
        emptied = self.host.cgroups.end(self.job.id, process.cgroup)
        self.output.drain()
        ended = time.time()
        code, signame, text = describe_status(status) if status is not None else (None, None, "")
        text = text or "exit status unknown (the job ended while unsupervised)"
        self.last_exit = text
        uptime = ended - process.started_at
        exited = self.facts().extended(JobExited, exit_code=code, signal=signame, uptime=uptime)
        # The run is on record before the state that follows it, so whoever sees the
        # job `completed` or `failed` also finds the run that got it there.
        result = self.after_exit.run_result(self.state == JobState.STOPPING, code)
        self.last_run = Run(
            run_id=process.run_id,
            job=self.job.id,
            cause=self.cause or "",
            started_at=process.started_at,
            ended_at=ended,
            exit_code=code,
            signal=signame,
            result=result,
            output=tuple(self.starts.secrets.mask_lines(self.output.last_lines())),
        )
        exited_event = (self._topic("exited"), exited)
        self.host.report(report_to_wire(self.last_run), [exited_event])
        self._next_after_exit(code, uptime, text)
        # The search for stragglers reads every process's environment, so it waits
        # until any restart is under way.
        self.stopping.kill_stragglers(process, self.host.reaper.runs, emptied)

    def _next_after_exit(self, code: int | None, uptime: float, text: str) -> None:
        """Move to the state that follows an exit, then start again, wait, or rest."""
        stopping = self.state == JobState.STOPPING
        if self.final:
            self.after_exit.forget_wishes()
        restarting = stopping and self.after_exit.then_start
        queued = self.after_exit.queued
        step = self.after_exit.decide(stopping, code, uptime, text, self.reason)
        if restarting:
            cause = self._restart_cause
        elif queued and not self.after_exit.queued:  # the queued run is the one starting
            cause = "schedule"
        else:
            cause = "retry"
        self.reason = step.reason
        if self.final and step.start_in is not None:
            self._set_state(JobState.STOPPED)  # the daemon is stopping: nothing restarts
            self._finish()
            return
        if step.state == JobState.BACKOFF:
            assert step.start_in is not None
            self._retry_at = time.time() + step.start_in
            self._set_state(JobState.BACKOFF, retry_in=step.start_in)
            cause = "retry"
        else:
            self._set_state(step.state)
        if step.start_in is None:
            self._finish()
        elif step.start_in > 0:
            self._retry = self.host.loop.call_later(step.start_in, lambda: self._start(cause))
        else:
            self._start(cause)

    # ---- stopping ----------------------------------------------------------------------

    def stop(self, force: bool) -> None:
        """Stop the run gracefully (or at once, `force`); a job with no process yet rests."""
        starting = self.state == JobState.STARTING and self.starts.waiting
        if self.state == JobState.BACKOFF or starting:  # no process yet: nothing to signal
            self._cancel_retry()
            self.starts.cancel()
            self._set_state(JobState.STOPPED)
            self._finish()
            return
        process = self.process
        if process is None:
            return
        if self.state == JobState.RUNNING:
            self.watches.end()  # a stopping job owes no heartbeat
            self.stopping.fix_kill_at(force)  # before the state: a replacement keeps it
            self._set_state(JobState.STOPPING)
            self.host.once_told(lambda: self.stopping.begin(process, force))
        elif force and self.state == JobState.STOPPING:
            self.stopping.kill(process)

    def _runtime_exceeded(self) -> None:
        if self.state != JobState.RUNNING:
            return
        self.after_exit.timed_out = True
        self.reason = f"timed out: ran longer than max_runtime ({self.job.max_runtime:g} s)"
        log.info("job %s: %s; stopping it", self.job.id, self.reason)
        self.stop(force=False)

    def _over_limit(self, reason: str) -> None:
        """Over its memory limit: stopped gracefully, and restarted by its retry policy."""
        if self.state != JobState.RUNNING:
            return
        log.warning("job %s: %s; restarting it", self.job.id, reason)
        self.reason = reason
        self._report_facts(event="limit")
        self.after_exit.retry_as_unhealthy(reason)
        self.stop(force=False)

    def start_afresh(self, cause: str) -> None:
        """Start a new run now, with the retry counts reset: no backoff or wait is left."""
        self._cancel_retry()
        self.starts.cancel()
        self.after_exit.reset_counts()
        self._start(cause)

    def restart_after_stop(self, cause: str) -> None:
        """Stop the run gracefully, then start the next one (as `cause`)."""
        self._restart_cause = cause
        self.after_exit.restart_after_stop()
        self.stop(force=False)

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    def _finish(self) -> None:
        """The job is at rest: the supervisor lets it go once the controller has every
        report."""
        self.done = True
        self.host.finished(self.job.id)
