"""What an actor learns from the controller (every job's config, the jobs' states)
without blocking its loop.

The questions go out through AsyncCalls, one after the other; the bus events that
arrive meanwhile wait, and once every answer is in, the answers are handed over, then
the held events in the order they came. An event waits because it may be about what
the answers describe: a `job.x.running` judged before the configs are known would be
judged by the old ones. The held events came after the questions went out, so none is
older than the answers' view (and what a run id in them contradicts, the actor's own
checks sort out). Asked again while answers are on their way (a reload), the earlier
answers count for nothing; questions the controller does not answer are asked again
after `retry` seconds. The alerter, the health actor and the scheduler learn this way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from actors.runtime.async_calls import AsyncCalls
from actors.runtime.loop import EventLoop
from procclaw.protocol import Event

log = logging.getLogger(__name__)


class ControllerView:
    def __init__(
        self,
        calls: AsyncCalls,
        loop: EventLoop,
        questions: tuple[str, ...],
        learn: Callable[[list[Any]], None],
        on_event: Callable[[Event], None] | None,
        timeout: float,
        retry: float,
    ) -> None:
        """`learn(answers)` gets the controller's answer to each of `questions` (asked
        without arguments), in order; `on_event` gets each event offered (None for an
        actor that offers none)."""
        self._calls = calls
        self._loop = loop
        self._questions = questions
        self._learn = learn
        self._on_event = on_event
        self._timeout = timeout
        self._retry = retry
        self._held: list[Event] | None = None  # events waiting for the answers
        self._asks = 0  # the latest round of questions: only its answers count

    def ask(self) -> None:
        """Ask every question (again); events offered from now wait for the answers."""
        self._asks += 1
        if self._held is None:
            self._held = []
        self._ask_next(self._asks, [])

    def offer(self, event: Event) -> None:
        """An event from the bus: handed over now, or once the answers are in."""
        assert self._on_event is not None, "no handler for events was given"
        if self._held is not None:
            self._held.append(event)
        else:
            self._on_event(event)

    def _ask_next(self, ask: int, answers: list[Any]) -> None:
        if ask != self._asks:
            return  # asked again since: the answers to that round are the ones to go by
        if len(answers) < len(self._questions):
            self._calls.call(
                "controller",
                self._questions[len(answers)],
                {},
                lambda answer: self._ask_next(ask, [*answers, answer]),
                lambda _code, message: self._not_answered(ask, message),
                self._timeout,
            )
            return
        self._learn(answers)
        held, self._held = self._held or [], None
        for event in held:
            self.offer(event)

    def _not_answered(self, ask: int, message: str) -> None:
        if ask != self._asks:
            return
        log.info("controller not answering yet (%s); asking again", message)
        self._loop.call_later(self._retry, lambda: ask == self._asks and self.ask())
