"""The logs of several jobs at once, as `pm2 logs` shows them: each line prefixed by its
job, stdout and stderr together (or one of them), and followed as they grow.

    api    | listening on :8080
    worker | took job 17

On a terminal each job's prefix has a colour of its own, the same one at every run
(it comes from the job's name); a pipe gets the same text without colour. The last
lines of each log come first, in time order when every one carries the timestamp of
`log.timestamps: true`, else log after log; then, with -f, lines as they are written.
A line shows once it is complete, so two jobs' lines never mix within one.
"""

from __future__ import annotations

import re
import sys
import time
import zlib
from dataclasses import dataclass, field

from procclaw.home import Home
from procclaw.logfiles import FOLLOW_INTERVAL, FollowedFile, last_lines

# Colours for job names: none of red and green, which say failed and running elsewhere.
NAME_COLOURS = ("36", "35", "34", "33", "96", "95", "94", "93")
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def name_colour(job_id: str) -> str:
    """The job's colour: chosen by its name, so it stays the same from run to run."""
    return NAME_COLOURS[zlib.crc32(job_id.encode()) % len(NAME_COLOURS)]


@dataclass
class _Log:
    """One log file of one job, with the prefix its lines get."""

    prefix: bytes
    followed: FollowedFile
    partial: bytes = field(default=b"")  # the start of a line not yet ended


def show_logs(
    home: Home, job_ids: list[str], streams: tuple[str, ...], lines: int, follow: bool, paint: bool
) -> int:
    """Print the last `lines` of each log of `job_ids`, then (`follow`) what they add."""
    width = max(len(job_id) for job_id in job_ids)
    logs = []
    for job_id in job_ids:
        prefix = _prefix(job_id, width, paint)
        logs += [_Log(prefix, FollowedFile(home.job_log(job_id, s))) for s in streams]
    out = sys.stdout.buffer
    try:
        out.write(b"".join(_tails(logs, lines)))
        out.flush()
        for log in logs:
            log.followed.skip_to_end()
        while follow:
            if not _print_new_lines(logs, out):
                time.sleep(FOLLOW_INTERVAL)  # a viewer, as `tail -f`: see logfiles.py
    finally:
        for log in logs:
            log.followed.close()
    return 0


def _prefix(job_id: str, width: int, paint: bool) -> bytes:
    name = job_id.ljust(width)
    shown = f"\x1b[{name_colour(job_id)}m{name} |\x1b[0m " if paint else f"{name} | "
    return shown.encode()


def _tails(logs: list[_Log], count: int) -> list[bytes]:
    """The last `count` lines of each log, prefixed: by time if every one is stamped."""
    stamped: list[tuple[bytes, bytes]] = []
    for log in logs:
        if not log.followed.opened:
            continue
        for line in last_lines(log.followed.path, count).splitlines(keepends=True):
            stamp = _STAMP.match(line)
            ended = line if line.endswith(b"\n") else line + b"\n"
            stamped.append((stamp.group() if stamp else b"", log.prefix + ended))
    if all(stamp for stamp, _ in stamped):
        stamped.sort(key=lambda entry: entry[0])  # stable: a log's own order stays
    return [line for _, line in stamped]


def _print_new_lines(logs: list[_Log], out) -> bool:
    """Print the lines each log completed since the last look; False if none grew."""
    grew = False
    for log in logs:
        chunk = log.followed.read()
        if not chunk:
            continue
        grew = True
        *complete, log.partial = (log.partial + chunk).split(b"\n")
        out.write(b"".join(log.prefix + line + b"\n" for line in complete))
    if grew:
        out.flush()
    return grew
