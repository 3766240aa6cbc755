"""Turning daemon replies into text for a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from procclaw.cli.colours import visible_len
from procclaw.job_usage import memory_text


def format_duration(seconds: float | None) -> str:
    """`3d 4h`, `2h 5m`, `4m 10s`, `12s`: the two largest units, as `ps` users expect."""
    if seconds is None:
        return "-"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{value}{unit}" for value, unit in parts[:2])


def format_memory(count: int | None) -> str:
    """`812K`, `45.2M`, `1.3G`, or `-` for none: memory as `top` shows it."""
    return "-" if count is None else memory_text(count)


def format_cpu(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:.1f}%"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces; `-` for a missing value. A cell
    may be coloured: its width is what shows."""
    cells = [[str(h).upper() for h in headers]]
    cells += [
        ["-" if value is None or value == "" else str(value) for value in row] for row in rows
    ]
    widths = [max(visible_len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell + " " * (width - visible_len(cell))
            for cell, width in zip(row, widths, strict=True)
        )
        for row in cells
    ]
    return "\n".join(line.rstrip() for line in lines)
