"""A stop that waits out a grace period says so on a terminal, once a second, and leaves
only the outcome behind; a pipe and --json get the outcome alone."""

import io
import json
import os
import re
import shutil
import time

import pytest
from conftest import CLI, PROGRAMS
from test_top import Terminal

from procclaw.cli.stop_progress import StopProgress

pytestmark = pytest.mark.timeout(60)

STUBBORN = f"""\
    jobs:
      stubborn:
        type: continuous
        cmd: python3 {PROGRAMS}/ignore_term.py
        shutdown: {{grace_period: 3}}
      hushed:
        type: continuous
        cmd: sh -c "trap '' INT; echo up; while true; do sleep 1; done"
        shutdown: {{signal: SIGINT, grace_period: 2.5}}
      quick:
        type: continuous
        cmd: sleep 300
    """
ERASE = "\r\x1b[1A\x1b[J"


@pytest.fixture
def stubborn(sandbox):
    sandbox.run_jobs(STUBBORN)
    for job_id in ("stubborn", "hushed"):
        sandbox.wait_state(job_id, "running")
        sandbox.wait_output(job_id, "up")  # its signal handling is in place
    sandbox.wait_state("quick", "running")
    return sandbox


def drawn_by(env: dict[str, str], args: list[str], *texts: str) -> str:
    """What `procclaw <args>` draws on a terminal, read until each of `texts` came in
    turn; the command must then end with exit status 0."""
    terminal = Terminal([CLI, *args], env)
    try:
        for text in texts:
            drawn = terminal.read_until(text)
        assert terminal.process.wait(10) == 0
    finally:
        terminal.close()
    return drawn.replace("\r\n", "\n")


def test_a_stop_in_its_grace_period_counts_the_seconds_then_leaves_the_outcome(stubborn):
    drawn = drawn_by(
        stubborn.env,
        ["stop", "stubborn"],
        "stubborn: stopping (SIGTERM sent, 1 s of 3 s)",
        "stubborn: stopping (SIGTERM sent, 2 s of 3 s)",
        "stubborn: stopped\r\n",
    )
    # Each line is erased before the next takes its place, the last before the outcome.
    assert drawn.endswith(ERASE + "stubborn: stopped\n"), repr(drawn)
    progress = re.findall(r"stubborn: stopping \(SIGTERM sent, (\d) s of 3 s\)", drawn)
    assert progress == sorted(progress) and progress[0] == "1", repr(drawn)


def test_each_job_still_stopping_has_its_line_with_its_own_signal(stubborn):
    drawn = drawn_by(
        stubborn.env,
        ["stop", "stubborn", "hushed", "quick"],
        "quick: stopped",
        "hushed: stopping (SIGINT sent, 1 s of 2.5 s)",
        "stubborn: stopping (SIGTERM sent, 1 s of 3 s)",
        "hushed: stopped",
        "stubborn: stopped\r\n",
    )
    assert drawn.split("\x1b[J")[-1] == "stubborn: stopped\n"


def test_a_pipe_and_json_get_the_outcome_alone(stubborn):
    assert stubborn.cli("stop", "stubborn", check=True).stdout == "stubborn: stopped\n"
    stubborn.cli("start", "stubborn", check=True)
    stubborn.wait_output("stubborn", "up\nup")  # the second run ignores SIGTERM too
    drawn = drawn_by(stubborn.env, ["stop", "stubborn", "--json"], "}\r\n}")
    assert "stopping" not in drawn and "\x1b[" not in drawn
    assert json.loads(drawn)["jobs"]["stubborn"]["state"] == "stopped"


class _Screen(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Daemon:
    def call(self, cmd: str, args: dict) -> dict:
        return {"config": {"shutdown": {"signal": "SIGTERM", "grace_period": 60}}}


def test_more_jobs_than_the_terminal_has_rows_end_in_one_line_for_the_rest(monkeypatch):
    """A line scrolled off the top could not be erased."""
    monkeypatch.setattr(shutil, "get_terminal_size", lambda: os.terminal_size((80, 6)))
    screen = _Screen()
    progress = StopProgress(_Daemon(), shown=True, out=screen)
    for n in range(10):
        progress.note(f"job{n}", "stopping", {"kill_at": time.time() + 55})
    progress.due = 0.0
    monkeypatch.setattr(time, "monotonic", lambda real=time.monotonic: real() + 2)
    progress.tick()
    assert screen.getvalue().splitlines() == [
        "job0: stopping (SIGTERM sent, 5 s of 60 s)",
        "job1: stopping (SIGTERM sent, 5 s of 60 s)",
        "job2: stopping (SIGTERM sent, 5 s of 60 s)",
        "... and 7 more stopping",
    ]
    progress.note("job0", "stopped", {})
    progress.clear()
    assert screen.getvalue().endswith("\r\x1b[4A\x1b[J")
