"""A job's output on its way from the pipes root keeps to the log files, for a supervisor.

One `JobOutput` per supervisor: the read ends of the job's stdout and stderr pipes, a
LogWriter and an OutputTail for each. `drain()` moves what is waiting into the logs
(by splice(2) where it can, so no byte is ever only in our memory); `last_lines()`
is what a finished run's record keeps.

A stream that a read emptied less than GATHER ago is read again only once GATHER has
passed. A line that comes alone is moved at once, but a flood is moved in big chunks
instead of a line or two per read: its writer is not woken by each read, and the
supervisor spends a seventh of the CPU on it (bench/RESULTS.md).
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable

from actors.runtime.loop import EventLoop, Timer
from actors.supervisor.log_writer import LogWriter, OutputTail
from actors.supervisor.output_heartbeat import LineMatcher
from procclaw.config import JobConfig
from procclaw.home import Home

# While a log drops output, how often `status` hears the count grow (seconds).
TROUBLE_RETELL = 1.0
READS_PER_WAKEUP = 16  # then let the rest of the loop have a turn
MAX_DRAIN_READS = 4096  # what a pipe can hold, many times over
CHUNK = 65536
# A stream that a read emptied less than this long ago (seconds) waits out the rest
# before its next read: a flood is then moved in big chunks, and its writer is not woken
# for each line.
GATHER = 0.001

log = logging.getLogger("procclaw.supervisor")


class _Stream:
    def __init__(self, fd: int, writer: LogWriter):
        self.fd = fd
        self.writer = writer
        self.tail = OutputTail()
        self.matcher: LineMatcher | None = None  # an output heartbeat's, on its stream
        self.emptied_at = 0.0  # when a read last found the pipe empty, or took all it held
        self.gathering: Timer | None = None

    def drain(self, limit: int, until_empty: bool = False) -> bool:
        """Move what is waiting (up to `limit` reads); True if a line matched.

        A short read ends the reads: the pipe is empty, or a log that ran out of room
        took part of it, and the next read tells which. `until_empty` reads on until
        the pipe says it is empty (a run's end, when no next read comes).
        """
        matched = False
        for _ in range(limit):
            data = self.writer.splice_from(self.fd, CHUNK)
            if data is None:  # timestamps on, or no splice: copy through memory
                try:
                    data = os.read(self.fd, CHUNK)
                except BlockingIOError:
                    return matched
                except OSError as exc:
                    if exc.errno == errno.EINTR:
                        continue
                    log.error("%s: reading the job's output failed: %s", self.writer.path, exc)
                    return matched
                self.writer.write(data)
            if not data:
                self.emptied_at = time.monotonic()
                return matched
            self.tail.feed(data)
            if self.matcher is not None and self.matcher.feed(data):
                matched = True
            if len(data) < CHUNK and not until_empty:  # let more gather before the next read
                self.emptied_at = time.monotonic()
                return matched
        return matched


class JobOutput:
    def __init__(self, job: JobConfig, home: Home, stdout_r: int, stderr_r: int):
        settings = job.log
        self._streams = [
            _Stream(
                fd,
                LogWriter(
                    home.job_log(job.id, name),
                    settings.max_bytes,
                    settings.backups,
                    settings.timestamps,
                ),
            )
            for fd, name in ((stdout_r, "stdout"), (stderr_r, "stderr"))
        ]
        for fd in (stdout_r, stderr_r):
            os.set_blocking(fd, False)  # never the write ends: those are the job's stdout

    def match_lines(self, stream: str, matcher: LineMatcher) -> None:
        """Look for `matcher`'s lines in `stream` (stdout or stderr) as it goes by."""
        self._streams[("stdout", "stderr").index(stream)].matcher = matcher

    def watch(
        self,
        loop: EventLoop,
        on_trouble: Callable[[], None],
        on_match: Callable[[], None] = lambda: None,
    ) -> None:
        """Move output as it comes; `on_trouble` when a log starts or stops dropping it,
        `on_match` when a line matched (see match_lines)."""

        told = [0.0]  # when on_trouble last told of a count still growing

        def drain(stream: _Stream) -> None:
            if time.monotonic() - stream.emptied_at < GATHER:
                loop.remove_reader(stream.fd)
                stream.gathering = loop.call_at(
                    stream.emptied_at + GATHER, lambda: gathered(stream)
                )
                return
            before = stream.writer.trouble is None
            if stream.drain(READS_PER_WAKEUP):
                on_match()
            now = time.monotonic()
            if (stream.writer.trouble is None) != before:
                told[0] = now
                on_trouble()
            elif stream.writer.trouble is not None and now - told[0] >= TROUBLE_RETELL:
                told[0] = now  # the count dropped grows: status must not show the first
                on_trouble()

        def gathered(stream: _Stream) -> None:
            stream.gathering = None
            loop.add_reader(stream.fd, lambda: drain(stream))
            drain(stream)

        for stream in self._streams:
            loop.add_reader(stream.fd, lambda s=stream: drain(s))

    def unwatch(self, loop: EventLoop) -> None:
        """Stop moving output as it comes (the job is at rest, or we are exiting)."""
        for stream in self._streams:
            loop.remove_reader(stream.fd)
            if stream.gathering is not None:
                stream.gathering.cancel()
                stream.gathering = None

    def trouble(self) -> str | None:
        """What keeps output from the logs, for `status`: `stdout: disk full since ...`."""
        troubles = [
            f"{name}: {stream.writer.trouble.text()}"
            for name, stream in zip(("stdout", "stderr"), self._streams, strict=True)
            if stream.writer.trouble is not None
        ]
        return "; ".join(troubles) or None

    def drain(self) -> None:
        """Take everything waiting in the pipes (the job has exited: nothing more comes)."""
        for stream in self._streams:
            stream.drain(MAX_DRAIN_READS, until_empty=True)

    def last_lines(self) -> list[str]:
        """The run's last lines of stdout, then of stderr (marked), and forget them."""
        stdout, stderr = (stream.tail for stream in self._streams)
        lines = stdout.lines() + [f"stderr: {line}" for line in stderr.lines()]
        stdout.clear()
        stderr.clear()
        return lines

    def close(self) -> None:
        for stream in self._streams:
            stream.writer.close()
