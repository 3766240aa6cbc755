"""Commands about a job on its way to its supervisor, held back until the job is there.

A start places the job through root (job_placer.py), but the controller sends the
job's later commands to its supervisor straight. A stop sent a moment after a start
could reach the supervisor before the job does, be answered "not running", and leave
the job to start. So while a job is placed but not yet taken (no report from its
supervisor), its commands wait. They then run in the order they came, each once the
one before it is answered, and a command that finds others waiting waits behind them.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actors.runtime.command_server import Deferred
from actors.runtime.loop import EventLoop, Timer
from procclaw.protocol import CommandError, ErrorCode

log = logging.getLogger("procclaw.controller")

# Root hands a job to its supervisor in milliseconds, or refuses it (the daemon stops).
# Held this long, and then given the supervisor's own time (SUPERVISOR_TIMEOUT, 3 s),
# a command is answered within a client's 5 s.
HOLD_AT_MOST = 1.5  # seconds

Reply = dict[str, Any] | Deferred


@dataclass(eq=False)
class _Held:
    command: Callable[[], Reply]
    reply: Deferred
    timer: Timer | None = None


class HeldCommands:
    def __init__(self, loop: EventLoop, placing: Callable[[str], bool]):
        self._loop = loop
        self._placing = placing  # whether the job is placed but not taken yet
        self._waiting: dict[str, deque[_Held]] = {}
        self._answering: set[str] = set()  # jobs with a released command not yet answered

    def holds(self, job_id: str) -> bool:
        """Whether a command about the job now would wait."""
        return job_id in self._waiting or self._placing(job_id)

    def run(self, job_id: str, command: Callable[[], Reply]) -> Reply:
        """`command()` now, or a Deferred of its reply once the job is in its supervisor
        and every command about it that came before is answered."""
        if not self.holds(job_id):
            return command()
        held = _Held(command, Deferred())
        held.timer = self._loop.call_later(HOLD_AT_MOST, lambda: self._give_up(job_id, held))
        self._waiting.setdefault(job_id, deque()).append(held)
        return held.reply

    def settled(self, job_id: str) -> None:
        """The job's facts changed (its supervisor reported, or it was never placed):
        what waits for it may go."""
        waiting = self._waiting.get(job_id)
        if waiting is None:
            return
        while waiting and job_id not in self._answering and not self._placing(job_id):
            held = waiting.popleft()
            if held.timer is not None:
                held.timer.cancel()
            self._answer(job_id, held)
        # (A reply that came at once has run this again already, and may have let go.)
        if self._waiting.get(job_id) is waiting and not waiting and job_id not in self._answering:
            del self._waiting[job_id]

    def _answer(self, job_id: str, held: _Held) -> None:
        try:
            result = held.command()
        except CommandError as exc:
            held.reply.fail(exc.code, exc.message)
            return
        except Exception as exc:  # as the command server answers it, had it not waited
            log.exception("job %s: a command held for its placement failed", job_id)
            held.reply.fail(ErrorCode.INTERNAL, f"internal error: {exc}")
            return
        if not isinstance(result, Deferred):
            held.reply.resolve(result)
            return
        self._answering.add(job_id)

        def answered(value: Any, error: CommandError | None) -> None:
            self._answering.discard(job_id)
            if error is not None:
                held.reply.fail(error.code, error.message)
            else:
                held.reply.resolve(value)
            self.settled(job_id)

        result.then(answered)

    def _give_up(self, job_id: str, held: _Held) -> None:
        waiting = self._waiting.get(job_id)
        if waiting is None or held not in waiting:
            return
        waiting.remove(held)
        held.reply.fail(
            ErrorCode.UNAVAILABLE,
            f"job '{job_id}' is still on its way to its supervisor after "
            f"{HOLD_AT_MOST:g} s: try again",
        )
        self.settled(job_id)
