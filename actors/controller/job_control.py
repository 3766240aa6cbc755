"""How the controller starts, stops and restarts jobs, and re-adopts them at daemon start.

A job at rest is held by no supervisor: starting it places it in one, through root
(actors/controller/job_placer.py). A live job's supervisor, named in its facts, takes its stop and
restart commands, sent without waiting (actors/runtime/async_calls.py): a command from a
person is answered with the supervisor's reply when it comes, through a `Deferred`,
and the controller serves everyone else meanwhile. The controller never signals a
job. A job with dependencies starts through the DependencyGate, which may make it
wait; a waiting job is held by no supervisor yet, so the gate answers for it. A job
placed but not yet taken by its supervisor has its commands held back until it is
(actors/controller/held_commands.py), so none overtakes the placement.

The facts asked about here are the registry's: supervisors publish a job's events
only once the controller has recorded the report behind them, so the registry is
never behind anything a client has seen.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from typing import Any, Protocol

from actors.controller.held_commands import HeldCommands
from actors.controller.job_placer import JobPlacer
from actors.controller.job_registry import JobRegistry
from actors.runtime.async_calls import AsyncCalls
from actors.runtime.command_server import Deferred, each_answer, log_failure
from actors.runtime.job_process import is_same_process, kill_everything
from actors.runtime.loop import EventLoop
from procclaw.config import Config, JobConfig
from procclaw.config.job_wire import job_to_wire
from procclaw.dependency_graph import DependencyGraph
from procclaw.job_facts import HeldFacts, JobFacts
from procclaw.placement import Placement
from procclaw.protocol import CommandError, ErrorCode
from procclaw.states import LIVE_STATES, JobState

log = logging.getLogger("procclaw.controller")

# A supervisor answers in milliseconds; one that does not within this is stuck.
SUPERVISOR_TIMEOUT = 3.0

Reply = dict[str, Any] | Deferred


class Gate(Protocol):
    """What starts and stops go through for dependencies (actors/controller/dependency_gate.py,
    which calls back into this module: named here, not imported, so neither module
    imports the other)."""

    graph: DependencyGraph

    def start(self, job: JobConfig, facts: JobFacts, cause: str) -> dict[str, Any]: ...

    def cancel(self, job: JobConfig) -> dict[str, Any]: ...


class JobControl:
    def __init__(
        self,
        registry: JobRegistry,
        calls: AsyncCalls,
        placer: JobPlacer,
        loop: EventLoop,
    ):
        self.registry = registry
        # A job's commands wait while it is on its way to its supervisor.
        self.held = HeldCommands(loop, self._placing)
        self.placer = placer
        placer.still_wanted = self._still_wanted
        placer.on_refused = self._not_placed
        self._calls = calls
        self.gate: Gate | None = None  # the DependencyGate, set by the controller
        self.config = Config()  # the applied config, kept current by the controller
        # Whether `pause` holds a job down (actors/controller/job_pauses.py sets it).
        self.paused: Callable[[str], bool] = lambda _job_id: False
        # Whether a reload is restarting the job with its new config already
        # (actors/controller/config_reload.py sets it): a restart asked for then is that one.
        self.reload_restarting: Callable[[str], bool] = lambda _job_id: False

    def starts_by_itself(self, job: JobConfig) -> bool:
        """What daemon start, a reload and `resume` start: an enabled continuous job
        that is not paused."""
        return job.type == "continuous" and job.enabled and not self.paused(job.id)

    def refuse_if_paused(self, job: JobConfig) -> None:
        if self.paused(job.id):
            raise CommandError(
                ErrorCode.PAUSED, f"job '{job.id}' is paused: procclaw resume {job.id}"
            )

    def start(self, job: JobConfig, cause: str) -> Reply:
        """Start the job; `cause` says who asked (procclaw/run.py CAUSES), and goes with
        the run into its record."""
        return self.held.run(job.id, lambda: self._start_now(job, cause))

    def _start_now(self, job: JobConfig, cause: str) -> Reply:
        facts = self.registry.facts(job.id)
        state = facts.state
        if state not in LIVE_STATES:
            self.refuse_if_paused(job)
        if state == JobState.BACKOFF:
            return self._ask_supervisor(job.id, "start", {"cause": cause})
        if state in (JobState.WAITING, JobState.STARTING, JobState.RUNNING):
            # As `systemctl start`: asking for what already is, is not an error.
            return {**facts.to_wire(), "note": "already started"}
        if state == JobState.STOPPING:
            raise CommandError(
                ErrorCode.CONFLICT, f"job '{job.id}' is stopping: start it once it has stopped"
            )
        if self.gate is not None:
            return self.gate.start(job, facts, cause)
        self.launch(job, cause)
        return {"state": JobState.STARTING.value}

    def launch(self, job: JobConfig, cause: str, facts: JobFacts | None = None) -> None:
        """Place the job in its supervisor to start now, dependencies or not."""
        self._supervise(job, facts or self.registry.facts(job.id), cause=cause)

    def stop(self, job: JobConfig, force: bool) -> Reply:
        return self.held.run(job.id, lambda: self._stop_now(job, force))

    def _stop_now(self, job: JobConfig, force: bool) -> Reply:
        state = self.registry.state(job.id)
        if state == JobState.WAITING and self.gate is not None:
            return self.gate.cancel(job)
        if state not in LIVE_STATES:
            return {"state": state.value, "note": "not running"}
        return self._ask_supervisor(job.id, "stop", {"force": force})

    def stop_many(self, jobs: list[JobConfig], force: bool) -> Deferred:
        """Stop many jobs with one request to each supervisor holding some of them.

        Each job's answer is its facts, a `not running` note, or an `error`.
        """

        def at_rest(job: JobConfig, state: JobState) -> Reply:
            if state == JobState.WAITING and self.gate is not None:
                return self.gate.cancel(job)
            return {"state": state.value, "note": "not running"}

        return self._ask_many(
            jobs, "stop", {"force": force}, at_rest, lambda job: self._stop_now(job, force)
        )

    def restart_many(self, jobs: list[JobConfig], cause: str) -> Deferred:
        """Restart many jobs: one request to each supervisor holding some of them; a job
        at rest is started (all of those placed in one batch)."""

        def at_rest(job: JobConfig, state: JobState) -> Reply:
            if state == JobState.WAITING:
                return self.registry.facts(job.id).to_wire()
            return self._start_now(job, cause)

        return self._ask_many(
            jobs, "restart", {"cause": cause}, at_rest, lambda job: self._restart_now(job, cause)
        )

    def _ask_many(
        self,
        jobs: list[JobConfig],
        cmd: str,
        args: dict[str, Any],
        at_rest: Callable[[JobConfig, JobState], Reply],
        alone: Callable[[JobConfig], Reply],
    ) -> Deferred:
        """`cmd` for the live jobs, one request per supervisor; `at_rest` for the others;
        `alone` (the command for one job) once a job on its way to its supervisor is
        there. A job that came to rest meanwhile is answered as such by a stop."""
        results: dict[str, Any] = {}
        by_supervisor: dict[str, list[str]] = {}
        held: set[str] = set()
        for job in jobs:
            if self.held.holds(job.id):
                results[job.id] = self.held.run(job.id, lambda j=job: alone(j))
                held.add(job.id)
                continue
            facts = self.registry.facts(job.id)
            state = facts.state
            try:
                if cmd == "restart":
                    self.refuse_if_paused(job)
                    if self.reload_restarting(job.id):
                        results[job.id] = facts.to_wire()
                        continue
                if state in LIVE_STATES and state != JobState.WAITING:
                    by_supervisor.setdefault(str(facts.supervisor), []).append(job.id)
                    continue
                results[job.id] = at_rest(job, state)
            except CommandError as exc:
                results[job.id] = {"error": exc.message}
        for supervisor, job_ids in by_supervisor.items():
            asked = Deferred()
            for job_id in job_ids:
                results[job_id] = asked
            self._calls.call(
                supervisor,
                cmd,
                {**args, "jobs": job_ids},
                asked.resolve,
                lambda code, message, d=asked, s=supervisor: d.fail(
                    code, f"its supervisor {s} is not answering: {message}"
                ),
                SUPERVISOR_TIMEOUT,
            )
        return each_answer(
            results,
            lambda job_id, answer: (
                answer if job_id in held else self._answer(job_id, answer, cmd == "stop")
            ),
        )

    def _answer(self, job_id: str, answers: Any, not_running: bool) -> dict[str, Any]:
        """One job's part of a supervisor's answer to a request about many."""
        mine = (answers or {}).get(job_id)
        if mine is None or (not_running and JobState(mine["state"]) not in LIVE_STATES):
            state = mine["state"] if mine else self.registry.state(job_id).value
            return {"state": state, "note": "not running"}
        return mine

    def restart(self, job: JobConfig, cause: str) -> Reply:
        return self.held.run(job.id, lambda: self._restart_now(job, cause))

    def _restart_now(self, job: JobConfig, cause: str) -> Reply:
        self.refuse_if_paused(job)
        if self.reload_restarting(job.id):
            return self.registry.facts(job.id).to_wire()
        state = self.registry.state(job.id)
        if state == JobState.WAITING:
            return self.registry.facts(job.id).to_wire()  # it starts when its dependencies allow
        if state not in LIVE_STATES:
            return self._start_now(job, cause)
        return self._ask_supervisor(job.id, "restart", {"cause": cause})

    def restart_unhealthy(self, job: JobConfig, reason: str) -> None:
        """Its health check gave up on the job: the supervisor restarts it by its policy."""
        unhealthy = self.held.run(
            job.id, lambda: self._ask_supervisor(job.id, "unhealthy", {"reason": reason})
        )
        log_failure(unhealthy, f"job {job.id}: unhealthy, but not restarted")

    def queue(self, job: JobConfig) -> Deferred:
        """One more run once the live one ends (on_overlap: queue); its supervisor holds it."""
        queued = self.held.run(job.id, lambda: self._ask_supervisor(job.id, "queue"))
        assert isinstance(queued, Deferred)
        return queued

    def _ask_supervisor(self, job_id: str, cmd: str, args: dict[str, Any] | None = None):
        """The command's reply from the job's supervisor, when it comes."""
        supervisor = str(self.registry.facts(job_id).supervisor)
        reply = Deferred()

        def failed(code: str, message: str) -> None:
            if code in (ErrorCode.CONFLICT, ErrorCode.BAD_REQUEST):
                reply.fail(code, message)
            else:
                reply.fail(
                    ErrorCode.UNAVAILABLE,
                    f"the supervisor of '{job_id}' is not answering: {message}",
                )

        request = {**(args or {}), "job": job_id}
        self._calls.call(supervisor, cmd, request, reply.resolve, failed, SUPERVISOR_TIMEOUT)
        return reply

    # ---- placing -----------------------------------------------------------------------

    def _supervise(
        self, job: JobConfig, facts: JobFacts, resume: JobFacts | None = None, cause: str = ""
    ) -> None:
        generation = facts.generation + 1
        supervisor = self.placer.supervisor_for(job)
        placement = Placement(
            job=job.id,
            supervisor=supervisor,
            config=job_to_wire(job),
            generation=generation,
            isolated=job.isolate,
            # Root stops these jobs before this one at daemon stop.
            stop_after=tuple(self.gate.graph.waiters(job.id) if self.gate else ()),
            last_exit=facts.last_exit,
            resume=resume.but(generation=generation).extended(HeldFacts) if resume else None,
            cause=cause,
        )
        # On record before root hears of it: a controller restarted in between places
        # it again (`recover`), for the same cause.
        if not resume:
            facts = facts.but(cause=cause)
        self.registry.hand_over(facts.but(generation=generation, supervisor=supervisor))
        self.placer.place(placement)

    def _placing(self, job_id: str) -> bool:
        """Placed, and not yet taken: no report from its supervisor so far."""
        facts = self.registry.facts(job_id)
        return facts.state == JobState.STARTING and facts.sup_pid is None

    def reported(self, job_id: str) -> None:
        """The job's supervisor reported (it has the job): its held commands may go."""
        self.held.settled(job_id)

    def _still_wanted(self, placement: Placement) -> bool:
        facts = self.registry.facts(placement.job)
        return facts.state == JobState.STARTING and facts.generation == placement.generation

    def _not_placed(self, batch: list[Placement], message: str) -> None:
        """Root refused placements (the daemon is stopping): those jobs do not start."""
        for placement in batch:
            if not self._still_wanted(placement):
                continue
            job_id = placement.job
            log.error("job %s not started: %s", job_id, message)
            self.registry.set_state(job_id, JobState.STOPPED, f"not started: {message}")
            self.held.settled(job_id)

    # ---- daemon start, controller restart ----------------------------------------------

    def recover(self, held: dict[str, dict[str, int]]) -> None:
        """After a controller restart: place again every job recorded as starting that
        no supervisor holds (`held`: root's word), so none asked for is left behind."""
        holding = {job for jobs in held.values() for job in jobs}
        for job_id in self.registry.live_jobs():
            facts = self.registry.facts(job_id)
            if job_id in holding or facts.state != JobState.STARTING:
                continue
            job = self.config.job(job_id)
            if job is None:
                self.registry.set_state(job_id, JobState.STOPPED, "removed from the config")
                continue
            log.info("job %s: asked for before a restart, never placed; placing it", job_id)
            running = _alive(facts.pid, facts.job_start)
            self._supervise(job, facts, resume=facts if running else None, cause=facts.cause or "")

    def reconcile(self, config: Config) -> None:
        """At daemon start: take back the jobs the last daemon left, start the rest."""
        for job_id in self.registry.live_jobs():
            facts = self.registry.facts(job_id)
            job = config.job(job_id)
            supervisor_alive = _alive(facts.sup_pid, facts.sup_start)
            if supervisor_alive and facts.supervisor is None and facts.sup_pid:
                _retire_older_supervisor(job_id, facts.sup_pid)
                supervisor_alive = False
            if facts.state == JobState.WAITING:
                self.registry.set_state(
                    job_id, JobState.STOPPED, "the daemon stopped while it waited"
                )
            elif supervisor_alive:
                log.info("job %s: its supervisor outlived the last daemon; it checks in", job_id)
            elif _alive(facts.pid, facts.job_start):
                if job is None:
                    # Gone from the config while the daemon was down: nobody would ever
                    # manage it again, so it is stopped (its identity checked above).
                    log.warning("job %s: no longer configured; killing pid %s", job_id, facts.pid)
                    kill_everything(facts.pid, str(facts.run_id))
                    self.registry.set_state(job_id, JobState.STOPPED, "removed from the config")
                    continue
                log.info("job %s: re-adopting pid %s", job_id, facts.pid)
                self._supervise(job, facts, resume=facts)
            else:
                self.registry.set_state(job_id, JobState.STOPPED, "lost while the daemon was down")
        for job in config.jobs:
            if self.starts_by_itself(job) and not self.registry.is_live(job.id):
                try:
                    self.start(job, "daemon")
                except CommandError as exc:
                    log.error("job %s not started: %s", job.id, exc.message)


def _retire_older_supervisor(job_id: str, pid: int) -> None:
    """A supervisor left by an earlier ProcClaw speaks another protocol and cannot be
    adopted: it is killed and its job is taken over by pid like an orphan's. Its log
    pipe dies with it, so a job that writes again gets SIGPIPE and is restarted."""
    log.warning(
        "job %s: its supervisor (pid %d) is from an earlier ProcClaw and cannot be adopted;"
        " taking the job over by pid (its output from now on needs a new pipe: a job"
        " that writes gets SIGPIPE and is restarted)",
        job_id,
        pid,
    )
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # gone meanwhile: the job is an orphan all the same


def _alive(pid: int | None, start_time: str | None) -> bool:
    return pid is not None and start_time is not None and is_same_process(pid, start_time)
