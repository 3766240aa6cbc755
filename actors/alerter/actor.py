"""The alerter actor: alerts through OpenClaw, and notes in the agent's memory.

Subscribes (SUB on `run/bus.sock`, live before it says hello) to `job.` and
`schedule.` events and `config.reloaded`, and acts on the events that raise an alert
(procclaw/openclaw/alerts.py): a job failed, went unhealthy or recovered (from an
unhealthy state it saw: a job's first passing check is no news), timed out waiting for
a dependency, missed a scheduled run, crashed, or was restarted after a crash. Each one
its job's `on` lets through (the job's own `alerts:`, else `openclaw.alerts`):
- is folded if its job already alerted within `openclaw.alerts.window`
  (procclaw/openclaw/folding.py), the folded ones going out as one summary later;
- is appended to the OpenClaw workspace's `memory/YYYY-MM-DD.md` when
  `openclaw.memory_logging` is on;
- is sent to every channel of its job (`openclaw.alerts.channels`, or the job's own),
  through the `openclaw` CLI or the gateway's HTTP API, on worker threads, retried
  with backoff (actors/alerter/alert_delivery.py).
A job paused or resumed (`job.<id>.paused|resumed`) is noted in the memory only.

Which exits are crashes depends on the job's type and restart policy, and a job may
have alerts of its own: the alerter asks the controller (`config`) for those parts of
every job's config once its subscription is live, and again at each `config.reloaded`. Events
that arrive while it waits for the answer wait too, so each is judged by the config
it happened under and none slips by.

Binds ROUTER `run/alerter.sock` for ALERTER_COMMANDS: `ping`, and `status` (the counts
of sent, failed, retried and folded alerts, per channel, the latest alerts, and the
jobs' own alert settings). Publishes nothing. Reads the `openclaw:` settings from
`procclaw.db` (read-only) whenever an event needs them: they hold the gateway's token,
which the controller's `config` masks.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from actors.alerter.alert_delivery import AlertDelivery
from actors.runtime.actor import Actor, ActorContext
from actors.runtime.async_calls import AsyncCalls
from actors.runtime.blocking_calls import BlockingCalls
from actors.runtime.controller_view import ControllerView
from actors.runtime.loop import Timer
from actors.runtime.messages import pending_events
from procclaw import commands, protocol
from procclaw.bus_events import event_record
from procclaw.client import Client, ClientError
from procclaw.config import ConfigError, OpenClawSettings, parse_config
from procclaw.config.job_wire import AlertedJob, WireError
from procclaw.openclaw.alerts import NOTED_EVENTS, Alert, alert_for
from procclaw.openclaw.folding import AlertFolder
from procclaw.openclaw.memory_log import MemoryLog, WorkspaceMissing
from procclaw.openclaw.senders import current_transport, stop_senders
from procclaw.openclaw.workspace import openclaw_workspace
from procclaw.protocol import Event, ProtocolError, Request
from procclaw.store import read_applied_config
from procclaw.subscription import Subscription

log = logging.getLogger("procclaw.alerter")

SUBSCRIPTIONS = ("job.", "schedule.", protocol.CONFIG_RELOADED)
# One: a chat must get "unhealthy" before "healthy again". Each send is bounded by
# its timeout, so a hung one delays the others, never stops them.
SEND_WORKERS = 1
SYNC_TIMEOUT = 2.0
SYNC_RETRY = 0.5


class Alerter(Actor):
    def __init__(self, ctx: ActorContext):
        super().__init__(ctx)
        self._settings_text: str | None = None
        self._settings = OpenClawSettings()
        self.folder = AlertFolder(self._settings.alerts.window)
        self._fold_timer: Timer | None = None
        self._unhealthy: set[str] = set()  # jobs seen going unhealthy, not yet recovered
        # Manual or scheduled jobs whose crash alerted: the `failed` that follows it is
        # the same news.
        self._crash_told: set[str] = set()
        self._jobs: dict[str, AlertedJob] = {}
        self.memory: Counter[str] = Counter()
        self._memory_file: str | None = None

    def setup(self) -> None:
        self.calls = BlockingCalls(self.loop, SEND_WORKERS, "alert-send")
        self.delivery = AlertDelivery(self.home, self.calls.submit, self.loop.call_later)
        self.bus = Subscription(self.home, SUBSCRIPTIONS, self.zmq)
        self.controller = AsyncCalls(self.zmq, self.loop, self.home)
        self.view = ControllerView(
            self.controller,
            self.loop,
            (("config", {"parts": list(AlertedJob.PARTS)}),),
            self._jobs_learnt,
            self._on_event,
            SYNC_TIMEOUT,
            SYNC_RETRY,
        )
        root = Client(self.home, timeout=SYNC_TIMEOUT, caller="actor")
        try:
            # Live before our hello: once `daemon start` returns, no failure is missed.
            self.bus.sync(root, SYNC_TIMEOUT)
        except ClientError as exc:
            log.warning("carrying on without knowing the bus is live: %s", exc.message)
        self.loop.add_reader(self.bus.socket, self._on_events)
        self.view.ask()  # events wait for every job's config
        self.serve(
            self.home.endpoint("alerter"),
            {"ping": lambda _req: {"pid": os.getpid()}, "status": self._status},
            commands.ALERTER_ARGS,
        )

    def teardown(self) -> None:
        stop_senders()  # an `openclaw` under way, and the child it runs, end with us
        self.calls.close()
        self.controller.close()
        self.bus.close()

    # ---- events ------------------------------------------------------------------------

    def _on_events(self) -> None:
        for event in pending_events(self.bus.socket):
            if event.topic == protocol.CONFIG_RELOADED:
                self.view.ask()
            else:
                self.view.offer(event)

    def _on_event(self, event: Event) -> None:
        try:
            record = event_record(event)
        except ProtocolError as exc:
            log.error("event %s unreadable: %s", event.topic, exc.message)
            return
        if event.topic.startswith("job.") and protocol.event_type(event.topic) in NOTED_EVENTS:
            self._note(record.job, protocol.event_type(event.topic), event.ts)
            return
        alert = alert_for(event.topic, record, event.ts, self._jobs)
        if alert is not None and self._news(alert):
            self._raise(alert)

    def _news(self, alert: Alert) -> bool:
        """False for a job's first passing health check (only a recovery is news), and
        for the failure of a manual or scheduled run whose crash was told."""
        if alert.kind == "unhealthy":
            self._unhealthy.add(alert.job)
        elif alert.kind == "recovered":
            if alert.job not in self._unhealthy:
                return False
            self._unhealthy.discard(alert.job)
        elif alert.kind == "failed" and alert.job in self._crash_told:
            self._crash_told.discard(alert.job)
            return False
        return True

    def _raise(self, alert: Alert) -> None:
        settings = self.settings_for(alert.job)
        if not settings.enabled or alert.kind not in settings.alerts.on:
            return
        job = self._jobs.get(alert.job)
        if alert.kind == "crash" and (job is None or job.type != "continuous"):
            self._crash_told.add(alert.job)
        self.folder.resize(settings.alerts.window)
        if self.folder.offer(alert, time.time()) is not None:
            self._emit(alert, settings)
        self._arm_fold_timer()

    def _fold_window_ended(self) -> None:
        self._fold_timer = None
        for summary in self.folder.due(time.time()):
            self._emit(summary, self.settings_for(summary.job))
        self._arm_fold_timer()

    def _arm_fold_timer(self) -> None:
        """One timer, for the end of the earliest open window (none when none is open)."""
        if self._fold_timer is not None:
            self._fold_timer.cancel()
        due = self.folder.next_due()
        self._fold_timer = None
        if due is not None:
            self._fold_timer = self.loop.call_later(due - time.time(), self._fold_window_ended)

    def _emit(self, alert: Alert, settings: OpenClawSettings) -> None:
        if settings.memory_logging:
            self._remember(alert, settings)
        if settings.alerts.enabled:
            self.delivery.deliver(alert, settings)

    def _note(self, job_id: str, kind: str, at: float) -> None:
        """A pause or resume: in the agent's memory, so it knows why a job is down."""
        settings = self.settings_for(job_id)
        if settings.memory_logging:
            self._remember(Alert(job_id, kind, at), settings)

    def _remember(self, alert: Alert, settings: OpenClawSettings) -> None:
        workspace = openclaw_workspace(settings.workspace)
        try:
            self._memory_file = str(MemoryLog(workspace).append(alert))
            self.memory["written"] += 1
        except WorkspaceMissing as exc:
            if not self.memory["skipped"]:
                log.warning("not logging to OpenClaw memory: %s", exc)
            self.memory["skipped"] += 1
        except OSError as exc:
            log.warning("cannot write OpenClaw memory in %s: %s", workspace, exc)
            self.memory["failed"] += 1

    # ---- settings ----------------------------------------------------------------------

    def _jobs_learnt(self, answers: list[Any]) -> None:
        [config] = answers
        jobs = {}
        for data in config["jobs"]:
            try:
                jobs[data["id"]] = AlertedJob.from_wire(data)
            except WireError as exc:  # the controller is of another release
                log.error("a job's config from the controller is unreadable: %s", exc)
        self._jobs = jobs

    def settings_for(self, job_id: str) -> OpenClawSettings:
        """The `openclaw:` settings as they apply to one job: its own alerts over them."""
        settings = self.settings()
        job = self._jobs.get(job_id)
        if job is None or job.alerts is None:
            return settings
        return replace(settings, alerts=settings.alerts.for_job(job.alerts))

    def settings(self) -> OpenClawSettings:
        """The `openclaw:` settings of the config the controller applied last."""
        snapshot = read_applied_config(self.home.db_file)
        text = snapshot.settings_text if snapshot else None
        if text != self._settings_text:
            try:
                parsed = parse_config(text, None, str(self.home.config_file))
            except ConfigError as exc:  # applied configs are valid; keep the last one
                log.error("applied config unreadable, keeping the previous one: %s", exc)
                return self._settings
            self._settings_text, self._settings = text, parsed.settings.openclaw
        return self._settings

    # ---- commands ----------------------------------------------------------------------

    def _status(self, _request: Request) -> dict[str, Any]:
        settings = self.settings()
        return {
            "enabled": settings.enabled,
            "alerts_enabled": settings.alerts.enabled,
            "transport": current_transport(),
            "gateway": settings.gateway.url,
            "window": settings.alerts.window,
            "on": list(settings.alerts.on),
            "totals": {**self.delivery.totals(), "folded": self.folder.folded_total},
            "channels": {
                channel: {
                    result: self.delivery.channels.get(channel, Counter())[result]
                    for result in ("sent", "failed", "retried")
                }
                for channel in dict.fromkeys([*settings.alerts.channels, *self.delivery.channels])
            },
            "wake": dict(self.delivery.wakes),
            "memory": {
                "enabled": settings.memory_logging,
                "workspace": str(openclaw_workspace(settings.workspace)),
                "last_file": self._memory_file,
                **{key: self.memory[key] for key in ("written", "skipped", "failed")},
            },
            "recent": list(self.delivery.recent),
            "jobs": {
                job_id: job.alerts.to_dict()
                for job_id, job in self._jobs.items()
                if job.alerts is not None
            },
        }
