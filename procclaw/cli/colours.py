"""Colour on a terminal: job states and health verdicts stand out in `list`, `status`
and `top`, and only where wanted.

Off when stdout is not a terminal (a pipe, a file), when NO_COLOR is set to anything
but the empty string (no-color.org), when TERM is `dumb`, and with the global
`--no-color` option, which main.py turns into NO_COLOR for the command it runs.
A state that asks nothing of the reader (stopped, completed, paused) keeps the
terminal's own colour: dim text is unreadable on some themes.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

from procclaw.states import JobState

GREEN, RED, YELLOW = "32", "31", "33"
STATE_COLOURS = {
    JobState.RUNNING: GREEN,
    JobState.FAILED: RED,
    JobState.BACKOFF: YELLOW,
    JobState.STARTING: YELLOW,
    JobState.STOPPING: YELLOW,
    JobState.WAITING: YELLOW,
}
HEALTH_COLOURS = {"healthy": GREEN, "unhealthy": RED}
NO_COLOR_OPTION = "--no-color"
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def wanted(stream: TextIO | None = None) -> bool:
    """Whether what goes to `stream` (stdout) may be coloured."""
    stream = sys.stdout if stream is None else stream
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


class Palette:
    """Paints a state or a health verdict, or hands it back as it is when colour is off."""

    def __init__(self, on: bool):
        self.on = on

    @classmethod
    def for_stdout(cls) -> Palette:
        return cls(wanted())

    def state(self, text: str) -> str:
        return self._paint(STATE_COLOURS.get(text), text)

    def health(self, text: str | None) -> str | None:
        """`healthy`, `unhealthy`, or `unhealthy: <why> ...`: the verdict, its first word,
        is painted."""
        if text is None:
            return None
        verdict = re.match(r"\w*", text).group()
        return self._paint(HEALTH_COLOURS.get(verdict), verdict) + text[len(verdict) :]

    def _paint(self, code: str | None, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and code else text


def visible_len(text: str) -> int:
    """The columns `text` takes on a terminal: its colour codes take none."""
    return len(_SGR.sub("", text))


def clip(text: str, columns: int) -> str:
    """`text` cut to `columns` visible characters, never inside a colour code, and with
    the colour ended if the cut fell inside a painted word."""
    if visible_len(text) <= columns:
        return text
    kept, shown, painted = [], 0, False
    for piece in re.split(f"({_SGR.pattern})", text):
        if _SGR.fullmatch(piece):
            kept.append(piece)
            painted = piece != "\x1b[0m"
            continue
        piece = piece[: columns - shown]
        kept.append(piece)
        shown += len(piece)
        if shown >= columns:
            break
    return "".join(kept) + ("\x1b[0m" if painted else "")


def take_no_color_option(argv: list[str]) -> list[str]:
    """`argv` without `--no-color`, wherever it stood before `--`; if it was there,
    NO_COLOR is set, so every command (and `wanted`) obeys it alike."""
    end = argv.index("--") if "--" in argv else len(argv)
    kept = [arg for arg in argv[:end] if arg != NO_COLOR_OPTION] + argv[end:]
    if len(kept) != len(argv):
        os.environ["NO_COLOR"] = "1"
    return kept
