"""What `ps` shows for each daemon process, so that `ps aux | grep procclaw` tells which
is which: `procclaw: root ~/.procclaw`, `procclaw: controller`, `procclaw: supervisor
api,db,+3`, `procclaw: zygote`. The short name (`ps -e`, `top`, pkill) stays
`procclaw-root`, `pc-<actor>`: it has 15 bytes, too few for a title."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from procclaw.platform import current

# A supervisor's title names this many of its jobs, then counts the rest.
NAMED_JOBS = 3


def name_root(home: Path) -> None:
    current().set_process_name("procclaw-root", f"procclaw: root {_shown_path(home)}")


def name_zygote() -> None:
    current().set_process_name("procclaw-zygote", "procclaw: zygote")


def name_actor(kind: str, name: str, jobs: Iterable[str] = ()) -> None:
    """An actor by its name; a supervisor (whatever its name) by the jobs it holds."""
    if kind == "supervisor":
        held = sorted(jobs)
        if len(held) > NAMED_JOBS:
            held = [*held[: NAMED_JOBS - 1], f"+{len(held) - NAMED_JOBS + 1}"]
        title = " ".join(["supervisor", *([",".join(held)] if held else [])])
    else:
        title = name
    current().set_process_name(f"pc-{name}", f"procclaw: {title}")


def _shown_path(path: Path) -> str:
    """`~/.procclaw` for a path in the user's home, as a shell prompt shows it."""
    try:
        inside = path.relative_to(Path.home())
    except ValueError:
        return str(path)
    return "~" if inside == Path() else f"~/{inside}"
