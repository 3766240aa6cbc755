"""The scheduler actor: the timers of every `type: scheduled` job.

Binds nothing. Asks the controller (`run/controller.sock`) for the scheduled jobs and
the last due time each has had (`scheduled`) at start and on every `config.reloaded`
(a SUB socket on the bus), and hands it every due time it reaches (`fire`), several
due the same second in one message, one message on its way at a time. Neither call
blocks the loop (actors/runtime/async_calls.py): the timers of other jobs keep their
time while the controller answers. The controller writes each due time down before
the job runs and refuses one it has seen, so a scheduler that dies and starts again
never runs a job twice. Publishes `schedule.<id>.fired|skipped|missed` with the job,
the due time and the reason.

It sleeps on the platform's wall-clock alarm until the earliest due time. It also wakes
when the wall clock is set (an NTP step, `date -s`), and every timer is recomputed: at
once on Linux (a timerfd), within a minute elsewhere. Due times that went by unseen
(the scheduler was down, the machine was suspended, the clock jumped ahead) give one
run, the latest, never a burst; after the daemon itself was down, the job's `catchup`
decides (`skip`, or `once`: one run at start). When the clock is set back, nothing
runs twice: the next run is the first due time after the last one handled.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import zmq

from actors.runtime.actor import Actor
from actors.runtime.async_calls import AsyncCalls
from actors.runtime.controller_view import ControllerView
from actors.runtime.loop import Timer, pending
from procclaw import protocol
from procclaw.bus_events import ScheduleMissed, ScheduleRun
from procclaw.cron import CronSchedule
from procclaw.platform import current
from procclaw.rules.schedule_timer import Due, JobTimer

log = logging.getLogger("procclaw.scheduler")

CONTROLLER_TIMEOUT = 2.0
# Longer than the controller may take to answer a `fire`: a run queued behind one under
# way waits on its supervisor's answer (SUPERVISOR_TIMEOUT, actors/controller/job_control.py).
FIRE_TIMEOUT = 5.0
RETRY_AFTER = 0.5


class Scheduler(Actor):
    def setup(self) -> None:
        self._calls = AsyncCalls(self.zmq, self.loop, self.home)
        self._view = ControllerView(
            self._calls,
            self.loop,
            ("scheduled",),
            self._learn,
            None,
            CONTROLLER_TIMEOUT,
            RETRY_AFTER,
        )
        self._reloads = self.zmq.socket(zmq.SUB)
        self._reloads.setsockopt(zmq.LINGER, 0)
        self._reloads.setsockopt(zmq.SUBSCRIBE, protocol.CONFIG_RELOADED.encode())
        self._reloads.connect(self.home.endpoint("bus"))
        self.loop.add_reader(self._reloads, self._on_bus)
        self._timers: dict[str, JobTimer] = {}
        self._unsent: list[dict[str, Any]] = []  # due times the controller has not taken
        self._alarm = current().wall_clock_alarm()
        self.loop.add_reader(self._alarm.fd, self._woke)
        self._sending = False  # a `fire` is on its way
        self._send_again: Timer | None = None  # after the controller did not take one
        self._loaded = False
        # Started by a reload that brought the first scheduled job, not at daemon start:
        # a job this daemon has not marked yet is new here, and starts from now.
        self._after_daemon_start = bool(self.ctx.args.get("after_daemon_start"))
        self._view.ask()

    def teardown(self) -> None:
        self._calls.close()
        self._reloads.close(0)
        self._alarm.close()

    # ---- the jobs ----------------------------------------------------------------------

    def _on_bus(self) -> None:
        if list(pending(self._reloads, multipart=True)):
            self._view.ask()

    def _learn(self, answers: list[Any]) -> None:
        """(Re)build every timer from the controller's config and last due times."""
        [reply] = answers
        now = time.time()
        fires: list[dict[str, Any]] = []
        timers = {}
        for entry in reply["jobs"]:
            timer, fire = self._timer_for(entry, reply["daemon_id"], now)
            timers[timer.job] = timer
            fires += fire
        self._timers, self._loaded = timers, True
        self._send(fires)
        self._settle(fires)
        self._arm()

    def _timer_for(
        self, entry: dict[str, Any], daemon_id: str, now: float
    ) -> tuple[JobTimer, list[dict[str, Any]]]:
        """A job's timer, and what to tell the controller about the time it was away."""
        schedule = CronSchedule(entry["schedule"], entry["timezone"])
        job, last_due = entry["job"], entry["last_due"]
        before = self._timers.get(job)
        if before is not None and last_due is not None:
            last_due = max(last_due, before.last_due)  # what we sent may not be written yet
        changed = before is not None and (
            before.schedule.expression,
            before.schedule.zone_name,
        ) != (schedule.expression, schedule.zone_name)
        from_daemon_before = entry["daemon_id"] != daemon_id
        new_here = before is None and (
            self._loaded or (from_daemon_before and self._after_daemon_start)
        )
        if last_due is None or changed or new_here:
            # Nothing went by unseen: the schedule starts from now.
            timer = JobTimer.starting(job, schedule, entry["catchup"], now)
            return timer, [_fire(job, now, "mark")]
        timer = JobTimer.starting(job, schedule, entry["catchup"], last_due)
        if from_daemon_before and not self._loaded:
            return timer, self._hand_over(timer, timer.catch_up(now), "the daemon was not running")
        return timer, self._hand_over(timer, timer.due(now), "the scheduler was not running")

    # ---- waiting -----------------------------------------------------------------------

    def _arm(self) -> None:
        earliest = min((timer.next_due for timer in self._timers.values()), default=None)
        self._alarm.set(earliest, time.time())

    def _woke(self) -> None:
        why = self._alarm.read()
        if why is None:
            return
        now = time.time()
        reason = "the scheduler woke late (busy, or the machine was suspended)"
        if why == "clock set":
            log.warning("scheduler: the clock was set; recomputing every timer")
            reason = "the clock jumped"
        fires = []
        for timer in self._timers.values():
            fires += self._hand_over(timer, timer.due(now), reason)
        self._send(fires)
        self._settle(fires)
        self._arm()

    def _hand_over(self, timer: JobTimer, due: Due | None, reason: str) -> list[dict[str, Any]]:
        """The fire to send for `due`, announcing the due times that went by unrun."""
        if due is None:
            return []
        if due.missed:
            self._publish_missed(timer, due, reason)
        return [_fire(timer.job, due.due, due.action)]

    def _settle(self, fires: list[dict[str, Any]]) -> None:
        """Move each timer past the due time just handed over (once it is on its way)."""
        for fire in fires:
            if (timer := self._timers.get(fire["job"])) is not None:
                timer.advance(fire["due"])

    # ---- telling the controller --------------------------------------------------------

    def _send(self, fires: list[dict[str, Any]]) -> None:
        self._unsent += fires
        if not self._unsent or self._sending or self._send_again is not None:
            return
        batch = list(self._unsent)
        self._sending = True
        self._calls.call(
            "controller",
            "fire",
            {"fires": batch},
            lambda outcomes: self._sent(batch, outcomes),
            lambda _code, message: self._not_sent(message),
            FIRE_TIMEOUT,
        )

    def _sent(self, batch: list[dict[str, Any]], outcomes: Any) -> None:
        if not isinstance(outcomes, list) or not all(isinstance(o, dict) for o in outcomes):
            self._not_sent(f"its answer is not a list of outcomes: {outcomes!r:.60}")
            return
        self._sending = False
        self._unsent = self._unsent[len(batch) :]
        for fire, outcome in zip(batch, outcomes, strict=False):
            self._publish_outcome(fire, outcome)
        self._send([])  # what came due meanwhile

    def _not_sent(self, message: str) -> None:
        """Sent again soon: the controller refuses a due time it has seen, so a batch it
        took but did not answer in time runs nothing twice."""
        self._sending = False
        log.warning("scheduler: the controller did not take the due runs: %s", message)

        def again() -> None:
            self._send_again = None
            self._send([])

        self._send_again = self.loop.call_later(RETRY_AFTER, again)

    def _publish_outcome(self, fire: dict[str, Any], outcome: dict[str, Any]) -> None:
        timer = self._timers.get(fire["job"])
        kind = outcome.get("outcome")
        if timer is None or kind not in ("fired", "queued", "restarted", "skipped"):
            return  # only recorded (marked), or handled already
        event = "skipped" if kind == "skipped" else "fired"
        reason = outcome.get("reason") or _ACTION_REASONS[fire["action"]]
        self.publish(
            protocol.schedule_topic(timer.job, event),
            ScheduleRun(timer.job, fire["due"], _due_at(timer, fire["due"]), kind, reason),
        )

    def _publish_missed(self, timer: JobTimer, due: Due, reason: str) -> None:
        log.info("job %s: %d scheduled run(s) missed: %s", timer.job, due.missed, reason)
        self.publish(
            protocol.schedule_topic(timer.job, "missed"),
            ScheduleMissed(timer.job, due.latest, _due_at(timer, due.latest), due.missed, reason),
        )


_ACTION_REASONS = {
    "run": "due",
    "late": "due, and run late",
    "catchup": "catch-up run for what was missed while the daemon was not running",
}


def _fire(job: str, due: float, action: str) -> dict[str, Any]:
    return {"job": job, "due": due, "action": action}


def _due_at(timer: JobTimer, due: float) -> str:
    return datetime.fromtimestamp(due, timer.schedule.zone).isoformat()
