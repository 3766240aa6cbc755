"""Reading the end of a log file."""

from procclaw.logfiles import last_lines, last_lines_text


def test_last_lines_reads_the_end_only(tmp_path):
    log = tmp_path / "job.log"
    log.write_bytes(b"".join(b"line %d\n" % i for i in range(100_000)))
    assert last_lines(log, 3) == b"line 99997\nline 99998\nline 99999\n"


def test_an_unfinished_last_line_counts_as_a_line(tmp_path):
    log = tmp_path / "job.log"
    log.write_bytes(b"one\ntwo")
    assert last_lines(log, 1) == b"two"
    assert last_lines(log, 5) == b"one\ntwo"


def test_one_endless_line_costs_no_more_than_the_limit(tmp_path):
    log = tmp_path / "job.log"
    log.write_bytes(b"a" * 5_000_000)
    assert len(last_lines(log, 10, limit=1 << 20)) <= (1 << 20) + 65536


def test_a_missing_log_has_no_lines(tmp_path):
    assert last_lines_text(tmp_path / "nope.log", 10) == []
