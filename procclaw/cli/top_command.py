"""`procclaw top`: the jobs and what they cost, live, like `top` or `pm2 monit`.

Usage:
  procclaw top [--sort=KEY] [--interval=SECONDS]

Options:
  --sort=KEY          cpu or mem [default: cpu]
  --interval=SECONDS  How often to refresh [default: 1]

Keys: `q` quits, `c` sorts by CPU, `m` by memory. Needs a terminal: for scripts, use
`procclaw list --json`, which carries the same CPU and memory.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import termios
import time
import tty

from procclaw.cli.arguments import seconds
from procclaw.cli.colours import Palette, clip
from procclaw.cli.errors import CliFailure
from procclaw.cli.render import format_cpu, format_duration, format_memory, table
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__
SORTS = {"cpu": "cpu", "mem": "memory"}
KEYS = {"c": "cpu", "m": "mem"}
HEADERS = ("job", "state", "health", "pid", "cpu", "mem", "restarts", "uptime")
_CLEAR = "\x1b[H\x1b[2J"


def run(argv: list[str]) -> int:
    from procclaw.client import Client

    args = parse_args(USAGE, argv)
    sort = args["--sort"]
    if sort not in SORTS:
        raise CliFailure(f"--sort must be cpu or mem, not '{sort}'", 2)
    interval = seconds(args["--interval"], "--interval")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliFailure("top needs a terminal; in scripts, use `procclaw list --json`", 2)
    client = Client(Home.from_env())
    client.require_daemon()
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        sys.stdout.write("\x1b[?25l")  # no cursor blinking over the table
        while True:
            sys.stdout.write(_CLEAR + screen(client, sort) + "\n")
            sys.stdout.flush()
            key = _key_within(fd, interval)
            if key == "q":
                return 0
            sort = KEYS.get(key or "", sort)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\x1b[?25h\n")
        sys.stdout.flush()


def screen(client, sort: str) -> str:
    """One refresh: a heading, then the jobs, busiest first, as many as the terminal holds."""
    from procclaw.cli.job_commands import with_measures
    from procclaw.client import ClientError

    try:
        jobs = with_measures(client, client.call("list"))
    except ClientError as exc:
        return f"procclaw top: {exc.message} (q quits)"
    key = SORTS[sort]
    jobs.sort(key=lambda job: (job[key] is None, -(job[key] or 0), job["id"]))
    running = sum(1 for job in jobs if job["pid"])
    cpu = sum(job["cpu"] or 0 for job in jobs)
    memory = sum(job["memory"] or 0 for job in jobs)
    heading = (
        f"procclaw top  {time.strftime('%H:%M:%S')}  {len(jobs)} jobs, {running} running,"
        f" {format_cpu(cpu)} cpu, {format_memory(memory)}  (sorted by {sort};"
        " q quit, c cpu, m mem)"
    )
    paint = Palette.for_stdout()
    rows = [
        (
            job["id"],
            paint.state(job["state"]),
            paint.health(job.get("health")),
            job["pid"],
            format_cpu(job["cpu"]),
            format_memory(job["memory"]),
            job["restarts"],
            format_duration(job["uptime"]) if job["uptime"] is not None else None,
        )
        for job in jobs
    ]
    size = shutil.get_terminal_size()
    lines = [heading, "", *table(HEADERS, rows).splitlines()][: max(3, size.lines - 1)]
    return "\n".join(clip(line, size.columns) for line in lines)


def _key_within(fd: int, timeout: float) -> str | None:
    """The key pressed within `timeout` seconds, if any."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return None
    data = os.read(fd, 32)
    return data[-1:].decode(errors="replace").lower() if data else "q"  # end of input quits
