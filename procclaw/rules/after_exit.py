"""What follows a run's exit: a restart, a backoff, a queued run, or rest.

One `AfterExit` per supervisor. It keeps what was asked of the run before it ended
(start again once the stop is done, retry it because it was found unhealthy, run once
more because a scheduled run found it still going, or that it is being stopped for
running longer than max_runtime) and the retry policy's counters, and from these and
the exit alone decides the job's next state. It touches no process, socket or clock:
the supervisor carries the decision out, so the rules are testable on plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procclaw.job_facts import HeldFacts
from procclaw.rules.retry import RetryPolicy
from procclaw.states import JobState

# A crash loop, as systemd's StartLimitBurst sees one: QUICK_EXITS runs in a row that
# each ended within QUICK_EXIT seconds of starting. From then on a restart waits at
# least LOOP_DELAY seconds, doubled at each further quick exit up to LOOP_DELAY_MAX,
# whatever the retry policy says (even `delay: 0`), so that a job that cannot start
# does not restart hundreds of times a second.
QUICK_EXIT = 1.0
QUICK_EXITS = 5
LOOP_DELAY = 1.0
LOOP_DELAY_MAX = 30.0
# sysexits.h's EX_CONFIG: the program says its configuration is wrong. Restarting it
# will not make that better, so a continuous job that exits so fails at once.
EX_CONFIG = 78


@dataclass(frozen=True)
class NextStep:
    """The decision: the job's state now, its reason, and when its next run starts."""

    state: JobState
    reason: str | None
    start_in: float | None  # seconds until the next run; None when the job comes to rest


@dataclass
class AfterExit:
    policy: RetryPolicy
    continuous: bool  # a service, restarted through its retry policy when it exits
    restart: str = "always"  # always | on-failure | never, as systemd's Restart=
    restarts: int = 0
    attempt: int = 0  # the retry policy's count, reset by a run that lasted long enough
    then_start: bool = False  # after the stop under way, start again (restart)
    then_retry: str | None = None  # found unhealthy (why): retried as if it had crashed
    queued: bool = False  # run again when this run ends
    timed_out: bool = False  # stopping for max_runtime
    quick_exits: int = 0  # runs in a row that ended within QUICK_EXIT of starting

    @classmethod
    def resumed(
        cls, policy: RetryPolicy, continuous: bool, restart: str, resume: HeldFacts
    ) -> AfterExit:
        """Carry on a dead predecessor's counters and wishes (`then_start` is taken only
        with the run it applies to, when that run is adopted)."""
        return cls(
            policy,
            continuous,
            restart,
            restarts=resume.restarts,
            attempt=resume.attempt,
            then_retry=resume.then_retry,
            queued=resume.queued,
            timed_out=resume.timed_out,
        )

    def counts(self) -> dict[str, int]:
        return {"restarts": self.restarts, "attempt": self.attempt}

    def wishes(self) -> dict[str, Any]:
        """What a replacement supervisor needs to decide as we would have."""
        return {
            "then_start": self.then_start,
            "then_retry": self.then_retry,
            "queued": self.queued,
            "timed_out": self.timed_out,
        }

    def restart_after_stop(self) -> None:
        self.then_start = True
        self.reset_counts()

    def reset_counts(self) -> None:
        """A start or restart by hand begins the counts afresh, as `systemctl
        reset-failed` does: the retry policy's attempts, the restarts, a crash loop."""
        self.attempt = self.restarts = self.quick_exits = 0

    def retry_as_unhealthy(self, reason: str) -> None:
        """The run is being stopped because it is unhealthy: retry it as if it crashed."""
        self.then_start = False
        self.then_retry = reason

    def queue(self) -> bool:
        """Hold one more run for when this one ends; False if one is held already."""
        if self.queued:
            return False
        self.queued = True
        return True

    def forget_wishes(self) -> None:
        """A stop was asked: the run ends, and nothing follows it."""
        self.then_start = self.queued = False
        self.then_retry = None

    def _restarts_after(self, code: int | None, unhealthy: bool) -> bool:
        """Whether a continuous job's exit with `code` (None: by a signal) is retried;
        one stopped for being unhealthy failed, whatever its code."""
        if not self.continuous or self.restart == "never":
            return False
        return self.restart == "always" or code != 0 or unhealthy

    def _crash_loop_delay(self) -> float:
        if self.quick_exits < QUICK_EXITS:
            return 0.0
        doublings = min(self.quick_exits - QUICK_EXITS, 16)  # far past the cap already
        return min(LOOP_DELAY_MAX, LOOP_DELAY * 2**doublings)

    def run_result(self, stopping: bool, code: int | None) -> str:
        """How the run that just exited is recorded: completed, failed, stopped or timeout."""
        if stopping:
            return "timeout" if self.timed_out else "stopped"
        return "completed" if code == 0 else "failed"

    def decide(
        self, stopping: bool, code: int | None, uptime: float, text: str, reason: str | None
    ) -> NextStep:
        """The step after a run exited with `code` (`text` says how) after `uptime`
        seconds, the job `stopping` or not, with `reason` the job's reason until now."""
        unhealthy = self.then_retry is not None
        if unhealthy:
            text = f"unhealthy: {self.then_retry}"
            self.then_retry = None
        elif stopping:
            timed_out, self.timed_out = self.timed_out, False
            state = JobState.FAILED if timed_out else JobState.STOPPED
            if self.then_start or (timed_out and self.queued):
                self.then_start = self.queued = False
                return NextStep(state, reason, 0.0)
            return NextStep(state, reason, None)
        if code == EX_CONFIG and self.continuous:
            reason = f"{text}: its configuration is wrong (EX_CONFIG); restarting will not help"
        elif self._restarts_after(code, unhealthy):
            if self.policy.recovered(uptime):
                self.attempt = 0
            self.attempt += 1
            self.quick_exits = self.quick_exits + 1 if uptime < QUICK_EXIT else 0
            delay = self.policy.delay(self.attempt)
            if delay is not None:
                self.restarts += 1
                floor = self._crash_loop_delay()
                if floor > delay:
                    delay = floor
                    reason = (
                        f"crash loop: exited within {QUICK_EXIT:g} s of starting"
                        f" {self.quick_exits} times in a row; next start in {delay:g} s"
                    )
                return NextStep(JobState.BACKOFF, reason, delay)
            reason = f"gave up after {self.attempt - 1} restarts; last: {text}"
        elif stopping:  # found unhealthy: it has failed
            reason = text
        else:
            reason = None if code == 0 else text
        state = JobState.COMPLETED if code == 0 and reason is None else JobState.FAILED
        queued, self.queued = self.queued, False
        return NextStep(state, reason, 0.0 if queued else None)
