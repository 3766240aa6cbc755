"""How the controller starts, stops and restarts jobs, and re-adopts them at daemon start.

A job at rest is held by no supervisor: starting it places it in one, through root
(actors/placement.py says which). A live job's supervisor, named in its facts, takes
its stop and restart commands. The controller never signals a job. A job with
dependencies starts through the DependencyGate, which may make it wait; a waiting
job is held by no supervisor yet, so the gate answers for it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import zmq

from actors.dependency_gate import DependencyGate
from actors.job_process import is_same_process, kill_everything
from actors.job_registry import JobRegistry
from actors.placement import Placement
from procclaw.client import Client, ClientError
from procclaw.config import Config, JobConfig
from procclaw.config.job_wire import job_to_wire
from procclaw.dependency_graph import waiters
from procclaw.home import Home
from procclaw.protocol import CommandError, ErrorCode
from procclaw.states import LIVE_STATES, JobState

log = logging.getLogger("procclaw.controller")

# The controller waits in its loop, and root kills it after 3.5 s of silence: every
# command's calls together stay well under that. A supervisor answers in milliseconds.
SUPERVISOR_TIMEOUT = 1.5
STATE_TIMEOUT = 0.5
# A supervisor that did not answer is not asked again for this long: its cached facts do.
QUIET_SUPERVISOR_PAUSE = 3.0


class JobControl:
    def __init__(
        self, home: Home, registry: JobRegistry, context: zmq.Context, placement: Placement
    ):
        self.registry = registry
        self.placement = placement
        self._home = home
        self._quiet_until: dict[str, float] = {}
        self._client = Client(home, SUPERVISOR_TIMEOUT, caller="actor", context=context)
        self.gate: DependencyGate | None = None  # set by the controller
        self.config = Config()  # the applied config, kept current by the controller

    def start(self, job: JobConfig) -> dict[str, Any]:
        facts = self.current_facts(job.id)
        state = JobState(facts["state"])
        if state == JobState.BACKOFF:
            return self._ask_supervisor(job.id, "start")
        if state == JobState.WAITING:
            reason = facts.get("reason") or "waiting"
            raise CommandError(ErrorCode.CONFLICT, f"job '{job.id}' is already {reason}")
        if state in LIVE_STATES:
            pid = facts.get("pid")
            running = f" (pid {pid})" if pid else ""
            raise CommandError(ErrorCode.CONFLICT, f"job '{job.id}' is already {state}{running}")
        if self.gate is not None:
            return self.gate.start(job, facts)
        self.launch(job, facts)
        return {"state": JobState.STARTING.value}

    def launch(self, job: JobConfig, facts: dict[str, Any] | None = None) -> None:
        """Ask root for a supervisor that starts the job now, dependencies or not.

        `facts` are the job's current facts when the caller has just asked for them.
        """
        # A supervisor that just finished may still be delivering its last report:
        # its answer, not the cache, is what the next one carries on from.
        self._supervise(job, facts or self.current_facts(job.id))

    def _current_state(self, job_id: str) -> JobState:
        return JobState(self.current_facts(job_id)["state"])

    def current_facts(self, job_id: str) -> dict[str, Any]:
        """The job's facts, from its supervisor when the cache says one holds it.

        The cache trails the supervisor by one report: a client that just saw
        `job.<id>.stopped` on the bus must not be told the job is still stopping. A
        supervisor lets a job go only once all its reports are in, so when it no
        longer holds the job the cache is current.
        """
        cached = self.registry.facts(job_id)
        supervisor = cached.get("supervisor")
        if cached["state"] not in LIVE_STATES or not isinstance(supervisor, str):
            return cached
        if not self._home.socket_file(supervisor).exists():
            return cached  # not bound yet (just asked for), or gone with all its reports in
        if time.monotonic() < self._quiet_until.get(supervisor, 0.0):
            return cached
        try:
            return self._client.call_endpoint(
                supervisor, "state", {"job": job_id}, timeout=STATE_TIMEOUT
            )
        except ClientError as exc:
            if exc.code != ErrorCode.CONFLICT:  # not held there any more: the cache is right
                self._quiet_until[supervisor] = time.monotonic() + QUIET_SUPERVISOR_PAUSE
            return cached

    def summaries(self, jobs: tuple[JobConfig, ...]) -> list[dict[str, Any]]:
        """What `list` shows: the facts the supervisors last reported, asking none."""
        return [self.registry.summary(job) for job in jobs]

    def stop(self, job: JobConfig, force: bool) -> dict[str, Any]:
        state = self._current_state(job.id)
        if state == JobState.WAITING and self.gate is not None:
            return self.gate.cancel(job)
        if state not in LIVE_STATES:
            return {"state": state.value, "note": "not running"}
        return self._ask_supervisor(job.id, "stop", {"force": force})

    def stop_many(self, jobs: list[JobConfig], force: bool) -> dict[str, dict[str, Any]]:
        """Stop many jobs with one round trip to all their supervisors, not one each.

        Each job's answer is its facts, a `not running` note, or an `error`.
        """
        results: dict[str, dict[str, Any]] = {}
        for job in jobs:
            if self.registry.state(job.id) == JobState.WAITING:
                results[job.id] = self.stop(job, force)
        live = [job.id for job in jobs if self.registry.is_live(job.id)]
        for job in jobs:
            if job.id not in live and job.id not in results:
                results[job.id] = {
                    "state": self.registry.state(job.id).value,
                    "note": "not running",
                }
        by_supervisor: dict[str, list[str]] = {}
        for job_id in live:
            supervisor = str(self.registry.facts(job_id).get("supervisor"))
            by_supervisor.setdefault(supervisor, []).append(job_id)
        for supervisor, job_ids in by_supervisor.items():
            try:
                answers = self._client.call_endpoint(
                    supervisor, "stop", {"jobs": job_ids, "force": force}, SUPERVISOR_TIMEOUT
                )
            except ClientError as exc:
                for job_id in job_ids:
                    results[job_id] = {"error": f"the supervisor of '{job_id}' {exc.message}"}
                continue
            for job_id in job_ids:
                answer = answers.get(job_id)
                if answer is None or JobState(answer["state"]) not in LIVE_STATES:
                    state = answer["state"] if answer else self.registry.state(job_id).value
                    results[job_id] = {"state": state, "note": "not running"}
                else:
                    results[job_id] = answer
        return results

    def restart(self, job: JobConfig) -> dict[str, Any]:
        state = self._current_state(job.id)
        if state == JobState.WAITING:
            return self.registry.facts(job.id)  # it starts when its dependencies allow
        if state not in LIVE_STATES:
            return self.start(job)
        return self._ask_supervisor(job.id, "restart")

    def restart_unhealthy(self, job: JobConfig, reason: str) -> None:
        """Its health check gave up on the job: the supervisor restarts it by its policy."""
        try:
            self._ask_supervisor(job.id, "unhealthy", {"reason": reason})
        except CommandError as exc:
            log.error("job %s: unhealthy, but not restarted: %s", job.id, exc.message)

    def queue(self, job: JobConfig) -> dict[str, Any]:
        """One more run once the live one ends (on_overlap: queue); its supervisor holds it."""
        return self._ask_supervisor(job.id, "queue")

    def _supervise(
        self, job: JobConfig, facts: dict[str, Any], resume: dict[str, Any] | None = None
    ) -> None:
        generation = facts.get("generation", 0) + 1
        supervisor = self.placement.supervisor_for(job)
        placement = {
            "job": job.id,
            "supervisor": supervisor,
            "isolated": job.isolate,
            "config": job_to_wire(job),
            "args": {
                # Root stops these jobs before this one at daemon stop.
                "stop_after": waiters(self.config, job.id),
                "restarts": facts.get("restarts", 0),
                "last_exit": facts.get("last_exit"),
                "generation": generation,
                "resume": {**resume, "generation": generation} if resume else {},
            },
        }
        try:
            self._client.call_endpoint("daemon", "supervise", {"placements": [placement]})
        except ClientError as exc:
            raise CommandError(ErrorCode.UNAVAILABLE, f"cannot start '{job.id}': {exc}") from None
        self.registry.hand_over(
            job.id, {**facts, "generation": generation, "supervisor": supervisor}
        )

    def _ask_supervisor(self, job_id: str, cmd: str, args: dict[str, Any] | None = None):
        supervisor = str(self.registry.facts(job_id).get("supervisor"))
        try:
            return self._client.call_endpoint(supervisor, cmd, {**(args or {}), "job": job_id})
        except ClientError as exc:
            if exc.code in (ErrorCode.CONFLICT, ErrorCode.BAD_REQUEST):
                raise CommandError(exc.code, exc.message) from None
            raise CommandError(
                ErrorCode.UNAVAILABLE, f"the supervisor of '{job_id}' is not answering: {exc}"
            ) from None

    # ---- daemon start ------------------------------------------------------------------

    def reconcile(self, config: Config) -> None:
        """At daemon start: take back the jobs the last daemon left, start the rest."""
        for job_id in self.registry.live_jobs():
            facts = self.registry.facts(job_id)
            job = config.job(job_id)
            if facts["state"] == JobState.WAITING.value:
                self.registry.mark(job_id, JobState.STOPPED, "the daemon stopped while it waited")
            elif _alive(facts.get("sup_pid"), facts.get("sup_start")):
                log.info("job %s: its supervisor outlived the last daemon; it checks in", job_id)
            elif _alive(facts.get("pid"), facts.get("job_start")):
                if job is None:
                    # Gone from the config while the daemon was down: nobody would ever
                    # manage it again, so it is stopped (its identity checked above).
                    log.warning(
                        "job %s: no longer configured; killing pid %s", job_id, facts["pid"]
                    )
                    kill_everything(facts["pid"], str(facts.get("run_id")))
                    self.registry.mark(job_id, JobState.STOPPED, "removed from the config")
                    continue
                log.info("job %s: re-adopting pid %s", job_id, facts["pid"])
                self._supervise(job, facts, resume=facts)
            else:
                self.registry.mark(job_id, JobState.STOPPED, "lost while the daemon was down")
        for job in config.jobs:
            if job.type == "continuous" and job.enabled and not self.registry.is_live(job.id):
                try:
                    self.start(job)
                except CommandError as exc:
                    log.error("job %s not started: %s", job.id, exc.message)


def _alive(pid: Any, start_time: Any) -> bool:
    return isinstance(pid, int) and isinstance(start_time, str) and is_same_process(pid, start_time)
