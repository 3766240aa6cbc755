"""Holds a job back until what it depends on holds: the controller's `waiting` state.

A job whose requirements (procclaw/dependency_graph.py) are not met when it is asked to
start goes to `waiting`, with a reason naming what it waits for, and every job it
needs that is at rest is started too, as systemd's Requires= does. It starts the
moment its requirements hold: the gate re-checks the jobs waiting on a job whenever
a report or a health verdict about that job reaches the controller, so nothing polls.
Past the requirement's `timeout` it fails with `dependency timeout: ...`; when a job
it waits for fails, it fails with that reason. A running job whose dependency fails
is stopped if it says `on_dependency_failure: stop`, and left alone otherwise.

A waiting job has no supervisor, so this is the one place its state changes, and the
one place `job.<id>.waiting` (and a dependency's `job.<id>.failed`) is published.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from actors.controller.job_health import READINESS_CHECKS, JobHealth
from actors.controller.job_registry import JobRegistry
from actors.runtime.command_server import log_failure
from actors.runtime.loop import EventLoop, Timer
from procclaw import protocol
from procclaw.config import Config, JobConfig
from procclaw.dependency_graph import COMPLETED, DependencyGraph, Requirement
from procclaw.protocol import CommandError
from procclaw.states import JobState

if TYPE_CHECKING:
    from actors.controller.job_control import JobControl

log = logging.getLogger("procclaw.controller")

Publish = Callable[[str, dict[str, Any]], None]


class DependencyGate:
    def __init__(
        self,
        loop: EventLoop,
        registry: JobRegistry,
        health: JobHealth,
        publish: Publish,
        jobs: JobControl,
    ):
        self._config = Config()
        self.graph = DependencyGraph(self._config)
        self._loop = loop
        self._registry = registry
        self._health = health
        self._publish = publish
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

    def start(self, job: JobConfig, facts: dict[str, Any]) -> dict[str, Any]:
        """Start `job` (at rest, with these current `facts`) now if nothing holds it
        back, else make it wait."""
        unmet = self._unmet(job.id)
        if not unmet:
            self._jobs.launch(job, facts)
            return {"state": JobState.STARTING.value}
        self._wait(job, unmet, time.time())
        for requirement in unmet:
            self._bring_up(requirement.target)
        return {"state": JobState.WAITING.value, "reason": self._registry.facts(job.id)["reason"]}

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

    # ---- the checks --------------------------------------------------------------------

    def _check(self, job: JobConfig) -> None:
        """Start a waiting job, fail it, or let it wait on with a new deadline."""
        self._cancel_timer(job.id)
        unmet = self._unmet(job.id)
        if not unmet:
            self._launch_waiting(job)
            return
        for requirement in unmet:
            if self._registry.state(requirement.target) == JobState.FAILED:
                reason = self._registry.facts(requirement.target).get("reason")
                because = f": {reason}" if reason else ""
                self._fail(job, f"dependency '{requirement.target}' failed{because}")
                return
        since = self._registry.facts(job.id).get("waiting_since") or time.time()
        overdue = [req for req in unmet if since + req.timeout <= time.time()]
        if overdue:
            first = overdue[0]
            self._fail(
                job,
                f"dependency timeout: {first.describe()} within {first.timeout:g} s",
            )
            return
        self._wait(job, unmet, since)

    def _unmet(self, job_id: str) -> list[Requirement]:
        return [req for req in self.graph.requirements(job_id) if not self._holds(req)]

    def _holds(self, requirement: Requirement) -> bool:
        facts = self._registry.facts(requirement.target)
        state = facts["state"]
        if requirement.needs == COMPLETED:
            return state == JobState.COMPLETED.value
        target = self.config.job(requirement.target)
        if state != JobState.RUNNING.value or target is None:
            return False
        if target.ready == "notify" and not facts.get("ready"):
            return False
        if target.health_check.type in READINESS_CHECKS:
            return self._health.is_healthy(target.id, facts.get("run_id"))
        return True

    def _bring_up(self, job_id: str) -> None:
        """Start a job that another needs, unless it is on its way already."""
        job = self.config.job(job_id)
        if job is None or self._registry.is_live(job_id):
            return
        try:
            self._jobs.start(job)
        except CommandError as exc:
            log.error("job %s, needed by another, not started: %s", job_id, exc.message)

    # ---- state changes -----------------------------------------------------------------

    def _wait(self, job: JobConfig, unmet: list[Requirement], since: float) -> None:
        reason = "waiting for " + ", ".join(req.describe() for req in unmet)
        facts = self._registry.facts(job.id)
        if facts["state"] != JobState.WAITING.value or facts.get("reason") != reason:
            self._set_state(job.id, JobState.WAITING, reason, waiting_since=since)
        deadline = since + min(req.timeout for req in unmet)
        self._timers[job.id] = self._loop.call_later(
            deadline - time.time(), lambda: self._on_deadline(job.id)
        )

    def _on_deadline(self, job_id: str) -> None:
        self._timers.pop(job_id, None)
        job = self.config.job(job_id)
        if job is not None and self._registry.state(job_id) == JobState.WAITING:
            self._check(job)

    def _launch_waiting(self, job: JobConfig) -> None:
        try:
            self._jobs.launch(job)
        except CommandError as exc:
            self._set_state(job.id, JobState.STOPPED, f"not started: {exc.message}")

    def _fail(self, job: JobConfig, reason: str) -> None:
        log.warning("job %s: %s", job.id, reason)
        self._set_state(job.id, JobState.FAILED, reason)
        self.on_change(job.id)  # whoever waits for this one fails in turn

    def _set_state(self, job_id: str, state: JobState, reason: str | None, **extra: Any) -> None:
        self._cancel_timer(job_id)
        facts = {**self._registry.facts(job_id), "state": state.value, "reason": reason, **extra}
        facts["pid"] = None  # waiting, or given up before it ran: no process
        # Reports still on their way from the job's last supervisor are older news.
        facts["generation"] = facts.get("generation", 0) + 1
        if state != JobState.WAITING:
            facts.pop("waiting_since", None)
        self._registry.update(job_id, facts)
        self._publish(protocol.job_topic(job_id, state.value), facts)

    def _cancel_timer(self, job_id: str) -> None:
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
