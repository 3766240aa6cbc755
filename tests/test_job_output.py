"""Job output reaches its log files whole: odd bytes, floods, rotation, timestamps."""

import os
import re
import subprocess
import time

from conftest import PROGRAMS, wait_until


def test_invalid_utf8_and_partial_lines_are_logged_byte_for_byte(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          odd:
            cmd: python3 {PROGRAMS}/odd_bytes.py
        """)
    sandbox.cli("start", "odd")
    job = sandbox.wait_state("odd", "completed")
    assert sandbox.home.job_log("odd").read_bytes() == b"\xff\xfe not utf-8\nno newline at end"
    assert sandbox.home.job_log("odd", "stderr").read_bytes() == b"err \xc3\x28\n"
    assert job["last_run"]["output"][0] == "\ufffd\ufffd not utf-8"


def test_a_100_mb_burst_is_logged_completely_and_the_daemon_stays_up(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          flood:
            cmd: python3 {PROGRAMS}/flood.py
            log: {{max_bytes: 200MB}}
        """)
    controller = sandbox.actor_pid("controller")
    sandbox.cli("start", "flood")
    sandbox.wait_state("flood", "completed", timeout=60)
    log = sandbox.home.job_log("flood")
    assert log.stat().st_size == 100_000_000
    with open(log, "rb") as stream:
        assert stream.read(100) == b"x" * 99 + b"\n"
        stream.seek(-100, 2)
        assert stream.read() == b"x" * 99 + b"\n"
    assert sandbox.actor_pid("controller") == controller
    assert sandbox.client().call("ping")


def test_lines_that_come_close_together_reach_the_log_while_the_job_runs(sandbox):
    # A stream read moments ago waits a moment before its next read, so that a flood is
    # moved in big chunks: each line must still get there, without the job's exit.
    sandbox.run_jobs("""\
        jobs:
          bursts:
            cmd: >-
              python3 -u -c "import os, time;
              [(print(f'line {i:03d}'), time.sleep(0.0002)) for i in range(300)];
              os.execvp('sleep', ['sleep', '3600'])"
        """)
    sandbox.cli("start", "bursts")
    log = sandbox.home.job_log("bursts")
    wanted = "".join(f"line {i:03d}\n" for i in range(300))
    wait_until(lambda: log.exists() and log.read_text() == wanted, timeout=10)
    assert sandbox.job("bursts")["state"] == "running"


def test_a_job_stopped_in_the_middle_of_a_flood_leaves_its_supervisor_up(sandbox):
    sandbox.run_jobs("""\
        jobs:
          chatter:
            cmd: >-
              python3 -u -c "while True: print('x' * 60)"
            log: {max_bytes: 1MB, backups: 1}
        """)
    sandbox.cli("start", "chatter")
    log = sandbox.home.job_log("chatter")
    wait_until(lambda: log.exists() and log.stat().st_size > 100_000)
    supervisor = sandbox.supervisor_of("chatter")
    sandbox.cli("stop", "chatter", check=True)
    sandbox.wait_state("chatter", "stopped")
    sandbox.cli("start", "chatter", check=True)
    sandbox.wait_state("chatter", "running")
    assert sandbox.supervisor_of("chatter") == supervisor


def test_logs_rotate_by_size_and_keep_the_configured_backups(sandbox):
    sandbox.run_jobs("""\
        jobs:
          chatty:
            cmd: python3 -c "[print(f'line {i:05d}') for i in range(5000)]"
            log: {max_bytes: 10KB, backups: 3}
        """)
    sandbox.cli("start", "chatty")
    sandbox.wait_state("chatty", "completed")
    log = sandbox.home.job_log("chatty")
    files = [log.with_name(f"chatty.log.{n}") for n in (3, 2, 1)] + [log]
    # A line begun in a file is finished in it: a file may pass the limit by one line.
    assert all(path.stat().st_size <= 10 * 1024 + len("line 00000\n") for path in files)
    assert not log.with_name("chatty.log.4").exists()
    kept = b"".join(path.read_bytes() for path in files).decode().splitlines()
    assert kept == [f"line {i:05d}" for i in range(5000 - len(kept), 5000)]


def test_timestamps_prefix_each_line_when_asked(sandbox):
    sandbox.run_jobs("""\
        jobs:
          stamped:
            cmd: sh -c 'echo one; echo two'
            log: {timestamps: true}
        """)
    sandbox.cli("start", "stamped")
    sandbox.wait_state("stamped", "completed")
    lines = sandbox.home.job_log("stamped").read_text().splitlines()
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
    assert [re.sub(stamp, "", line) for line in lines] == ["one", "two"]
    assert all(re.match(stamp, line) for line in lines)


def test_logs_command_shows_the_last_lines_of_either_stream(sandbox):
    sandbox.run_jobs("""\
        jobs:
          both:
            cmd: sh -c 'for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; done'
        """)
    sandbox.cli("start", "both")
    sandbox.wait_state("both", "completed")
    out = sandbox.cli("logs", "both", "-n", "2", check=True).stdout
    assert out == "out 4\nout 5\n"
    err = sandbox.cli("logs", "both", "--stderr", "-n", "1", check=True).stdout
    assert err == "err 5\n"
    status = sandbox.cli("status", "both", check=True).stdout
    assert "out 5" in status and str(sandbox.home.job_log("both")) in status


def test_logs_follow_keeps_going_across_rotation(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          ticker:
            type: continuous
            cmd: python3 {PROGRAMS}/counter.py
            log: {{max_bytes: 4KB, backups: 1}}
        """)
    sandbox.wait_state("ticker", "running")
    follower = subprocess.Popen(
        [sandbox.cli_path(), "logs", "ticker", "-f", "-n", "0"],
        env=sandbox.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        follower.stdout.readline()  # the first may be the end of a line begun before
        seen = []
        deadline = time.monotonic() + 20
        while len(seen) < 3000 and time.monotonic() < deadline:  # ~5 rotations of 4 KB
            seen.append(int(follower.stdout.readline()))
        assert len(seen) == 3000
        assert seen == list(range(seen[0], seen[0] + len(seen)))  # no line lost or doubled
    finally:
        follower.kill()
        follower.wait()
        follower.stdout.close()
    wait_until(lambda: sandbox.home.job_log("ticker").with_name("ticker.log.1").exists())


def test_a_job_that_prints_nothing_has_no_log_file_until_it_prints(sandbox):
    go = sandbox.home.root / "go"
    os.mkfifo(go)
    sandbox.run_jobs(f"""\
        jobs:
          quiet:
            cmd: sh -c 'read word < {go}; echo $word; exec sleep 60'
        """)
    sandbox.cli("start", "quiet", check=True)
    sandbox.wait_state("quiet", "running")
    log = sandbox.home.job_log("quiet")
    assert not log.exists() and not sandbox.home.job_log("quiet", "stderr").exists()
    shown = sandbox.cli("logs", "quiet", check=True).stdout
    assert shown.startswith("quiet: no output yet")
    with open(go, "w") as fifo:  # returns once the job reads
        fifo.write("spoke\n")
    sandbox.wait_output("quiet", "spoke")
    assert sandbox.cli("logs", "quiet", check=True).stdout == "spoke\n"
    assert not sandbox.home.job_log("quiet", "stderr").exists()


def test_a_run_that_printed_nothing_leaves_no_log_file_after_it_ends(sandbox):
    sandbox.run_jobs("jobs:\n  silent:\n    cmd: 'true'\n")
    sandbox.cli("start", "silent", check=True)
    sandbox.wait_state("silent", "completed")
    assert not sandbox.home.job_log("silent").exists()
    assert not sandbox.home.job_log("silent", "stderr").exists()
    assert sandbox.cli("logs", "silent", check=True).stdout.startswith("silent: no output yet")
