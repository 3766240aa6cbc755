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
(actors/notify_socket.py) and keeps what the job said there among its facts: `ready`
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
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import time
from typing import Any

from actors.job_output import JobOutput
from actors.job_process import (
    JobProcess,
    SpawnError,
    has_descendants,
    is_same_process,
    kill_everything,
    kill_marked,
    process_start_time,
    signal_group,
    spawn,
)
from actors.job_secrets import JobSecrets
from actors.loop import Timer
from actors.notify_socket import Notices, NotifySocket, notify_socket_path, uses_notify_socket
from actors.prctl import set_child_subreaper
from actors.report_queue import ReportQueue
from actors.runtime import Actor, ActorContext
from procclaw import protocol
from procclaw.client import Client, ClientError
from procclaw.config import JobConfig
from procclaw.exit_status import describe_status
from procclaw.protocol import CommandError, ErrorCode, Request
from procclaw.retry import RetryPolicy
from procclaw.secrets import SecretError
from procclaw.states import RESTING_STATES, JobState, check_transition

log = logging.getLogger("procclaw.supervisor")


def supervisor_name(job_id: str) -> str:
    return f"job-{job_id}"


def _resumed_process(resume: dict[str, Any]) -> JobProcess | None:
    if not resume.get("job_pid"):
        return None
    return JobProcess(
        resume["job_pid"], resume["job_start"], resume["started_at"], resume["run_id"]
    )


class Supervisor(Actor):
    def __init__(self, ctx: ActorContext):
        super().__init__(ctx)
        self.job: JobConfig = pickle.loads(ctx.args["job_config"])
        self.out_r, self.out_w, self.err_r, self.err_w = ctx.fds
        resume: dict[str, Any] = ctx.args.get("resume") or {}
        self.policy = RetryPolicy.from_config(self.job.retry)
        self.state = JobState.STOPPED
        # A job being resumed is ours from birth: our very first word to root names it,
        # so if we die before adopting it, our replacement still knows it.
        self.process: JobProcess | None = _resumed_process(resume)
        self.restarts: int = resume.get("restarts", ctx.args.get("restarts", 0))
        self.attempt: int = resume.get("attempt", 0)
        self.reason: str | None = resume.get("reason")
        self.last_exit: str | None = resume.get("last_exit", ctx.args.get("last_exit"))
        # Which supervisor of this job we are: the controller ignores the state reports
        # of an earlier one that arrive after it asked for us.
        self.generation: int = resume.get("generation", ctx.args.get("generation", 0))
        self._resume = resume
        self._startup: Timer | None = None
        self._kill_at: float | None = None  # wall clock: when the grace period ends
        self._retry_at: float | None = None  # wall clock: when a backoff ends
        self._timer: Timer | None = None
        self._then_start = False  # after the stop under way, start again (restart)
        self._queued: bool = bool(resume.get("queued"))  # run again when this run ends
        self._timed_out: bool = bool(resume.get("timed_out"))  # stopping for max_runtime
        self._deadline: Timer | None = None  # when the run exceeds max_runtime
        self._exiting = False
        self._pidfd: int | None = None
        self._orphaned = False
        self._sup_start = process_start_time(os.getpid())
        self._last_run: dict[str, Any] | None = resume.get("last_run")
        self.notices = Notices.resumed(resume)
        self._then_retry: str | None = resume.get("then_retry")  # set when found unhealthy
        self.notify: NotifySocket | None = None
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
        if uses_notify_socket(self.job):
            self.notify = NotifySocket(notify_socket_path(self.home, self.job.id))
            self.loop.add_reader(self.notify.fileno(), self._on_notification)
        self.loop.on_signal(signal.SIGCHLD, lambda _s: self._reap())
        self._startup = self.loop.call_later(0, self._begin)

    def teardown(self) -> None:
        self.reports.close()
        self.output.close()
        if self.notify is not None:
            self.notify.close()

    def heartbeat_facts(self) -> dict[str, Any]:
        """Everything a replacement needs to carry on exactly where we are."""
        process = self.process
        facts = {
            "job_pid": process.pid if process else None,
            "job_start": process.start_time if process else None,
            "run_id": process.run_id if process else None,
            "started_at": process.started_at if process else None,
            "state": self.state.value,
            "restarts": self.restarts,
            "attempt": self.attempt,
            "last_exit": self.last_exit,
            "reason": self.reason,
            "kill_at": self._kill_at,
            "retry_at": self._retry_at,
            "then_start": self._then_start,
            "then_retry": self._then_retry,
            **self.notices.facts(),
            "queued": self._queued,
            "timed_out": self._timed_out,
            "last_run": self._last_run,
            "generation": self.generation,
        }
        if self._orphaned:
            facts["job_config"] = pickle.dumps(self.job)  # a new root knows nothing of us
        return facts

    def on_terminate(self) -> None:
        """Daemon shutdown: stop the job gracefully, then exit."""
        if self._startup is not None:
            self._begin(may_spawn=False)
        self._then_start = False
        self._then_retry = None
        self._queued = False
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
        self._tell_root("heartbeat")
        self.reports.send({"kind": "state", **self._facts()})

    def _facts(self) -> dict[str, Any]:
        process = self.process
        return {
            "job": self.job.id,
            "state": self.state.value,
            "pid": process.pid if process else None,
            "job_start": process.start_time if process else None,
            "run_id": process.run_id if process else None,
            "started_at": process.started_at if process else None,
            "restarts": self.restarts,
            "attempt": self.attempt,
            "last_exit": self.last_exit,
            "reason": self.reason,
            "sup_pid": os.getpid(),
            "sup_start": self._sup_start,
            "generation": self.generation,
            **self.notices.facts(),
        }

    # ---- starting ----------------------------------------------------------------------

    def _start(self) -> None:
        self._timer = None
        self._retry_at = None
        self.notices = Notices()
        self._set_state(JobState.STARTING)
        extra_env = {}
        if self.notify is not None:
            extra_env["NOTIFY_SOCKET"] = self.notify.path
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
        self._watch_runtime()

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
            delay = max(0.0, self._retry_at - time.time())
            self._timer = self.loop.call_later(delay, self._start)
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
        self._then_start = bool(self._resume.get("then_start"))
        if not is_same_process(process.pid, process.start_time):
            self._adopted_exited()  # gone already: root may hold its exit status
            return
        try:
            self._pidfd = os.pidfd_open(process.pid)
        except ProcessLookupError:
            self._adopted_exited()
            return
        self.loop.add_reader(self._pidfd, self._adopted_exited)
        log.info("%s: adopted pid %d (%s)", self.name, process.pid, state)
        if state == JobState.RUNNING:
            self._watch_runtime()
        if state == JobState.STOPPING:
            self._kill_at = self._resume.get("kill_at") or time.time()
            delay = max(0.0, self._kill_at - time.time())
            self._timer = self.loop.call_later(delay, self._grace_expired)

    # ---- exits -------------------------------------------------------------------------

    def _reap(self) -> None:
        """Reap every exited child: the job, or a straggler it left (we are a subreaper)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            process = self.process
            if process is not None and process.popen is not None and pid == process.pid:
                process.popen.returncode = status  # reaped here, not by Popen
                self._exited(status)

    def _adopted_exited(self) -> None:
        """The adopted job ended; it was root's child, so root has its exit status."""
        if self._pidfd is not None:
            self.loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        assert self.process is not None
        try:
            root = Client(self.home, timeout=2.0, caller="actor", context=self.zmq)
            reply = root.call_endpoint("daemon", "reaped", {"pid": self.process.pid})
            status = reply.get("status")
        except ClientError:
            status = None  # root is gone: the status went to init
        self._exited(status)

    def _exited(self, status: int | None) -> None:
        process = self.process
        assert process is not None
        self.process = None
        # Nothing of this run may outlive it. The group id is only safe to signal when
        # we reaped the leader ourselves just now; an adopted job's may be reused.
        if not process.adopted:
            signal_group(process.pid, signal.SIGKILL)
        self.output.drain()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
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
        if self.state == JobState.STOPPING:
            result = "timeout" if self._timed_out else "stopped"
        else:
            result = "completed" if code == 0 else "failed"
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
        # Stragglers that left the group carry this run's marker; the search for them
        # reads every process's environment, so it waits until any restart is under way,
        # and is skipped when our own job left no child re-parented to us.
        if process.adopted or has_descendants():
            kill_marked(process.run_id)

    def _next_after_exit(self, code: int | None, uptime: float, text: str) -> None:
        """Move to the state that follows an exit."""
        self._kill_at = None
        if self._then_retry is not None:
            text = f"unhealthy: {self._then_retry}"
            self._then_retry = None
        elif self.state == JobState.STOPPING:
            timed_out, self._timed_out = self._timed_out, False
            self._set_state(JobState.FAILED if timed_out else JobState.STOPPED)
            if self._then_start or (timed_out and self._queued):
                self._then_start = self._queued = False
                self._start()
            else:
                self._finish()
            return
        if self.job.type == "continuous":
            if self.policy.recovered(uptime):
                self.attempt = 0
            self.attempt += 1
            delay = self.policy.delay(self.attempt)
            if delay is not None:
                self.restarts += 1
                self._retry_at = time.time() + delay
                self._set_state(JobState.BACKOFF, retry_in=delay)
                if delay > 0:
                    self._timer = self.loop.call_later(delay, self._start)
                else:
                    self._start()
                return
            self.reason = f"gave up after {self.attempt - 1} restarts; last: {text}"
        elif self.state == JobState.STOPPING:  # found unhealthy: it has failed
            self.reason = text
        else:
            self.reason = None if code == 0 else text
        self._set_state(
            JobState.COMPLETED if code == 0 and self.reason is None else JobState.FAILED
        )
        if self._queued:
            self._queued = False
            self._start()
        else:
            self._finish()

    # ---- what the job says on its NOTIFY_SOCKET ----------------------------------------

    def _on_notification(self) -> None:
        assert self.notify is not None
        changed = False
        for message in self.notify.receive():
            if self.process is None:
                continue  # from what the last run left behind
            said, became_ready = self.notices.absorb(message, time.time())
            changed = changed or said
            if became_ready:
                self.publish(protocol.job_topic(self.job.id, "ready"), self._facts())
        if changed:
            self._tell_root("heartbeat")
            self.reports.send({"kind": "state", **self._facts()})

    # ---- stopping ----------------------------------------------------------------------

    def _stop(self, force: bool) -> None:
        if self.state == JobState.BACKOFF:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._set_state(JobState.STOPPED)
            self._finish()
            return
        process = self.process
        if process is None:
            return
        if self.state == JobState.RUNNING:
            grace = 0.0 if force else self.job.shutdown.grace_period
            self._kill_at = time.time() + grace  # before the state: a replacement keeps it
            self._set_state(JobState.STOPPING)
            if not force:
                signal_group(process.pid, signal.Signals[self.job.shutdown.signal])
                self._timer = self.loop.call_later(grace, self._grace_expired)
                return
        if force and self.state == JobState.STOPPING:
            kill_everything(process.pid, process.run_id)

    def _watch_runtime(self) -> None:
        """Stop the run once it has lasted max_runtime (counted from its start)."""
        process = self.process
        if self.job.max_runtime is None or process is None:
            return
        left = process.started_at + self.job.max_runtime - time.time()
        self._deadline = self.loop.call_later(max(0.0, left), self._runtime_exceeded)

    def _runtime_exceeded(self) -> None:
        self._deadline = None
        if self.state != JobState.RUNNING:
            return
        self._timed_out = True
        self.reason = f"timed out: ran longer than max_runtime ({self.job.max_runtime:g} s)"
        log.info("%s: %s; stopping it", self.name, self.reason)
        self._stop(force=False)

    def _grace_expired(self) -> None:
        self._timer = None
        if self.process is not None:
            log.info("%s: grace period over; killing the job", self.name)
            kill_everything(self.process.pid, self.process.run_id)

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
        if self._timer is not None:
            self._timer.cancel()
        self.attempt = 0
        self._start()
        return self._facts()

    def _stop_command(self, request: Request) -> dict[str, Any]:
        self._then_start = self._queued = False
        self._then_retry = None
        self._stop(force=bool(request.args.get("force")))
        return self._facts()

    def _unhealthy_command(self, request: Request) -> dict[str, Any]:
        """Restart a running job its health check gave up on, counted like a crash."""
        if self.state == JobState.RUNNING:
            self._then_start = False
            self._then_retry = str(request.args.get("reason") or "health check failed")
            self._stop(force=False)
        return self._facts()

    def _queue_command(self, _request: Request) -> dict[str, Any]:
        """Hold one more run for when this one ends; `queued` is false if one is held."""
        if self.state in RESTING_STATES or self._exiting:
            raise CommandError(ErrorCode.CONFLICT, f"job '{self.job.id}' is not running")
        if self._queued:
            return {"queued": False}
        self._queued = True
        self._tell_root("heartbeat")  # a replacement keeps the queued run
        return {"queued": True}

    def _restart_command(self, _request: Request) -> dict[str, Any]:
        if self.state == JobState.BACKOFF:
            return self._start_command(_request)
        self._then_start = True
        self._stop(force=False)
        return self._facts()
