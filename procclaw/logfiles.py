"""Reading log files: their last lines, and following them as they grow and rotate."""

from __future__ import annotations

import codecs
import os
import sys
import time
from pathlib import Path

# `-f` looks for new data this often. The CLI is a viewer, not an actor: like `tail -f`,
# it may poll.
FOLLOW_INTERVAL = 0.2
_BLOCK = 65536
# What a line of output may take in `status` and in a run's record.
TAIL_LINE_BYTES = 1024


def last_lines(path: Path, count: int, limit: int = 1 << 20) -> bytes:
    """The last `count` lines of `path`, read backwards from its end.

    Reads at most `limit` bytes: a log of one endless line costs no more than that.
    """
    if count <= 0:
        return b""
    blocks: list[bytes] = []
    newlines = 0
    with open(path, "rb") as stream:
        end = position = stream.seek(0, os.SEEK_END)
        while position > 0 and newlines <= count and end - position < limit:
            step = min(_BLOCK, position)
            position -= step
            stream.seek(position)
            block = stream.read(step)
            blocks.append(block)
            newlines += block.count(b"\n")
    data = b"".join(reversed(blocks))
    return b"".join(data.splitlines(keepends=True)[-count:])


def last_lines_text(path: Path, count: int, max_line_bytes: int | None = None) -> list[str]:
    """The last lines of a log as text; empty if there is no log yet.

    With `max_line_bytes` (what `status` shows), a longer line is cut and marked: one
    line of a megabyte must not make the reply too large to send.
    """
    try:
        data = last_lines(path, count)
    except FileNotFoundError:
        return []
    if max_line_bytes is None:
        return data.decode(errors="replace").splitlines()
    return [shown_line(raw, max_line_bytes) for raw in data.splitlines()]


def shown_line(raw: bytes, max_bytes: int, *, cut: bool = False, final: bool = True) -> str:
    """A line of output as text, at most `max_bytes` of it, then `…` if anything was
    cut (here, or before, as `cut` says). A character cut in half (by the cut, or
    unfinished in a line still being written, `final=False`) is left out rather than
    shown as a replacement character."""
    raw = raw.removesuffix(b"\r")
    truncated = cut or len(raw) > max_bytes
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(raw[:max_bytes], final=final and not truncated)
    return text + "…" if truncated else text


def show_file(path: Path, lines: int, follow: bool) -> int:
    out = sys.stdout.buffer
    if not path.exists() and not follow:
        print(f"procclaw: {path} does not exist yet", file=sys.stderr)
        return 1
    followed = FollowedFile(path)  # open before the tail is read: nothing falls between
    try:
        if followed.opened:
            out.write(last_lines(path, lines))
            out.flush()
        followed.skip_to_end()
        while follow:
            chunk = followed.read()
            if chunk:
                out.write(chunk)
                out.flush()
            else:
                time.sleep(FOLLOW_INTERVAL)
    finally:
        followed.close()
    return 0


class FollowedFile:
    """A log file read as it grows; after rotation (a new inode) the new file, once the
    old one was read to its end. A file that does not exist yet is read once it does."""

    def __init__(self, path: Path):
        self.path = path
        self._stream = open(path, "rb") if path.exists() else None  # noqa: SIM115 - kept

    @property
    def opened(self) -> bool:
        return self._stream is not None

    def skip_to_end(self) -> None:
        if self._stream is not None:
            self._stream.seek(0, os.SEEK_END)

    def read(self) -> bytes:
        """What was appended since the last read (at most a block); b"" when nothing was."""
        while True:
            chunk = self._stream.read(_BLOCK) if self._stream is not None else b""
            if chunk:
                return chunk
            current = _inode(self.path)
            if current is None or (
                self._stream is not None and current == os.fstat(self._stream.fileno()).st_ino
            ):
                return b""
            if self._stream is not None:
                self._stream.close()  # everything written before the rotation was read above
            self._stream = open(self.path, "rb")  # noqa: SIM115 - kept

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None
