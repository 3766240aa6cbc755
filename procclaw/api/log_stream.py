"""`/api/v1/jobs/{id}/logs/stream`: a job's stdout and stderr, followed, as Server-Sent Events.

What `procclaw logs -f` does, for a browser: the last `lines` lines of each log, then
every line as it is written, each event's data `{"stream": "stdout"|"stderr", "line"}`.
The job's secrets are masked as in `/logs`; when they cannot be read to build the
mask, the stream says so once and ends.

Output goes from a job to its log file by splice, not through any actor, so no event
says a line was written: like `tail -f` the stream looks at the files every
FOLLOW_INTERVAL, and only while someone watches. A rotated log (a new inode) is read
to its end, then followed in the new file. A line still being written is held until
its newline. A stream takes one of the gateway's event stream places and ends when its
client leaves or the gateway stops.
"""

from __future__ import annotations

import json
import os
import select
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import falcon

from procclaw.api.events import KEEPALIVE, EventStream
from procclaw.api.jobs import call
from procclaw.api.logs import MASK_TIMEOUT, line_count
from procclaw.client import Client
from procclaw.home import Home
from procclaw.secrets import SecretError, SecretMask, mask_for
from procclaw.secrets.job_secrets import WITHHELD
from procclaw.wakeup import Wakeup

FOLLOW_INTERVAL = 0.1
_BLOCK = 65536
# A line longer than this is sent in pieces: one endless line must not fill the memory.
MAX_LINE = 65536
# The backlog is read from at most this much of a log's end: `lines` long lines cost no more.
BACKLOG_BYTES = 1 << 20
STREAMS = ("stdout", "stderr")


class LogStream:
    def __init__(self, client: Client, home: Home, events: EventStream):
        self.client = client
        self.home = home
        self.events = events

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        lines = line_count(req)
        job = call(self.client, "status", {"job": job_id})  # 404 for an unknown job
        references = [str(value) for value in job["config"].get("env", {}).values()]
        resp.content_type = "text/event-stream"
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")
        try:
            mask = mask_for(self.home, references, MASK_TIMEOUT)
        except SecretError as exc:
            # Said once; the browser asks again after a minute, not at once.
            resp.text = "retry: 60000\n" + _frame("stderr", WITHHELD.format(exc)).decode()
            return
        wakeup = self.events.take_place()
        if on_client_gone := req.env.get("procclaw.on_client_gone"):
            on_client_gone(wakeup.set)
        paths = {name: self.home.job_log(job_id, name) for name in STREAMS}
        resp.stream = LogBody(paths, lines, mask, wakeup, lambda: self.events.release(wakeup))


class _Follower:
    """One log file, read from where it was at the start, across rotations."""

    def __init__(self, path: Path):
        self.path = path
        self.file: BinaryIO | None = None
        self.partial = b""
        self._open_at_end()

    def _open_at_end(self) -> None:
        try:
            self.file = open(self.path, "rb")  # noqa: SIM115 - kept open while followed
        except FileNotFoundError:
            return
        self.file.seek(0, os.SEEK_END)

    def backlog(self, count: int) -> list[bytes]:
        """The last `count` whole lines before the point it follows from; a line still
        being written there is finished by `lines`."""
        if self.file is None or count <= 0:
            return []
        end = self.file.tell()
        start = max(0, end - BACKLOG_BYTES)
        self.file.seek(start)
        whole = self.file.read(end - start).split(b"\n")
        self.partial = whole.pop()
        if start > 0 and whole:
            whole.pop(0)  # cut by the start of what was read
        return whole[-count:]

    def lines(self) -> list[bytes]:
        """The whole lines written since last asked (a long one in MAX_LINE pieces)."""
        data = self.partial + self._read()
        *whole, self.partial = data.split(b"\n")
        while len(self.partial) >= MAX_LINE:
            whole.append(self.partial[:MAX_LINE])
            self.partial = self.partial[MAX_LINE:]
        return whole

    def _read(self) -> bytes:
        chunks = []
        while True:
            chunk = self.file.read(_BLOCK) if self.file is not None else b""
            if chunk:
                chunks.append(chunk)
                continue
            if not self._rotated():
                return b"".join(chunks)
            if self.file is not None:
                self.file.close()  # read to its end above
            self.file = open(self.path, "rb")  # noqa: SIM115

    def _rotated(self) -> bool:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return False
        return self.file is None or inode != os.fstat(self.file.fileno()).st_ino

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class LogBody:
    """The response body of one followed log; its `close()` gives the place back."""

    def __init__(
        self,
        paths: dict[str, Path],
        lines: int,
        mask: SecretMask,
        wakeup: Wakeup,
        release: Callable[[], None],
    ):
        self._paths = paths
        self._lines = lines
        self._mask = mask
        self._wakeup = wakeup
        self._release = release
        self._followers: dict[str, _Follower] = {}
        self._open = True

    def __iter__(self) -> Iterator[bytes]:
        yield b": following\n\n"
        for name, path in self._paths.items():
            follower = self._followers[name] = _Follower(path)
            yield from self._frames(name, follower.backlog(self._lines))
        quiet = 0.0
        while self._open:
            ready, _, _ = select.select([self._wakeup.fileno()], [], [], FOLLOW_INTERVAL)
            if ready:
                return
            sent = False
            for name, follower in self._followers.items():
                for frame in self._frames(name, follower.lines()):
                    sent = True
                    yield frame
            quiet = 0.0 if sent else quiet + FOLLOW_INTERVAL
            if quiet >= KEEPALIVE:
                quiet = 0.0
                yield b": keepalive\n\n"

    def _frames(self, name: str, raw_lines: list[bytes]) -> Iterator[bytes]:
        text = [raw.removesuffix(b"\r").decode(errors="replace") for raw in raw_lines]
        for line in self._mask.lines(text):
            yield _frame(name, line)

    def close(self) -> None:
        """Called by the server when the response ends, however it ends."""
        if self._open:
            self._open = False
            for follower in self._followers.values():
                follower.close()
            self._release()


def _frame(stream: str, line: str) -> bytes:
    return f"data: {json.dumps({'stream': stream, 'line': line})}\n\n".encode()
