"""A job's output on disk (`LogWriter`) and in memory (`OutputTail`), for its supervisor.

The supervisor reads a job's stdout and stderr pipes in chunks and hands every chunk,
in order, to one `LogWriter` per stream and to the job's `OutputTail`. Neither binds or
connects a socket, accepts messages or publishes events.

`LogWriter` owns one log file (`logs/<job>.log` or `logs/<job>.error.log`) and its
numbered backups `<file>.1` (newest) to `<file>.<backups>` (oldest). It writes through a
raw file descriptor, so whatever it was handed survives a kill -9 of the supervisor, and
it holds no more than the chunk it is writing. It never raises OSError from `write()`: a
full disk or a removed log directory must not take the job's supervisor down with it.

The file is opened (and made) at the first output, not when the job starts: a job that
prints nothing leaves no file, and `procclaw logs` says "no output yet". Making a file
costs far more than opening one: 0.05 to 0.8 ms on ext4 under load, twice per job, in
the supervisor's loop while it starts hundreds of jobs.

`OutputTail` owns the last few lines, which `status` and the `runs` table show.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import pathlib
import struct
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass

from procclaw.logfiles import TAIL_LINE_BYTES, shown_line
from procclaw.platform import current

log = logging.getLogger(__name__)

# Not O_APPEND: splice(2) refuses append-mode files. One supervisor writes a log at a
# time, at the end of the file, where _open() positions it. Read access is for
# reading back what splice moved, for the tail.
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
_MODE = 0o600  # what a job prints may be a secret


def _timestamp_prefix(seconds: float) -> bytes:
    """The prefix of a timestamped line: `2026-11-22T10:15:02.113Z ` (UTC, milliseconds)."""
    # Rounding the whole value to milliseconds first lets a .9996 carry into the seconds
    # instead of printing as .1000.
    whole, millis = divmod(round(seconds * 1000), 1000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{stamp}.{millis:03d}Z ".encode()


@dataclass
class LogTrouble:
    """A log that cannot be written: its output is dropped (never held back: a job must
    not block on a full pipe because the disk is full)."""

    why: str
    since: float  # wall clock
    dropped: int = 0  # bytes

    def text(self) -> str:
        since = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"{self.why} since {since}, {_size(self.dropped)} dropped"


def _why(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk full"
    return (exc.strerror or str(exc)).lower()


def _waiting_bytes(pipe_fd: int) -> int:
    """How many bytes wait in the pipe (FIONREAD), without taking them."""
    return struct.unpack("i", fcntl.ioctl(pipe_fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


class LogWriter:
    """Appends one stream of a job's output to its log file, rotating by size."""

    def __init__(
        self,
        path: pathlib.Path,
        max_bytes: int,
        backups: int,
        timestamps: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_bytes < 1 or backups < 0:
            raise ValueError(f"{path}: need max_bytes >= 1 and backups >= 0")
        self._path = pathlib.Path(path)
        self._max_bytes = max_bytes
        self._backups = backups
        self._timestamps = timestamps
        self._clock = clock
        self._fd: int | None = None
        self._size = 0  # of the current file; tracked rather than asked for on every write
        self._at_line_start = True
        self._file_mid_line = False  # the current file ends inside a line
        self._reported: set[int | None] = set()
        # Why output is being dropped, since when, and how much; None while it is written.
        self.trouble: LogTrouble | None = None

    @property
    def path(self) -> pathlib.Path:
        return self._path

    def write(self, data: bytes) -> None:
        """Append `data` as it is (partial lines and invalid UTF-8 included).

        With timestamps on, each line start gets a timestamp prefix. On an OSError
        (disk full, I/O error, permission denied) the rest of this chunk is dropped and
        a warning is logged, once per errno for the life of this writer; later chunks
        are tried again, so the log resumes once the disk has room.
        """
        if not data:
            return
        if self._timestamps:
            data = self._stamp(data)
        try:
            self._append(data)
        except OSError as exc:
            self._report(exc, "cannot write the log; dropping output")
            if self.trouble is None:
                self.trouble = LogTrouble(_why(exc), self._clock())
            self.trouble.dropped += len(data)
            return
        self._written()

    def splice_from(self, pipe_fd: int, limit: int) -> bytes | None:
        """Move up to `limit` bytes from `pipe_fd` into the log in one system call.

        The bytes never pass through our memory on the way, so no kill -9 of the
        supervisor can fall between taking them from the pipe and writing them down.
        Returns what was moved (read back from the page cache, for the tail), b"" when
        the pipe is empty, or None when this writer does not splice now: timestamps on,
        no splice on this system, an error, or a chunk that may cross the rotation
        boundary (write() cuts that at a line end; a byte count cannot). Then read the
        pipe and call write().
        """
        if self._timestamps or not current().can_splice:
            return None
        if self._fd is None:
            if not _waiting_bytes(pipe_fd):
                return b""  # the file is made for output, not for a look at an empty pipe
            try:
                self._open()
            except OSError:
                return None  # write() opens it again, and says why it cannot
        try:
            self._notice_truncation()
            if self._size + limit > self._max_bytes:
                return None
            start = self._size
            moved = current().move_in_kernel(pipe_fd, self._fd, limit)
        except BlockingIOError:
            return b""
        except OSError as exc:
            self._report(exc, "cannot splice into the log; copying instead")
            return None
        self._size += moved
        if moved:
            self._written()
        data = os.pread(self._fd, moved, start)
        if data:
            self._file_mid_line = not data.endswith(b"\n")
        return data

    def _written(self) -> None:
        """Output reached the file: whatever kept it out is over."""
        if self.trouble is not None:
            log.warning("%s: written again, after %s", self._path, self.trouble.text())
            self.trouble = None
            self._reported.clear()

    def close(self) -> None:
        """Release the file; closing twice is harmless and a later write() reopens it."""
        try:
            self._close_fd()
        except OSError as exc:
            self._report(exc, "cannot close the log")

    def _stamp(self, data: bytes) -> bytes:
        prefix = _timestamp_prefix(self._clock())
        stamped = data.replace(b"\n", b"\n" + prefix)
        if data.endswith(b"\n"):
            # The line after this newline starts in a later chunk, at that chunk's time.
            stamped = stamped[: -len(prefix)]
        if self._at_line_start:
            stamped = prefix + stamped
        self._at_line_start = data.endswith(b"\n")
        return stamped

    def _append(self, data: bytes) -> None:
        if self._fd is None:
            self._open()
        self._notice_truncation()
        start = 0
        while start < len(data):
            end = self._end_of_piece(data, start)
            if end > start:
                self._write_all(memoryview(data)[start:end])
                start = end
            if start < len(data):
                self._rotate()

    def _end_of_piece(self, data: bytes, start: int) -> int:
        """Where the part of data[start:] that goes into the current file ends."""
        room = self._max_bytes - self._size
        if len(data) - start <= room:
            return len(data)
        if self._file_mid_line and room >= 0:
            # The file ends inside a line begun by an earlier chunk: finish that line
            # here, up to max_bytes past the limit, rather than split it across files.
            end_of_line = data.find(b"\n", start, start + self._max_bytes)
            if end_of_line >= 0:
                return end_of_line + 1
        newline = data.rfind(b"\n", start, start + max(room, 0))
        if newline >= 0:
            return newline + 1
        # No whole line fits: start it in a fresh file, unless this file is already empty
        # (the line is longer than max_bytes and must be split somewhere).
        return start + room if self._size == 0 else start

    def _write_all(self, view: memoryview) -> None:
        if view:
            self._file_mid_line = view[-1] != ord("\n")
        while view:
            written = os.write(self._fd, view)
            self._size += written
            view = view[written:]

    def _notice_truncation(self) -> None:
        """Someone emptied the file (`: > job.log`, copytruncate): write at its new end,
        or the gap up to our old offset would read back as NUL bytes."""
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        if size < self._size:
            self._size = os.lseek(self._fd, 0, os.SEEK_END)
            self._file_mid_line = False

    def _rotate(self) -> None:
        self._close_fd()
        # `<path>.<backups-1>` -> `<path>.<backups>` first, so nothing is overwritten
        # but the oldest backup; a missing file (deleted by the user) is just skipped.
        # The names are made here, not kept: a supervisor holds two writers per job.
        for number in range(self._backups, 0, -1):
            older = f"{self._path}.{number - 1}" if number > 1 else self._path
            try:
                os.replace(older, f"{self._path}.{number}")
            except FileNotFoundError:
                pass
        self._open()
        if self._backups == 0:
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            self._size = 0

    def _open(self) -> None:
        try:
            fd = os.open(self._path, _OPEN_FLAGS, _MODE)
        except FileNotFoundError:
            # The log directory is gone (the user deleted it): make it again.
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, _OPEN_FLAGS, _MODE)
        self._fd = fd
        self._size = os.lseek(fd, 0, os.SEEK_END)  # the file may exist from an earlier run
        self._file_mid_line = self._size > 0 and os.pread(fd, 1, self._size - 1) != b"\n"

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _report(self, exc: OSError, what: str) -> None:
        if exc.errno in self._reported:
            return
        self._reported.add(exc.errno)
        name = errno.errorcode.get(exc.errno or 0, "error")
        log.warning(
            "%s: %s: %s (further %s errors for this file are not reported)",
            self._path,
            what,
            exc.strerror or exc,
            name,
        )


class OutputTail:
    """The last lines a job printed, kept for the `runs` table and `status`."""

    def __init__(self, max_lines: int = 10, max_line_bytes: int = TAIL_LINE_BYTES) -> None:
        if max_lines < 1 or max_line_bytes < 1:
            raise ValueError("need max_lines >= 1 and max_line_bytes >= 1")
        self._max_lines = max_lines
        self._max_line_bytes = max_line_bytes
        # Raw bytes and whether bytes past them were dropped; decoding waits for lines().
        # A list, trimmed after each chunk: a deque's first block alone is 0.5 KiB, and a
        # supervisor keeps two tails per job.
        self._lines: list[tuple[bytes, bool]] = []
        self._pending = bytearray()
        self._pending_dropped = False

    def feed(self, data: bytes) -> None:
        """Take the next chunk of output; a line may continue from the previous chunk."""
        # Lines before the last max_lines + 1 would only be trimmed away again,
        # so a chunk of many short lines costs no more than a chunk of a few.
        *complete, rest = data.rsplit(b"\n", self._max_lines + 1)
        for piece in complete:
            self._extend_pending(piece)
            self._lines.append((bytes(self._pending), self._pending_dropped))
            self._pending.clear()
            self._pending_dropped = False
        del self._lines[: -self._max_lines]
        self._extend_pending(rest)

    def lines(self) -> list[str]:
        """The last max_lines lines, the unfinished one included, without line endings."""
        shown = [self._render(raw, dropped, complete=True) for raw, dropped in self._lines]
        if self._pending or self._pending_dropped:
            shown.append(self._render(bytes(self._pending), self._pending_dropped, complete=False))
        return shown[-self._max_lines :]

    def clear(self) -> None:
        self._lines.clear()
        self._pending.clear()
        self._pending_dropped = False

    def _extend_pending(self, piece: bytes) -> None:
        # One byte beyond the limit is kept so that a line of exactly max_line_bytes
        # followed by "\r" is not taken for a longer one.
        room = self._max_line_bytes + 1 - len(self._pending)
        if len(piece) > room:
            self._pending_dropped = True
        self._pending += piece[: max(room, 0)]

    def _render(self, raw: bytes, dropped: bool, complete: bool) -> str:
        return shown_line(raw, self._max_line_bytes, cut=dropped, final=complete)
