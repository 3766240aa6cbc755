"""LogWriter and OutputTail, on a tmp_path and a fake clock; nothing here sleeps."""

from __future__ import annotations

import errno
import logging
import os
import random
import re
import shutil
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from actors.supervisor import log_writer
from actors.supervisor.log_writer import LogWriter, OutputTail
from procclaw.platform import current

T0 = datetime(2026, 11, 22, 10, 15, 2, 113000, tzinfo=UTC).timestamp()
T0_PREFIX = b"2026-11-22T10:15:02.113Z "
ANY_PREFIX = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


class FakeClock:
    """A wall clock that moves only when a test says so (or by `step` per reading)."""

    def __init__(self, now: float = T0, step: float = 0.0) -> None:
        self.now = now
        self.step = step

    def __call__(self) -> float:
        now = self.now
        self.now += self.step
        return now


MakeWriter = Callable[..., LogWriter]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "job.log"


@pytest.fixture
def make_writer(log_path: Path) -> Iterator[MakeWriter]:
    writers: list[LogWriter] = []

    def make(
        max_bytes: int = 1 << 20,
        backups: int = 3,
        timestamps: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> LogWriter:
        writer = LogWriter(log_path, max_bytes, backups, timestamps, clock or FakeClock())
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        writer.close()


def numbered(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}") if number else path


def log_files(path: Path, backups: int) -> list[Path]:
    """The existing log files, oldest first: `.N` .. `.1`, then the current one."""
    candidates = [numbered(path, number) for number in range(backups, -1, -1)]
    return [candidate for candidate in candidates if candidate.exists()]


def everything_logged(path: Path, backups: int) -> bytes:
    return b"".join(file.read_bytes() for file in log_files(path, backups))


def without_timestamps(logged: bytes) -> bytes:
    """`logged` with the prefix of every line start removed; fails if one is missing."""
    *lines, last = logged.split(b"\n")
    stripped = []
    for line in lines + ([last] if last else []):
        assert ANY_PREFIX.match(line), f"line without a timestamp: {line[:60]!r}"
        stripped.append(line[len(T0_PREFIX) :])
    return b"\n".join(stripped + ([] if last else [b""]))


# ---- writing ----------------------------------------------------------------------------


def test_appends_to_an_existing_file_and_keeps_what_was_there(make_writer, log_path):
    log_path.parent.mkdir()
    log_path.write_bytes(b"from the last run\n")
    writer = make_writer()
    writer.write(b"one\n")
    writer.write(b"two\n")
    assert log_path.read_bytes() == b"from the last run\none\ntwo\n"
    assert writer.path == log_path


def test_a_partial_line_is_on_disk_as_soon_as_write_returns(make_writer, log_path):
    writer = make_writer()
    writer.write(b"half a li")
    assert log_path.read_bytes() == b"half a li"
    writer.write(b"ne\n")
    assert log_path.read_bytes() == b"half a line\n"


def test_a_missing_log_directory_is_created_at_open(make_writer, log_path):
    make_writer().write(b"x")
    assert log_path.read_bytes() == b"x"


@pytest.mark.parametrize("timestamps", [False, True])
def test_invalid_utf8_is_written_unchanged(make_writer, log_path, timestamps):
    garbage = b"\xff\xfe caf\xc3 \xe2\x82\n\x80tail"
    writer = make_writer(timestamps=timestamps)
    writer.write(garbage[:5])
    writer.write(garbage[5:])
    expected = garbage.replace(b"\n", b"\n" + T0_PREFIX)
    assert log_path.read_bytes() == (T0_PREFIX + expected if timestamps else garbage)


def test_short_writes_are_continued_until_every_byte_is_written(make_writer, log_path, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(log_writer.os, "write", lambda fd, data: real_write(fd, data[:3]))
    make_writer().write(b"a line longer than three bytes\n")
    monkeypatch.undo()
    assert log_path.read_bytes() == b"a line longer than three bytes\n"


def test_a_write_after_close_reopens_the_file(make_writer, log_path):
    writer = make_writer()
    writer.write(b"before\n")
    writer.close()
    writer.close()
    writer.write(b"after\n")
    assert log_path.read_bytes() == b"before\nafter\n"


# ---- errors -----------------------------------------------------------------------------


def test_a_failing_disk_drops_the_chunk_warns_once_per_errno_and_recovers(
    make_writer, log_path, monkeypatch, caplog
):
    writer = make_writer()
    writer.write(b"kept 1\n")

    def fail_with(code: int) -> None:
        def failing_write(fd: int, data: bytes) -> int:
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(log_writer.os, "write", failing_write)

    with caplog.at_level(logging.WARNING, logger=log_writer.__name__):
        fail_with(errno.ENOSPC)
        writer.write(b"lost 1\n")
        writer.write(b"lost 2\n")
        fail_with(errno.EIO)
        writer.write(b"lost 3\n")
        assert writer.trouble is not None
        assert writer.trouble.text().startswith("disk full since ")
        assert writer.trouble.text().endswith(", 21 bytes dropped")
        monkeypatch.undo()
        writer.write(b"kept 2\n")

    assert log_path.read_bytes() == b"kept 1\nkept 2\n"
    assert writer.trouble is None
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 3
    assert "ENOSPC" in warnings[0] and str(log_path) in warnings[0]
    assert "EIO" in warnings[1]
    assert "written again, after disk full since " in warnings[2]
    assert warnings[2].endswith(", 21 bytes dropped")


def test_an_unopenable_log_does_not_raise_and_is_retried_on_write(tmp_path, caplog):
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the log directory should be")
    path = blocker / "job.log"
    with caplog.at_level(logging.WARNING, logger=log_writer.__name__):
        writer = LogWriter(path, 1000, 1, False)
        writer.write(b"lost\n")
    assert len(caplog.records) == 1

    blocker.unlink()
    writer.write(b"kept\n")
    writer.close()
    assert path.read_bytes() == b"kept\n"


# ---- timestamps -------------------------------------------------------------------------


def test_timestamps_prefix_every_line_start_in_utc_with_milliseconds(make_writer, log_path):
    make_writer(timestamps=True).write(b"one\ntwo\n\nfour\n")
    expected = b"".join(T0_PREFIX + line for line in (b"one\n", b"two\n", b"\n", b"four\n"))
    assert log_path.read_bytes() == expected


def test_a_line_split_across_chunks_gets_one_timestamp_from_the_chunk_that_started_it(
    make_writer, log_path
):
    clock = FakeClock()
    writer = make_writer(timestamps=True, clock=clock)
    writer.write(b"sta")
    clock.now += 1
    writer.write(b"rted early\nnext")
    clock.now += 1
    writer.write(b" line\n")
    assert log_path.read_bytes() == (
        T0_PREFIX + b"started early\n" + b"2026-11-22T10:15:03.113Z next line\n"
    )


def test_a_line_after_a_chunk_ending_in_a_newline_gets_the_next_chunks_time(make_writer, log_path):
    clock = FakeClock()
    writer = make_writer(timestamps=True, clock=clock)
    writer.write(b"first\n")
    clock.now += 60
    writer.write(b"second\n")
    assert log_path.read_bytes() == (T0_PREFIX + b"first\n" + b"2026-11-22T10:16:02.113Z second\n")


def test_milliseconds_that_round_up_carry_into_the_seconds(make_writer, log_path):
    just_before = datetime(2026, 12, 31, 23, 59, 59, 999600, tzinfo=UTC).timestamp()
    make_writer(timestamps=True, clock=FakeClock(just_before)).write(b"x\n")
    assert log_path.read_bytes() == b"2027-01-01T00:00:00.000Z x\n"


# ---- rotation ---------------------------------------------------------------------------


def test_rotation_keeps_backups_with_the_newest_in_path_and_the_previous_in_dot_one(
    make_writer, log_path
):
    writer = make_writer(max_bytes=10, backups=2)
    for line in (b"first!!!\n", b"second!!\n", b"third!!!\n", b"fourth!!\n"):
        writer.write(line)
    assert log_path.read_bytes() == b"fourth!!\n"
    assert numbered(log_path, 1).read_bytes() == b"third!!!\n"
    assert numbered(log_path, 2).read_bytes() == b"second!!\n"
    assert not numbered(log_path, 3).exists()


def test_rotation_cuts_after_the_last_newline_that_still_fits(make_writer, log_path):
    writer = make_writer(max_bytes=20, backups=1)
    writer.write(b"0123456789\n")
    writer.write(b"abc\ndef\nghijkl\n")
    assert numbered(log_path, 1).read_bytes() == b"0123456789\nabc\ndef\n"
    assert log_path.read_bytes() == b"ghijkl\n"


def test_a_line_that_does_not_fit_starts_in_the_next_file(make_writer, log_path):
    writer = make_writer(max_bytes=20, backups=1)
    writer.write(b"0123456789\n")
    writer.write(b"a line of 19 bytes\n")
    assert numbered(log_path, 1).read_bytes() == b"0123456789\n"
    assert log_path.read_bytes() == b"a line of 19 bytes\n"


def test_a_line_longer_than_max_bytes_is_split_where_the_limit_falls(make_writer, log_path):
    writer = make_writer(max_bytes=10, backups=5)
    writer.write(b"short\n")
    writer.write(b"a line of twenty-four b\nend\n")
    files = [file.read_bytes() for file in log_files(log_path, 5)]
    assert files == [b"short\n", b"a line of ", b"twenty-fou", b"r b\nend\n"]


def test_a_chunk_larger_than_max_bytes_is_written_in_max_bytes_pieces(make_writer, log_path):
    chunk = bytes(range(256)).replace(b"\n", b"") * 4
    writer = make_writer(max_bytes=100, backups=20)
    writer.write(chunk)
    files = [file.read_bytes() for file in log_files(log_path, 20)]
    assert b"".join(files) == chunk
    assert [len(content) for content in files] == [100] * (len(chunk) // 100) + [len(chunk) % 100]


def test_rotation_drops_only_the_oldest_backup(make_writer, log_path):
    writer = make_writer(max_bytes=4, backups=2)
    for line in (b"aaa\n", b"bbb\n", b"ccc\n", b"ddd\n", b"eee\n"):
        writer.write(line)
    assert [file.read_bytes() for file in log_files(log_path, 5)] == [b"ccc\n", b"ddd\n", b"eee\n"]


def test_zero_backups_truncates_the_file_instead_of_keeping_one(make_writer, log_path):
    writer = make_writer(max_bytes=10, backups=0)
    writer.write(b"old line\n")
    writer.write(b"new line\n")
    assert log_path.read_bytes() == b"new line\n"
    assert list(log_path.parent.iterdir()) == [log_path]


def test_an_existing_files_size_counts_toward_the_first_rotation(make_writer, log_path):
    log_path.parent.mkdir()
    log_path.write_bytes(b"from before\n")
    writer = make_writer(max_bytes=20, backups=1)
    writer.write(b"new line\n")
    assert numbered(log_path, 1).read_bytes() == b"from before\n"
    assert log_path.read_bytes() == b"new line\n"


def test_an_existing_file_over_max_bytes_is_rotated_on_the_first_write(make_writer, log_path):
    log_path.parent.mkdir()
    log_path.write_bytes(b"x" * 50)
    make_writer(max_bytes=20, backups=1).write(b"y\n")
    assert numbered(log_path, 1).read_bytes() == b"x" * 50
    assert log_path.read_bytes() == b"y\n"


@pytest.mark.parametrize("deleted", ["directory", "file"])
def test_a_deleted_log_is_recreated_on_the_next_rotation(make_writer, log_path, deleted):
    writer = make_writer(max_bytes=10, backups=1)
    writer.write(b"12345\n")
    if deleted == "directory":
        shutil.rmtree(log_path.parent)
    else:
        log_path.unlink()
    writer.write(b"abcdefgh\n")
    assert log_path.read_bytes() == b"abcdefgh\n"


def random_chunks(rng: random.Random, count: int) -> Iterator[bytes]:
    """Mostly short chunks of arbitrary bytes, a few longer than max_bytes."""
    for _ in range(count):
        size = rng.randrange(4096, 12_000) if rng.random() < 0.003 else rng.randrange(100)
        chunk = bytearray(rng.randbytes(size))
        # More newlines than random bytes have (1 in 256), so that most lines fit a file.
        for _ in range(rng.randrange(4) if size else 0):
            chunk[rng.randrange(size)] = ord("\n")
        yield bytes(chunk)


@pytest.mark.parametrize("timestamps", [False, True])
def test_no_byte_is_lost_or_doubled_over_10000_random_chunks(make_writer, log_path, timestamps):
    max_bytes, backups = 4096, 400
    writer = make_writer(max_bytes, backups, timestamps, FakeClock(step=0.0371))
    given = []
    for chunk in random_chunks(random.Random(20261122), 10_000):
        writer.write(chunk)
        given.append(chunk)
    writer.close()

    files = log_files(log_path, backups)
    assert 100 < len(files) < backups, "the test should rotate a lot and drop nothing"
    # A line begun in a file is finished there, so a file may pass max_bytes by one line.
    assert all(file.stat().st_size <= 2 * max_bytes for file in files)
    logged = everything_logged(log_path, backups)
    assert (without_timestamps(logged) if timestamps else logged) == b"".join(given)


# ---- OutputTail -------------------------------------------------------------------------


def test_tail_keeps_the_last_max_lines_lines():
    tail = OutputTail(max_lines=3)
    for number in range(10):
        tail.feed(f"line {number}\n".encode())
    assert tail.lines() == ["line 7", "line 8", "line 9"]


def test_tail_joins_a_line_split_across_chunks_and_shows_the_unfinished_one():
    tail = OutputTail()
    tail.feed(b"hel")
    assert tail.lines() == ["hel"]
    tail.feed(b"lo\nwor")
    assert tail.lines() == ["hello", "wor"]
    tail.feed(b"ld\n")
    assert tail.lines() == ["hello", "world"]


def test_tail_counts_the_unfinished_line_among_the_last_max_lines():
    tail = OutputTail(max_lines=2)
    tail.feed(b"a\nb\nc")
    assert tail.lines() == ["b", "c"]


@pytest.mark.parametrize(
    ("unfinished", "expected"), [(b"", ["997", "998", "999"]), (b"rest", ["998", "999", "rest"])]
)
def test_tail_keeps_the_last_lines_of_a_chunk_with_many_more_lines_than_it_keeps(
    unfinished, expected
):
    tail = OutputTail(max_lines=3)
    tail.feed(b"pending ")
    tail.feed(b"".join(f"{number}\n".encode() for number in range(1000)) + unfinished)
    assert tail.lines() == expected


def test_tail_strips_crlf_even_when_split_between_cr_and_lf():
    tail = OutputTail()
    tail.feed(b"dos\r\nsplit\r")
    assert tail.lines() == ["dos", "split"]
    tail.feed(b"\nnext\r\n")
    assert tail.lines() == ["dos", "split", "next"]


def test_tail_truncates_long_lines_with_an_ellipsis():
    tail = OutputTail(max_line_bytes=8)
    tail.feed(b"exactly8\r\n" + b"nine byte\n" + b"0123")
    tail.feed(b"456789 unfinished")
    assert tail.lines() == ["exactly8", "nine byt…", "01234567…"]


def test_tail_memory_stays_bounded_for_an_endless_line():
    tail = OutputTail(max_lines=10, max_line_bytes=1024)
    chunk = b"x" * 65536
    tracemalloc.start()
    try:
        for _ in range(200):
            tail.feed(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert tail.lines() == ["x" * 1024 + "…"]


def test_tail_replaces_invalid_utf8():
    tail = OutputTail()
    tail.feed(b"caf\xc3\xa9 \xff\xfe ok\n")
    assert tail.lines() == ["café \ufffd\ufffd ok"]


def test_tail_does_not_show_half_a_character_cut_by_truncation():
    tail = OutputTail(max_line_bytes=5)
    tail.feed("abcd€uro\n".encode())
    assert tail.lines() == ["abcd…"]


def test_tail_completes_a_character_split_across_chunks():
    tail = OutputTail()
    euro = "€".encode()
    tail.feed(b"price: 5" + euro[:1])
    assert tail.lines() == ["price: 5"]
    tail.feed(euro[1:] + b"\n")
    assert tail.lines() == ["price: 5€"]


def test_tail_clear_forgets_everything():
    tail = OutputTail()
    tail.feed(b"one\ntw")
    tail.clear()
    assert tail.lines() == []
    tail.feed(b"o\n")
    assert tail.lines() == ["o"]


def test_tail_agrees_with_splitting_the_whole_output_for_random_chunking():
    rng = random.Random(7)
    max_lines, max_line_bytes = 5, 12
    alphabet = b"abc \r\n\n"
    output = bytes(rng.choice(alphabet) for _ in range(20_000))
    tail = OutputTail(max_lines, max_line_bytes)
    position = 0
    while position < len(output):
        size = rng.randrange(60)
        tail.feed(output[position : position + size])
        position += size

    *complete, unfinished = output.decode().split("\n")
    expected = [
        line[:max_line_bytes] + "…" if len(line) > max_line_bytes else line
        for line in (line.removesuffix("\r") for line in complete + [unfinished])
    ]
    assert tail.lines() == (expected if unfinished else expected[:-1])[-max_lines:]


def test_splice_moves_pipe_data_into_the_log_and_returns_it_for_the_tail(make_writer, log_path):
    writer = make_writer(max_bytes=1000, backups=2)
    reader, writer_end = os.pipe()
    os.set_blocking(reader, False)
    os.write(writer_end, b"line one\nline two\nline three\n")
    moved = []
    while chunk := writer.splice_from(reader, 10):
        moved.append(chunk)
    assert b"".join(moved) == b"line one\nline two\nline three\n"
    assert log_path.read_bytes() == b"line one\nline two\nline three\n"
    assert writer.splice_from(reader, 10) == b""  # empty pipe
    # A chunk that might cross max_bytes is left to write(), which cuts at a line end.
    assert writer.splice_from(reader, 1000) is None
    os.close(reader)
    os.close(writer_end)


CAN_SPLICE = pytest.mark.skipif(
    not current().can_splice, reason="no splice(2) on this platform: write() only"
)


@CAN_SPLICE
def test_an_empty_pipe_makes_no_file(make_writer, log_path):
    """A run that printed nothing is drained at its exit: that look makes no file."""
    writer = make_writer()
    reader, writer_end = os.pipe()
    os.set_blocking(reader, False)
    assert writer.splice_from(reader, 100) == b""
    assert not log_path.exists()
    os.close(reader)
    os.close(writer_end)


@CAN_SPLICE
def test_a_log_that_cannot_be_made_is_reported_by_the_write_that_follows(tmp_path, caplog):
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the log directory should be")
    writer = LogWriter(blocker / "job.log", 1000, 1, False)
    reader, writer_end = os.pipe()
    os.set_blocking(reader, False)
    os.write(writer_end, b"lost\n")
    with caplog.at_level(logging.WARNING, logger=log_writer.__name__):
        assert writer.splice_from(reader, 100) is None  # the caller reads, then writes
        writer.write(os.read(reader, 100))
    [warning] = [record.getMessage() for record in caplog.records]
    assert "cannot write the log; dropping output" in warning
    assert writer.trouble is not None and writer.trouble.dropped == 5
    os.close(reader)
    os.close(writer_end)


def test_splice_is_not_used_when_lines_get_timestamps(make_writer):
    writer = make_writer(max_bytes=1000, backups=1, timestamps=True)
    reader, writer_end = os.pipe()
    assert writer.splice_from(reader, 100) is None
    os.close(reader)
    os.close(writer_end)


def test_a_line_begun_in_one_chunk_is_finished_in_the_same_file(make_writer, log_path):
    writer = make_writer(max_bytes=20, backups=2)
    writer.write(b"first line\nsecond")  # 17 bytes; "second" is unfinished
    writer.write(b" half\nthird\n")  # would pass 20 bytes: finish the line, then rotate
    assert numbered(log_path, 1).read_bytes() == b"first line\nsecond half\n"
    assert log_path.read_bytes() == b"third\n"


def test_a_line_that_exactly_fills_the_file_is_still_finished_there(make_writer, log_path):
    writer = make_writer(max_bytes=10, backups=2)
    writer.write(b"0123456789")  # exactly full, inside a line
    writer.write(b"ab\ncd\n")
    assert numbered(log_path, 1).read_bytes() == b"0123456789ab\n"
    assert log_path.read_bytes() == b"cd\n"


def test_a_log_emptied_from_outside_is_written_at_its_new_end(make_writer, log_path):
    writer = make_writer(max_bytes=1000, backups=1)
    writer.write(b"before\n")
    log_path.write_bytes(b"")  # like `: > job.log` or copytruncate
    writer.write(b"after\n")
    assert log_path.read_bytes() == b"after\n"


def test_the_file_is_made_at_the_first_output_not_before(make_writer, log_path):
    writer = make_writer()
    assert not log_path.exists() and writer.trouble is None
    writer.write(b"first\n")
    assert log_path.read_bytes() == b"first\n"
    assert log_path.stat().st_mode & 0o777 == 0o600
