"""`JobTimer`: one scheduled job's due times, and what a wake at some moment owes it.

The scheduler actor keeps one per job and asks it, with the current time passed in,
which due time to hand over: the one due, or after a gap (the scheduler or the machine
was down, the clock jumped ahead) only the latest, with a count of the others, never a
burst. Nothing here reads a clock, so tests step through clock jumps in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from procclaw.cron import CronSchedule

# Missed due times are counted up to this many.
MISSED_COUNTED = 1000


@dataclass(frozen=True)
class Due:
    """A due time to hand over, with `action` run, late, catchup or mark (record only).

    `missed` due times went by unrun, the latest of them at or before `latest`.
    """

    due: float
    action: str
    missed: int = 0
    latest: float = 0.0


@dataclass
class JobTimer:
    """Where a job's schedule stands: the last due time handled and the next two.

    The one after next is computed ahead, while idle, so that a wake with one due time
    hands it over before any cron arithmetic.
    """

    job: str
    schedule: CronSchedule
    catchup: str = "skip"
    last_due: float = 0.0
    next_due: float = 0.0
    following: float = 0.0

    @classmethod
    def starting(cls, job: str, schedule: CronSchedule, catchup: str, last_due: float):
        timer = cls(job, schedule, catchup)
        timer.advance(last_due)
        return timer

    def advance(self, due: float) -> None:
        """Take `due` as handled; the next due times are the first ones after it."""
        if due == self.last_due:
            return
        if due == self.next_due:
            self.next_due = self.following
        else:
            self.next_due = self.schedule.next_timestamp(due)
        self.last_due = due
        self.following = self.schedule.next_timestamp(self.next_due)

    def due(self, now: float) -> Due | None:
        """What is due at `now`: nothing, the next due time, or the latest of several."""
        if self.next_due > now:
            return None
        if self.following > now:
            return Due(self.next_due, "run")
        missed = self.schedule.count_fires(self.last_due, now, MISSED_COUNTED)
        latest = self.schedule.last_fire(self.last_due, now) or now
        return Due(latest, "late", missed - 1, latest)

    def catch_up(self, now: float) -> Due:
        """At daemon start: one run for what went by while it was down (catchup: once),
        or only a record that it went by (`mark` at `now`)."""
        latest = self.schedule.last_fire(self.last_due, now)
        if latest is None:
            return Due(now, "mark")
        missed = self.schedule.count_fires(self.last_due, now, MISSED_COUNTED)
        if self.catchup == "once":
            return Due(latest, "catchup", missed - 1, latest)
        return Due(now, "mark", missed, latest)
