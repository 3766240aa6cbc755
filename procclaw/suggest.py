"""Spelling suggestions for names the user typed: config keys, job ids, choices.

A typo should cost one glance, not a trip to the documentation, so every "unknown"
message ends with the closest name that does exist.
"""

from __future__ import annotations

from collections.abc import Iterable

# difflib's default: close enough to be a typo, far enough not to suggest nonsense.
_CUTOFF = 0.6


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to `word`, or None when nothing is close."""
    import difflib  # only when a name is wrong: the protocol imports this module

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=_CUTOFF)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A suffix like " (did you mean 'cmd'?)" to append to an error, or "" if none fits."""
    match = closest(word, candidates)
    return f" (did you mean '{match}'?)" if match is not None else ""
