"""The supervisor actor: one per live job; it owns that job's processes and log files.

Started by root (asked by the controller) when a job starts, gone when the job is at
rest, so an idle job costs no process. It inherits from root, through the zygote, the
job's stdout and stderr pipes (read and write ends); root keeps its own copies, so when
a supervisor dies the pipe stays open, the job's output waits in the kernel, and the
next supervisor reads on from where the last one stopped.

Binds ROUTER `run/job-<id>.sock`: `state`, `start`, `stop {force}`, `restart`,
`unhealthy {reason}` (from the controller: stop the job and restart it through its
retry policy, as if it had crashed), and `queue` (a scheduled run that found this one
still going: run once more after it). A run longer than the job's `max_runtime` is
stopped gracefully and ends `failed`, its run recorded with the result `timeout`.
For a job with `ready: notify` or a watchdog check it binds the job's NOTIFY_SOCKET
(actors/job_notices.py) and keeps what the job said there among its facts: `ready`
(READY=1 in this run), `status_text` (STATUS=...) and `watchdog_at` (the last
WATCHDOG=1, wall clock).
Publishes `job.<id>.starting|running|ready|exited|backoff|stopping|stopped|completed|failed`,
each carrying the job's facts; sends the same facts, and one record per finished run,
to the controller through a ReportQueue (acknowledged, re-sent until recorded).
The job's `${secret:NAME}` values are read at each spawn into its environment alone
(actors/job_secrets.py), and masked in the last lines a run record keeps.
Tells root the job's pid in every heartbeat, so a replacement supervisor adopts the
running job instead of starting a second one. If root dies, it carries on alone and
the next daemon adopts it; on SIGTERM it stops the job gracefully, then exits.

This module owns the job's state (`_set_state` is the one place it changes) and its
commands; its parts own the rest: what follows a run's exit (actors/after_exit.py),
the stop signal, grace period and max_runtime (actors/stop_sequence.py), learning that
a run ended (actors/run_exits.py), and the job's output (actors/job_output.py).
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from typing import Any

from actors.after_exit import AfterExit
from actors.job_notices import JobNotices
from actors.job_output import JobOutput
from actors.job_process import (
    JobProcess,
    SpawnError,
    process_start_time,
    resumed_process,
    run_facts,
    spawn,
)
from actors.job_secrets import JobSecrets
from actors.loop import Timer
from actors.prctl import set_child_subreaper
from actors.report_queue import ReportQueue
from actors.run_exits import RunExits
from actors.runtime import Actor, ActorContext
from actors.stop_sequence import StopSequence
from procclaw import protocol
from procclaw.config import JobConfig
from procclaw.exit_status import describe_status
from procclaw.protocol import CommandError, ErrorCode, Request
from procclaw.retry import RetryPolicy
from procclaw.secrets import SecretError
from procclaw.states import RESTING_STATES, JobState, check_transition

log = logging.getLogger("procclaw.supervisor")


def supervisor_name(job_id: str) -> str:
    return f"job-{job_id}"


class Supervisor(Actor):
    def __init__(self, ctx: ActorContext):
        super().__init__(ctx)
        self.job: JobConfig = pickle.loads(ctx.args["job_config"])
        self.out_r, self.out_w, self.err_r, self.err_w = ctx.fds
        resume: dict[str, Any] = ctx.args.get("resume") or {}
        self.state = JobState.STOPPED
        # A job being resumed is ours from birth: our very first word to root names it,
        # so if we die before adopting it, our replacement still knows it.
        self.process: JobProcess | None = resumed_process(resume)
        policy = RetryPolicy.from_config(self.job.retry)
        continuous = self.job.type == "continuous"
        self.after_exit = AfterExit.resumed(policy, continuous, resume, ctx.args)
        self.reason: str | None = resume.get("reason")
        self.last_exit: str | None = resume.get("last_exit", ctx.args.get("last_exit"))
        # Which supervisor of this job we are: the controller ignores the state reports
        # of an earlier one that arrive after it asked for us.
        self.generation: int = resume.get("generation", ctx.args.get("generation", 0))
        self._resume = resume
        self._startup: Timer | None = None
        self._retry_at: float | None = None  # wall clock: when a backoff ends
        self._retry: Timer | None = None  # the end of a backoff
        self.stopping = StopSequence(self.loop, self.job, self.name, self._runtime_exceeded)
        self._exiting = False
        self._orphaned = False
        self._sup_start = process_start_time(os.getpid())
        self._last_run: dict[str, Any] | None = resume.get("last_run")
        self.notices = JobNotices(self.home, self.job, resume)
        self.output = JobOutput(self.job, self.home, self.out_r, self.err_r)
        self.secrets = JobSecrets(self.home, self.job)

    # ---- actor lifecycle ---------------------------------------------------------------

    def setup(self) -> None:
        set_child_subreaper()  # what the job leaves behind becomes ours to find and reap
        for fd in self.ctx.fds:
            os.set_inheritable(fd, False)
        self.reports = ReportQueue(self.zmq, self.loop, self.home.endpoint("controller"))
        self.reports.on_drained = self._exit_if_done
        self.serve(
            self.home.endpoint(supervisor_name(self.job.id)),
            {
                "state": lambda _req: {**self._facts(), "last_run": self._last_run},
                "start": self._start_command,
                "stop": self._stop_command,
                "restart": self._restart_command,
                "unhealthy": self._unhealthy_command,
                "queue": self._queue_command,
            },
            protocol.SUPERVISOR_COMMANDS,
        )
        self.output.watch(self.loop)
        self.notices.listen(
            self.loop,
            running=lambda: self.process is not None,
            on_ready=lambda: self.publish(protocol.job_topic(self.job.id, "ready"), self._facts()),
            on_change=self._report_facts,
        )
        self.exits = RunExits(self.loop, self.home, self.zmq, lambda: self.process, self._exited)
        self._startup = self.loop.call_later(0, self._begin)

    def teardown(self) -> None:
        self.reports.close()
        self.output.close()
        self.notices.close()

    def heartbeat_facts(self) -> dict[str, Any]:
        """Everything a replacement needs to carry on exactly where we are."""
        facts = {
            **run_facts(self.process, pid_key="job_pid"),
            "state": self.state.value,
            **self.after_exit.counts(),
            "last_exit": self.last_exit,
            "reason": self.reason,
            "kill_at": self.stopping.kill_at,
            "retry_at": self._retry_at,
            **self.notices.facts(),
            **self.after_exit.wishes(),
            "last_run": self._last_run,
            "generation": self.generation,
        }
        if self._orphaned:  # a new root knows nothing of us: what it needs to replace us
            facts["job_config"] = pickle.dumps(self.job)
            facts["stop_after"] = list(self.ctx.args.get("stop_after") or ())
        return facts

    def on_terminate(self) -> None:
        """Daemon shutdown: stop the job gracefully, then exit."""
        if self._startup is not None:
            self._begin(may_spawn=False)
        self.after_exit.forget_wishes()
        if self.state in RESTING_STATES:
            self._finish()
        else:
            self._stop(force=False)

    def on_root_gone(self) -> None:
        """Root died: keep the job running and logged; the next daemon adopts us."""
        log.warning("%s: root is gone; carrying on until a new daemon adopts us", self.name)
        self.loop.remove_reader(self.ctx.lifeline_fd)
        self._orphaned = True
        # Checking in the moment a new daemon listens, not at the next heartbeat, 30 s
        # away, gives that daemon back control of our job at once.
        self.when_root_listens(lambda: self._tell_root("heartbeat"))

    # ---- the one place a state changes -------------------------------------------------

    def _set_state(self, new: JobState, **extra: Any) -> None:
        check_transition(self.state, new)
        self.state = new
        facts = {**self._facts(), **extra}
        self._tell_root("heartbeat")  # a replacement must know this state, not the last one
        self.publish(protocol.job_topic(self.job.id, new.value), facts)
        self.reports.send({"kind": "state", **facts})

    def _take_over_state(self, state: JobState) -> None:
        """Start as a dead predecessor left off: its events were published already,
        so only the controller hears it again (reports are idempotent)."""
        self.state = state
        self._report_facts()

    def _report_facts(self) -> None:
        """Tell root and the controller our facts, the state unchanged."""
        self._tell_root("heartbeat")
        self.reports.send({"kind": "state", **self._facts()})

    def _facts(self) -> dict[str, Any]:
        return {
            "job": self.job.id,
            "state": self.state.value,
            **run_facts(self.process),
            **self.after_exit.counts(),
            "last_exit": self.last_exit,
            "reason": self.reason,
            "sup_pid": os.getpid(),
            "sup_start": self._sup_start,
            "generation": self.generation,
            **self.notices.facts(),
        }

    # ---- starting ----------------------------------------------------------------------

    def _start(self) -> None:
        self._retry = None
        self._retry_at = None
        self.notices.new_run()
        self._set_state(JobState.STARTING)
        extra_env = self.notices.run_env()
        try:
            self.process = spawn(self.job, self.out_w, self.err_w, self.secrets.read(), extra_env)
        except (SpawnError, SecretError) as exc:
            self.reason = str(exc)
            self._set_state(JobState.FAILED)
            self._finish()
            return
        self.reason = None
        self._tell_root("heartbeat")  # root learns the job's pid before anything can go wrong
        self._set_state(JobState.RUNNING)
        self.stopping.watch_runtime(self.process)

    def _begin(self, may_spawn: bool = True) -> None:
        """Our first act: start the job, or carry on where a dead predecessor left off."""
        if self._startup is not None:
            self._startup.cancel()
            self._startup = None
        resume = self._resume
        state = JobState(resume.get("state") or JobState.STOPPED.value)
        if self.process is not None:
            self._adopt(JobState.STOPPING if state == JobState.STOPPING else JobState.RUNNING)
        elif state == JobState.BACKOFF and resume.get("retry_at"):
            self._take_over_state(JobState.BACKOFF)
            self._retry_at = resume["retry_at"]
            self._retry = self.loop.call_later(max(0.0, self._retry_at - time.time()), self._start)
        elif state in RESTING_STATES and (self._last_run or state != JobState.STOPPED):
            # It ended while our predecessor was recording it: record it again, then go.
            if self._last_run is not None:
                self.reports.send({"kind": "run", **self._last_run})
            self._take_over_state(state)
            self._finish()
        elif may_spawn:
            self._start()

    def _adopt(self, state: JobState) -> None:
        """Take over a job left running (or stopping) by a supervisor that died."""
        process = self.process
        assert process is not None
        self._take_over_state(state)
        self.after_exit.then_start = bool(self._resume.get("then_start"))
        if not self.exits.adopt(process):
            return
        log.info("%s: adopted pid %d (%s)", self.name, process.pid, state)
        if state == JobState.RUNNING:
            self.stopping.watch_runtime(process)
        if state == JobState.STOPPING:
            self.stopping.resume(process, self._resume.get("kill_at"))

    # ---- exits -------------------------------------------------------------------------

    def _exited(self, status: int | None) -> None:
        process = self.process
        assert process is not None
        self.process = None
        self.stopping.ended(process)
        self.output.drain()
        ended = time.time()
        code, signame, text = describe_status(status) if status is not None else (None, None, "")
        text = text or "exit status unknown (the job ended while unsupervised)"
        self.last_exit = text
        uptime = ended - process.started_at
        self.publish(
            protocol.job_topic(self.job.id, "exited"),
            {**self._facts(), "exit_code": code, "signal": signame, "uptime": uptime},
        )
        # The run is on record before the state that follows it, so whoever sees the
        # job `completed` or `failed` also finds the run that got it there.
        result = self.after_exit.run_result(self.state == JobState.STOPPING, code)
        self._last_run = {
            "run_id": process.run_id,
            "job": self.job.id,
            "started_at": process.started_at,
            "ended_at": ended,
            "exit_code": code,
            "signal": signame,
            "result": result,
            "output": self.secrets.mask_lines(self.output.last_lines()),
        }
        self.reports.send({"kind": "run", **self._last_run})
        self._next_after_exit(code, uptime, text)
        # The search for stragglers reads every process's environment, so it waits
        # until any restart is under way.
        self.stopping.kill_stragglers(process)

    def _next_after_exit(self, code: int | None, uptime: float, text: str) -> None:
        """Move to the state that follows an exit, then start again, wait, or rest."""
        stopping = self.state == JobState.STOPPING
        step = self.after_exit.decide(stopping, code, uptime, text, self.reason)
        self.reason = step.reason
        if step.state == JobState.BACKOFF:
            assert step.start_in is not None
            self._retry_at = time.time() + step.start_in
            self._set_state(JobState.BACKOFF, retry_in=step.start_in)
        else:
            self._set_state(step.state)
        if step.start_in is None:
            self._finish()
        elif step.start_in > 0:
            self._retry = self.loop.call_later(step.start_in, self._start)
        else:
            self._start()

    # ---- stopping ----------------------------------------------------------------------

    def _stop(self, force: bool) -> None:
        if self.state == JobState.BACKOFF:
            self._cancel_retry()
            self._set_state(JobState.STOPPED)
            self._finish()
            return
        process = self.process
        if process is None:
            return
        if self.state == JobState.RUNNING:
            self.stopping.fix_kill_at(force)  # before the state: a replacement keeps it
            self._set_state(JobState.STOPPING)
            self.stopping.begin(process, force)
        elif force and self.state == JobState.STOPPING:
            self.stopping.kill(process)

    def _runtime_exceeded(self) -> None:
        if self.state != JobState.RUNNING:
            return
        self.after_exit.timed_out = True
        self.reason = f"timed out: ran longer than max_runtime ({self.job.max_runtime:g} s)"
        log.info("%s: %s; stopping it", self.name, self.reason)
        self._stop(force=False)

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    def _finish(self) -> None:
        """The job is at rest: exit once the controller has every report."""
        self._exiting = True
        self._exit_if_done()

    def _exit_if_done(self) -> None:
        if self._exiting and self.reports.empty and self.state in RESTING_STATES:
            self.loop.stop()

    # ---- commands ----------------------------------------------------------------------

    def _start_command(self, _request: Request) -> dict[str, Any]:
        if self.state != JobState.BACKOFF:
            raise CommandError(ErrorCode.CONFLICT, f"job '{self.job.id}' is already {self.state}")
        self._cancel_retry()
        self.after_exit.attempt = 0
        self._start()
        return self._facts()

    def _stop_command(self, request: Request) -> dict[str, Any]:
        self.after_exit.forget_wishes()
        self._stop(force=bool(request.args.get("force")))
        return self._facts()

    def _unhealthy_command(self, request: Request) -> dict[str, Any]:
        """Restart a running job its health check gave up on, counted like a crash."""
        if self.state == JobState.RUNNING:
            reason = str(request.args.get("reason") or "health check failed")
            self.after_exit.retry_as_unhealthy(reason)
            self._stop(force=False)
        return self._facts()

    def _queue_command(self, _request: Request) -> dict[str, Any]:
        """Hold one more run for when this one ends; `queued` is false if one is held."""
        if self.state in RESTING_STATES or self._exiting:
            raise CommandError(ErrorCode.CONFLICT, f"job '{self.job.id}' is not running")
        if not self.after_exit.queue():
            return {"queued": False}
        self._tell_root("heartbeat")  # a replacement keeps the queued run
        return {"queued": True}

    def _restart_command(self, _request: Request) -> dict[str, Any]:
        if self.state == JobState.BACKOFF:
            return self._start_command(_request)
        self.after_exit.restart_after_stop()
        self._stop(force=False)
        return self._facts()
