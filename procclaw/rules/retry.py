"""How long to wait before restarting a job that exited, and when to give up."""

from __future__ import annotations

import random
from dataclasses import dataclass

from procclaw.config import RetryConfig

# The jitter of every policy that is not given its own generator (tests seed theirs): a
# Mersenne Twister holds 2.5 KiB of state, too much to keep one per job.
_JITTER = random.Random()


@dataclass
class RetryPolicy:
    """The delays of one job's `retry` config; `attempt` counts from 1."""

    config: RetryConfig
    rng: random.Random

    @classmethod
    def from_config(cls, config: RetryConfig, rng: random.Random | None = None) -> RetryPolicy:
        return cls(config, rng or _JITTER)

    def delay(self, attempt: int) -> float | None:
        """Seconds before restart number `attempt`, or None when the job has failed."""
        config = self.config
        if config.kind == "none":
            return None
        if config.max_attempts is not None and attempt > config.max_attempts:
            return None
        if config.kind == "delays":
            base = config.delays[min(attempt, len(config.delays)) - 1]
        elif config.kind == "fixed":
            base = config.delay
        else:
            # Past the cap the exponent no longer matters; unbounded, a float overflows
            # after a few days of failures.
            exponent = min(attempt - 1, 1000)
            try:
                base = min(config.max_delay, config.initial * config.factor**exponent)
            except OverflowError:
                base = config.max_delay
        if config.jitter and base > 0:
            base *= 1 + self.rng.uniform(-config.jitter, config.jitter)
        return max(0.0, base)

    def recovered(self, uptime: float) -> bool:
        """True when a run lasted long enough that the attempt count starts over."""
        return uptime >= self.config.reset_after
