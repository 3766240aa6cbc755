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
    stream = open(path, "rb") if path.exists() else None  # noqa: SIM115 - handed to _follow
    try:
        if stream is not None:
            out.write(last_lines(path, lines))
            out.flush()
            stream.seek(0, os.SEEK_END)
        if follow:
            _follow(path, stream, out)
    finally:
        if stream is not None:
            stream.close()
    return 0


def _follow(path: Path, stream, out) -> None:
    """Print what is appended to `path`; after rotation (a new inode), go on in the new file."""
    while True:
        chunk = stream.read(_BLOCK) if stream is not None else b""
        if chunk:
            out.write(chunk)
            out.flush()
            continue
        current = _inode(path)
        if current is not None and (stream is None or current != os.fstat(stream.fileno()).st_ino):
            if stream is not None:
                stream.close()  # everything written before the rotation was read above
            stream = open(path, "rb")  # noqa: SIM115
            continue
        time.sleep(FOLLOW_INTERVAL)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None
