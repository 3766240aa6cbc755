"""Hiding secret values in text that leaves a process: job output tails, messages."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "********"
# A line of a multi-line secret (a PEM key) is masked on its own only from this length:
# a short line ("-----") says nothing and would blot out ordinary output.
_MIN_LINE = 8


class SecretMask:
    """Replaces every known secret value with MASK; an empty mask changes nothing."""

    def __init__(self, values: Iterable[str] = ()):
        needles: set[str] = set()
        for value in values:
            if not value:
                continue
            needles.add(value)
            needles.update(line for line in value.splitlines() if len(line) >= _MIN_LINE)
        # Longest first, so a secret containing another is masked whole.
        self._needles = sorted(needles, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._needles)

    def text(self, text: str) -> str:
        for needle in self._needles:
            text = text.replace(needle, MASK)
        return text

    def lines(self, lines: Iterable[str]) -> list[str]:
        return [self.text(line) for line in lines]
