"""Getting one alert to every channel: off the loop, retried with backoff, counted.

Each (alert, channel) is one delivery. Its send runs through `submit` (worker
threads); a failure that may pass is tried again after the next of the settings'
`retry_delays`, on a loop timer, and when none is left (or retrying cannot help) it is
logged and counted as failed. The counts per channel and the latest deliveries are
what `procclaw openclaw status` shows and what metrics export.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from actors.runtime.blocking_calls import Done
from procclaw.config import OpenClawSettings
from procclaw.home import Home
from procclaw.openclaw.alerts import Alert
from procclaw.openclaw.senders import HttpSender, SendError, choose_sender, gateway_token

log = logging.getLogger("procclaw.alerter")

RECENT = 20

Submit = Callable[[Callable[[], Any], Done], None]
CallLater = Callable[[float, Callable[[], None]], object]


@dataclass(frozen=True)
class _Delivery:
    alert: Alert
    text: str
    channel: str
    target: str
    url: str
    token: str | None
    retry_delays: tuple[float, ...]
    attempt: int = 0


class AlertDelivery:
    def __init__(self, home: Home, submit: Submit, call_later: CallLater):
        self.home = home
        self._submit = submit
        self._call_later = call_later
        self.channels: dict[str, Counter[str]] = {}
        self.wakes: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)

    def deliver(self, alert: Alert, settings: OpenClawSettings) -> None:
        """Send `alert` to each configured channel, and wake the agent if asked to."""
        text = alert.message()
        gateway = settings.gateway
        for channel in settings.alerts.channels:
            target = settings.alerts.target(channel)
            if target is None:
                continue  # refused by the config check; never reached with a valid config
            self.channels.setdefault(channel, Counter())
            retry_delays = settings.alerts.retry_delays
            self._attempt(
                _Delivery(alert, text, channel, target, gateway.url, gateway.token, retry_delays)
            )
        if settings.alerts.wake:
            self._submit(
                lambda: HttpSender(gateway.url, gateway_token(self.home, gateway.hooks_token)).wake(
                    text
                ),
                self._woke,
            )

    def _attempt(self, delivery: _Delivery) -> None:
        def send() -> str:
            sender = choose_sender(self.home, delivery.url, delivery.token)
            sender.send(delivery.channel, delivery.target, delivery.text)
            return sender.transport

        self._submit(send, lambda transport, error: self._sent(delivery, transport, error))

    def _sent(self, delivery: _Delivery, transport: str | None, error: BaseException | None):
        counts = self.channels[delivery.channel]
        if error is None:
            counts["sent"] += 1
            log.info("alert for job %s sent to %s", delivery.alert.job, delivery.channel)
            self._remember(delivery, "sent", transport)
            return
        retryable = getattr(error, "retryable", False)
        if not isinstance(error, SendError):
            log.error("sending an alert failed unexpectedly", exc_info=error)
        if retryable and delivery.attempt < len(delivery.retry_delays):
            delay = delivery.retry_delays[delivery.attempt]
            counts["retried"] += 1
            log.info(
                "alert to %s not sent (%s); trying again in %g s", delivery.channel, error, delay
            )
            again = replace(delivery, attempt=delivery.attempt + 1)
            self._call_later(delay, lambda: self._attempt(again))
            return
        counts["failed"] += 1
        attempts = delivery.attempt + 1
        log.warning(
            "alert for job %s to %s failed after %d attempt%s: %s",
            delivery.alert.job,
            delivery.channel,
            attempts,
            "" if attempts == 1 else "s",
            error,
        )
        self._remember(delivery, "failed", None, str(error))

    def _woke(self, _result: Any, error: BaseException | None) -> None:
        self.wakes["failed" if error else "sent"] += 1
        if error is not None:
            log.warning("waking the OpenClaw agent failed: %s", error)

    def _remember(
        self, delivery: _Delivery, result: str, transport: str | None, error: str | None = None
    ) -> None:
        alert = delivery.alert
        self.recent.append(
            {
                "at": time.time(),
                "job": alert.job,
                "kind": alert.kind,
                "folded": sum(alert.folded.values()),
                "channel": delivery.channel,
                "result": result,
                "attempts": delivery.attempt + 1,
                "transport": transport,
                "error": error,
                "message": delivery.text.splitlines()[0],
            }
        )

    def totals(self) -> dict[str, int]:
        return {
            result: sum(counts[result] for counts in self.channels.values())
            for result in ("sent", "failed", "retried")
        }
