"""Holds a job back until what it depends on holds: the controller's `waiting` state.

A job whose requirements (procclaw/dependency_graph.py) are not met when it is asked to
start goes to `waiting`, with a reason naming what it waits for, and every job it
needs that is at rest is started too, as systemd's Requires= does. It starts the
moment its requirements hold: the gate re-checks the jobs waiting on a job whenever
a report or a health verdict about that job reaches the controller, so nothing polls.
Past the requirement's `timeout` it fails with `dependency timeout: ...`; when a job
it waits for fails, it fails with that reason. A running job whose dependency fails
is stopped if it says `on_dependency_failure: stop`, and left alone otherwise.

What happens is decided by procclaw/rules/dependency_decision.py on the facts gathered
here and the time; this module carries it out. A waiting job has no supervisor, so its
state changes through the registry's one writer (JobRegistry.set_state).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from actors.controller.job_health import READINESS_CHECKS, JobHealth
from actors.controller.job_registry import JobRegistry
from actors.runtime.command_server import log_failure
from actors.runtime.loop import EventLoop, Timer
from procclaw.config import Config, JobConfig
from procclaw.dependency_graph import DependencyGraph, Requirement
from procclaw.job_facts import JobFacts
from procclaw.protocol import CommandError
from procclaw.rules.dependency_decision import (
    Check,
    Decision,
    Fail,
    Standing,
    Start,
    Wait,
    decide,
    standing,
)
from procclaw.states import JobState

if TYPE_CHECKING:
    from actors.controller.job_control import JobControl

log = logging.getLogger("procclaw.controller")


class DependencyGate:
    def __init__(
        self,
        loop: EventLoop,
        registry: JobRegistry,
        health: JobHealth,
        jobs: JobControl,
    ):
        self._config = Config()
        self.graph = DependencyGraph(self._config)
        self._loop = loop
        self._registry = registry
        self._health = health
        self._jobs = jobs  # what starts (`launch`: now) and stops jobs
        self._timers: dict[str, Timer] = {}

    @property
    def config(self) -> Config:
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        self._config = config
        self.graph = DependencyGraph(config)

    # ---- asked by the controller -------------------------------------------------------

    def start(self, job: JobConfig, facts: JobFacts, cause: str) -> dict[str, Any]:
        """Start `job` (at rest, with these current `facts`) now if nothing holds it
        back, else make it wait, and start what it needs that is at rest (a failed job
        too), as systemd's Requires= does."""
        unmet = [check for check in self._checks(job.id) if check.standing is not Standing.HOLDS]
        if not unmet:
            self._jobs.launch(job, cause, facts)
            return {"state": JobState.STARTING.value}
        now = time.time()
        to_come = [Check(check.requirement, Standing.PENDING) for check in unmet]
        # The cause waits with the job, in its facts, for when it starts.
        self._carry_out(job, decide(to_come, since=now, now=now), since=now, cause=cause)
        for check in unmet:
            self._bring_up(check.requirement.target)
        facts = self._registry.facts(job.id)
        return {"state": facts.state.value, "reason": facts.reason}

    def cancel(self, job: JobConfig) -> dict[str, Any]:
        """`stop` of a waiting job: it waits no more."""
        self._set_state(job.id, JobState.STOPPED, None)
        return {"state": JobState.STOPPED.value}

    def resume(self) -> None:
        """After a controller restart: the jobs that were waiting wait on, with their
        original deadlines (or start, if what they waited for happened meanwhile)."""
        for job in self.config.jobs:
            if self._registry.state(job.id) == JobState.WAITING:
                self._check(job)

    def on_change(self, job_id: str) -> None:
        """A job's state, readiness or health changed: whoever waits on it may go on."""
        for waiter_id in self.graph.waiters(job_id):
            waiter = self.config.job(waiter_id)
            if waiter is None:
                continue
            if self._registry.state(waiter_id) == JobState.WAITING:
                self._check(waiter)
            elif (
                self._registry.state(job_id) == JobState.FAILED
                and waiter.on_dependency_failure == "stop"
                and self._registry.is_live(waiter_id)
            ):
                log.info("job %s: stopping, its dependency %s failed", waiter_id, job_id)
                try:
                    log_failure(
                        self._jobs.stop(waiter, force=False), f"job {waiter_id} not stopped"
                    )
                except CommandError as exc:
                    log.error("job %s not stopped: %s", waiter_id, exc.message)

    # ---- the facts the decision needs ---------------------------------------------------

    def _check(self, job: JobConfig) -> None:
        """Decide again for a waiting job, with the time it has waited since."""
        self._cancel_timer(job.id)
        since = self._registry.facts(job.id).waiting_since or time.time()
        self._carry_out(job, decide(self._checks(job.id), since, time.time()), since)

    def _checks(self, job_id: str) -> list[Check]:
        return [self._check_of(req) for req in self.graph.requirements(job_id)]

    def _check_of(self, requirement: Requirement) -> Check:
        facts = self._registry.facts(requirement.target)
        ready = self._is_ready(requirement.target, facts)
        return Check(requirement, standing(requirement, facts.state, ready), facts.reason)

    def _is_ready(self, job_id: str, facts: JobFacts) -> bool:
        """A running job is ready once notified (`ready: notify`) and healthy (when its
        check says readiness)."""
        target = self.config.job(job_id)
        if target is None:
            return False
        if target.ready == "notify" and not facts.ready:
            return False
        if target.health_check.type in READINESS_CHECKS:
            return self._health.is_healthy(job_id, facts.run_id)
        return True

    def _bring_up(self, job_id: str) -> None:
        """Start a job that another needs, unless it is on its way already."""
        job = self.config.job(job_id)
        if job is None or self._registry.is_live(job_id):
            return
        try:
            self._jobs.start(job, "dependency")
        except CommandError as exc:
            log.error("job %s, needed by another, not started: %s", job_id, exc.message)

    # ---- carrying the decision out ------------------------------------------------------

    def _carry_out(
        self, job: JobConfig, decision: Decision, since: float, cause: str | None = None
    ) -> None:
        match decision:
            case Start():
                self._launch_waiting(job)
            case Fail(reason):
                log.warning("job %s: %s", job.id, reason)
                self._set_state(job.id, JobState.FAILED, reason)
                self.on_change(job.id)  # whoever waits for this one fails in turn
            case Wait(reason, until):
                facts = self._registry.facts(job.id)
                if facts.state != JobState.WAITING or facts.reason != reason:
                    extra = {"cause": cause} if cause else {}
                    self._set_state(job.id, JobState.WAITING, reason, waiting_since=since, **extra)
                self._timers[job.id] = self._loop.call_later(
                    until - time.time(), lambda: self._on_deadline(job.id)
                )

    def _on_deadline(self, job_id: str) -> None:
        self._timers.pop(job_id, None)
        job = self.config.job(job_id)
        if job is not None and self._registry.state(job_id) == JobState.WAITING:
            self._check(job)

    def _launch_waiting(self, job: JobConfig) -> None:
        try:
            self._jobs.launch(job, self._registry.facts(job.id).cause or "dependency")
        except CommandError as exc:
            self._set_state(job.id, JobState.STOPPED, f"not started: {exc.message}")

    def _set_state(self, job_id: str, state: JobState, reason: str | None, **extra: Any) -> None:
        self._cancel_timer(job_id)
        self._registry.set_state(job_id, state, reason, **extra)

    def _cancel_timer(self, job_id: str) -> None:
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
