"""The health actor: it owns the health checks of every running job, and their verdicts.

Learns the jobs' checks and running pids from the controller (`config` and `list`, each
narrowed to what it reads, once its bus subscription is live and after each
`config.reloaded`; asked without blocking, the job events meanwhile waiting:
actors/runtime/controller_view.py), then follows runs
on the bus: `job.<id>.running` starts a run's checks, any other state change ends
them. Each run has its own timer, due at its next check, so the actor sleeps until a
check is due; the checks themselves (actors/health/health_checks.py) run on a few
worker threads (actors/runtime/blocking_calls.py), so a slow HTTP service never holds
up the loop or the other checks.

An output check is not run here: the job's supervisor, which sees the job's output go
by, publishes `job.<id>.heartbeat` when the run is first heard, when it falls silent
past `max_age` and when it is heard again, and each of those is a check result. A
process check, the default, is not this actor's at all: a run is alive from `running`
until the exit its supervisor reports, and the controller says so itself. Root starts
this actor only once a job has another check (procclaw/rules/needed_actors.py).

A verdict (procclaw/rules/health_verdict.py) that changes is published as `job.<id>.health`
`{healthy, reason, run_id}` and reported to the controller (`report`, kind `health`,
re-sent until acknowledged), which restarts an unhealthy continuous job. When a new
controller comes up (`actor.controller.up`) every verdict is reported again, since the
controller keeps them only in memory. A restarted health actor takes the verdicts
back from the controller's `list`, so its own crash changes no verdict and restarts
no job. Binds no socket.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import zmq

from actors.health.health_checks import Result, Target, heartbeat_result, run_check
from actors.runtime.actor import Actor, ActorContext
from actors.runtime.async_calls import AsyncCalls
from actors.runtime.blocking_calls import BlockingCalls
from actors.runtime.controller_view import ControllerView
from actors.runtime.loop import Timer
from actors.runtime.messages import pending_events
from actors.runtime.report_queue import ReportQueue
from procclaw import protocol
from procclaw.client import Client
from procclaw.config import HealthCheckConfig
from procclaw.job_facts import JobFacts
from procclaw.reports import HealthReport, report_to_wire
from procclaw.rules.health_verdict import HealthVerdict
from procclaw.subscription import probe_waits

log = logging.getLogger("procclaw.health")

CHECK_THREADS = 4
SYNC_TIMEOUT = 1.0
SYNC_RETRY = 0.5
PROBES_KEPT = 16  # our latest probes, any of which may come back: bounded while the bus is down
# The events that end a run's checks: its state changed (a pause does not stop a
# scheduled run under way; a paused job that runs is stopped, and says so).
_ENDED = frozenset(
    protocol.JOB_EVENTS
    - {"running", "ready", "health", "heartbeat", "waiting", "log", "limit", "paused", "resumed"}
)
_SEEDED = {"healthy": True, "unhealthy": False}
# What `_learn` reads of each job's summary: the controller sends no more.
_FOLLOWED = (
    "state",
    "run_id",
    "pid",
    "uptime",
    "supervisor",
    "health",
    "heartbeat_at",
    "heartbeat_late",
)


@dataclass
class Watch:
    """One run of one job being checked."""

    run_id: str
    target: Target
    verdict: HealthVerdict
    timer: Timer | None = None
    checking: bool = False
    failing: bool = False  # its last verdict told was unhealthy


class HealthActor(Actor):
    def __init__(self, ctx: ActorContext):
        super().__init__(ctx)
        self.checks: dict[str, HealthCheckConfig] = {}
        self.watches: dict[str, Watch] = {}
        self._client = Client(self.home, SYNC_TIMEOUT, caller="actor")
        self._probes: deque[str] = deque(maxlen=PROBES_KEPT)  # ours, not seen yet
        self._probe_waits = probe_waits(SYNC_RETRY)
        self._probe_timer: Timer | None = None

    def setup(self) -> None:
        self.calls = BlockingCalls(self.loop, CHECK_THREADS, "check")
        self.reports = ReportQueue(
            self.zmq, self.loop, self.home.endpoint("controller"), self.publish
        )
        self.asks = AsyncCalls(self.zmq, self.loop, self.home)
        self.view = ControllerView(
            self.asks,
            self.loop,
            (("config", {"parts": ["health_check"]}), ("list", {"fields": list(_FOLLOWED)})),
            self._learn,
            self._on_job_event,
            SYNC_TIMEOUT,
            SYNC_RETRY,
        )
        self._events = self.zmq.socket(zmq.SUB)
        self._events.setsockopt(zmq.LINGER, 0)
        topics = ("job.", protocol.CONFIG_RELOADED, protocol.actor_topic("controller", "up"))
        for prefix in (*topics, protocol.probe_topic("")):
            self._events.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self._events.connect(self.home.endpoint("bus"))
        self.loop.add_reader(self._events, self._on_events)
        self.loop.call_later(0, self._probe_bus)

    def teardown(self) -> None:
        self.calls.close()
        self.reports.close()
        self.asks.close()
        self._events.close(0)

    # ---- what to check -----------------------------------------------------------------

    def _probe_bus(self) -> None:
        """Have root publish a probe; once one of ours arrives our subscriptions are
        live, and what the controller tells us next cannot have slipped past them."""
        token = os.urandom(8).hex()
        self._probes.append(protocol.probe_topic(token))
        # Unanswered, it is asked again below.
        self.asks.call("daemon", "probe", {"token": token}, _ignored, _ignored, SYNC_TIMEOUT)
        self._probe_timer = self.loop.call_later(next(self._probe_waits), self._probe_bus)

    def _learn(self, answers: list[Any]) -> None:
        """Every job's check, and the runs to check, as the controller told them."""
        config, jobs = answers
        self.checks = {
            job["id"]: HealthCheckConfig(**job["health_check"]) for job in config["jobs"]
        }
        for job_id, watch in list(self.watches.items()):
            if job_id not in self.checks:
                self._unwatch(job_id)
            elif self.checks[job_id] != watch.verdict.check:  # changed by a reload
                self._watch(watch.run_id, watch.target, watch.verdict.healthy)
        for job in jobs:
            if job["state"] == "running" and job.get("run_id") and job["pid"]:
                if job["id"] in self.watches and self.watches[job["id"]].run_id == job["run_id"]:
                    continue
                started_at = time.time() - (job.get("uptime") or 0.0)
                target = Target(job["id"], job["pid"], None, started_at, job.get("supervisor"))
                self._watch(job["run_id"], target, _SEEDED.get(job.get("health") or ""))
                if job["heartbeat_at"] is not None or job["heartbeat_late"]:
                    # Its `heartbeat` event may have come before we knew the run.
                    self._observe_heartbeat(job["id"], job["heartbeat_at"], job["heartbeat_late"])

    def _on_events(self) -> None:
        for event in pending_events(self._events):
            if event.topic.startswith(protocol.probe_topic("")):
                if event.topic in self._probes:
                    self._probes.clear()
                    if self._probe_timer is not None:
                        self._probe_timer.cancel()
                    self.view.ask()
            elif event.topic == protocol.CONFIG_RELOADED:
                self.view.ask()
            elif event.topic.startswith("actor."):
                self._report_all()
            else:
                self.view.offer(event)

    def _on_job_event(self, event: protocol.Event) -> None:
        _, job_id, what = event.topic.split(".", 2)
        if what == "running":
            try:
                facts = JobFacts.from_wire(event.data)
            except protocol.ProtocolError as exc:
                log.error("job %s: its running event is unreadable: %s", job_id, exc.message)
                return
            started_at = facts.started_at or time.time()
            target = Target(job_id, facts.pid, facts.job_start, started_at, facts.supervisor)
            self._watch(str(facts.run_id), target, None)
        elif what == "heartbeat":
            self._heard_from_supervisor(job_id, event)
        elif what in _ENDED:
            self._unwatch(job_id)

    def _watch(self, run_id: str, target: Target, healthy: bool | None) -> None:
        check = self.checks.get(target.job)
        self._unwatch(target.job)
        if check is None or check.type == "process":
            # Not in the config we know (the sync after the reload brings it), or the
            # controller's to judge.
            return
        watch = Watch(run_id, target, HealthVerdict(check, target.started_at, healthy))
        self.watches[target.job] = watch
        if check.type != "output":  # its supervisor tells, by `heartbeat` events
            self._schedule(watch, 0.0)

    def _unwatch(self, job_id: str) -> None:
        watch = self.watches.pop(job_id, None)
        if watch is not None and watch.timer is not None:
            watch.timer.cancel()

    def _heard_from_supervisor(self, job_id: str, event: protocol.Event) -> None:
        """An output check's news from the job's supervisor: heard, or silent too long."""
        watch = self.watches.get(job_id)
        if watch is None or watch.verdict.check.type != "output":
            return
        try:
            facts = JobFacts.from_wire(event.data)
        except protocol.ProtocolError as exc:
            log.error("job %s: its heartbeat event is unreadable: %s", job_id, exc.message)
            return
        if facts.run_id is not None and str(facts.run_id) != watch.run_id:
            return  # about a run that is over
        self._observe_heartbeat(job_id, facts.heartbeat_at, facts.heartbeat_late)

    def _observe_heartbeat(self, job_id: str, heard_at: float | None, late: bool) -> None:
        watch = self.watches.get(job_id)
        if watch is None or watch.verdict.check.type != "output":
            return
        check, now = watch.verdict.check, time.time()
        passed, reason = heartbeat_result(check, heard_at, late, now)
        if watch.verdict.observe(passed, reason, now=now):
            self._report(watch)

    # ---- checking ----------------------------------------------------------------------

    def _schedule(self, watch: Watch, delay: float) -> None:
        watch.timer = self.loop.call_later(delay, lambda: self._begin_check(watch))

    def _begin_check(self, watch: Watch) -> None:
        watch.timer = None
        if self.watches.get(watch.target.job) is not watch or watch.checking:
            return
        watch.checking = True
        check, target, run_id = watch.verdict.check, watch.target, watch.run_id
        self.calls.submit(
            lambda: run_check(check, target, self._client),
            lambda result, error: self._checked(target.job, run_id, result, error),
        )

    def _checked(
        self, job_id: str, run_id: str, result: Result | None, error: BaseException | None
    ) -> None:
        """In the loop: a check's result, for the run it was made for if that still runs."""
        watch = self.watches.get(job_id)
        if watch is None or watch.run_id != run_id:
            return
        watch.checking = False
        if error is not None or result is None:
            result = (False, f"the check itself failed: {error}")
        if watch.verdict.observe(*result, now=time.time()):
            self._report(watch)
        self._schedule(watch, watch.verdict.next_delay())

    # ---- telling -----------------------------------------------------------------------

    def _report(self, watch: Watch) -> None:
        verdict = _verdict(watch)
        # A run's first passing check is no news for the daemon log; a failure, and the
        # recovery from it, are.
        news = watch.failing or not verdict.healthy
        watch.failing = not verdict.healthy
        log.log(
            logging.INFO if news else logging.DEBUG, "job %s: %s", verdict.job, _describe(verdict)
        )
        # Published once the controller has it: `status` then shows the new health.
        topic = protocol.job_topic(watch.target.job, "health")
        self.reports.send(report_to_wire(verdict), [(topic, verdict)])

    def _report_all(self) -> None:
        """A new controller knows no verdict: it hears each one again."""
        for watch in self.watches.values():
            if watch.verdict.healthy is not None:
                self.reports.send(report_to_wire(_verdict(watch)))


def _verdict(watch: Watch) -> HealthReport:
    return HealthReport(
        job=watch.target.job,
        run_id=watch.run_id,
        healthy=bool(watch.verdict.healthy),
        reason=watch.verdict.reason,
    )


def _describe(verdict: HealthReport) -> str:
    return "healthy" if verdict.healthy else f"unhealthy: {verdict.reason}"


def _ignored(*_args: Any) -> None:
    """The answer to a probe: what counts is the probe coming back on the bus."""
