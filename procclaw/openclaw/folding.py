"""One alert per job per window: a flapping job must not flood a chat.

The first alert of a job goes out at once and opens a window. What that job raises
before the window ends is folded: counted by kind, the latest kept. When the window
ends, the folded alerts go out as one summary ("12 more alerts ...; latest: ..."),
which opens the next window, so a storm that goes on costs one message per window.
Time is passed in by the caller, so this runs on a fake clock in tests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from procclaw.openclaw.alerts import Alert


@dataclass
class _Window:
    ends: float
    folded: Counter[str] = field(default_factory=Counter)
    latest: Alert | None = None


class AlertFolder:
    """Decides, per job, whether an alert goes out now or is folded into a summary."""

    def __init__(self, window: float):
        self.window = window
        self._windows: dict[str, _Window] = {}
        self.folded_total = 0

    def offer(self, alert: Alert, now: float) -> Alert | None:
        """`alert` if it may go out now; None if it was folded into the job's window."""
        if self.window <= 0:
            return alert
        current = self._windows.get(alert.job)
        if current is None or current.ends <= now:
            self._windows[alert.job] = _Window(now + self.window)
            return alert
        current.folded[alert.kind] += 1
        current.latest = alert
        self.folded_total += 1
        return None

    def next_due(self) -> float | None:
        """When the earliest window ends, for the caller's timer; None if none is open."""
        return min((window.ends for window in self._windows.values()), default=None)

    def due(self, now: float) -> list[Alert]:
        """The summaries of the windows that ended by `now`; windows with none close."""
        summaries = []
        for job, window in list(self._windows.items()):
            if window.ends > now:
                continue
            if window.latest is None:
                del self._windows[job]
                continue
            summaries.append(
                replace(window.latest, at=now, folded=window.folded, window=self.window)
            )
            self._windows[job] = _Window(now + self.window)
        return summaries

    def resize(self, window: float) -> None:
        """A new window length from a reloaded config; open windows keep their end."""
        self.window = window
