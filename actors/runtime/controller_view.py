"""What an actor learns from the controller (every job's config, the jobs' states)
without blocking its loop.

The questions go out through AsyncCalls, one after the other; the bus events offered
meanwhile wait, and once every answer is in, the answers are handed over, then the held
events in the order they came. An event waits because it may be about what the answers
describe: a `job.x.running` judged before the configs are known would be judged by the
old ones (what a run id in a held event contradicts, the actor's own checks sort out).
Asked again while answers are on their way (a reload), the earlier answers count for
nothing. Questions the controller does not answer are asked again after `retry`
seconds; one it refuses, or answers with what `learn` cannot read (a controller of
another release), is logged, the held events go on without it, and it is asked again
after REFUSED_RETRY. The alerter, the health actor and the scheduler learn this way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from actors.runtime.async_calls import NOT_ANSWERING, AsyncCalls
from actors.runtime.loop import EventLoop
from procclaw.protocol import ErrorCode, Event, ProtocolError

log = logging.getLogger(__name__)

REFUSED_RETRY = 30.0  # seconds before asking again what the controller refused

# A command asked without arguments, or a command and its arguments.
Question = str | tuple[str, dict[str, Any]]


def _command(question: Question) -> tuple[str, dict[str, Any]]:
    return (question, {}) if isinstance(question, str) else question


class ControllerView:
    def __init__(
        self,
        calls: AsyncCalls,
        loop: EventLoop,
        questions: tuple[Question, ...],
        learn: Callable[[list[Any]], None],
        on_event: Callable[[Event], None] | None,
        timeout: float,
        retry: float,
    ) -> None:
        """`learn(answers)` gets the controller's answer to each of `questions` (a
        command, asked without arguments, or a command and its arguments), in order;
        `on_event` gets each event offered (None for an actor that offers none)."""
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
            command, args = _command(self._questions[len(answers)])
            self._calls.call(
                "controller",
                command,
                args,
                lambda answer: self._ask_next(ask, [*answers, answer]),
                lambda code, message: self._not_answered(ask, command, code, message),
                self._timeout,
            )
            return
        try:
            self._learn(answers)
        except (KeyError, TypeError, ValueError, ProtocolError) as exc:
            names = ", ".join(_command(question)[0] for question in self._questions)
            self._refused(ask, f"its answers to {names} are unreadable: {exc}")
            return
        self._release()

    def _release(self) -> None:
        """Hand over the held events; events offered from now on go through at once."""
        held, self._held = self._held or [], None
        for event in held:
            self.offer(event)

    def _not_answered(self, ask: int, question: str, code: str, message: str) -> None:
        if ask != self._asks:
            return
        if code not in (NOT_ANSWERING, ErrorCode.UNAVAILABLE):
            self._refused(ask, f"it refused `{question}`: {message}")
            return
        log.info("controller not answering yet (%s); asking again", message)
        self._loop.call_later(self._retry, lambda: ask == self._asks and self.ask())

    def _refused(self, ask: int, why: str) -> None:
        log.error("cannot learn from the controller: %s; asking again in %g s", why, REFUSED_RETRY)
        self._release()
        self._loop.call_later(REFUSED_RETRY, lambda: ask == self._asks and self.ask())
