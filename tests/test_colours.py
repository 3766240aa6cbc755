"""Colour on a terminal, and only there: states and health stand out in `list`, `status`
and `top` under a pseudo-terminal; a pipe, NO_COLOR or `--no-color` get plain text,
and the columns line up either way."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time

import pytest
from conftest import CLI
from test_top import Terminal

from procclaw.cli.colours import Palette, clip, visible_len

pytestmark = pytest.mark.timeout(60)

JOBS = """\
jobs:
  web: {cmd: sleep 300, type: continuous}
  oops: {cmd: "false", type: manual}
"""
GREEN_RUNNING = "\x1b[32mrunning\x1b[0m"
RED_FAILED = "\x1b[31mfailed\x1b[0m"
GREEN_HEALTHY = "\x1b[32mhealthy\x1b[0m"
SGR = re.compile(r"\x1b\[[0-9;]*m")


def on_terminal(argv: list[str], env: dict[str, str], timeout: float = 15.0) -> str:
    """What a command prints with a pseudo-terminal as its stdout, once it has exited."""
    master, slave = os.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"{argv} still running; printed:\n{seen.decode(errors='replace')}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # every writer has closed the terminal: the command ended
                    break
                if not chunk:
                    break
                seen += chunk
        assert process.wait(timeout=5) == 0, seen.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    return seen.decode().replace("\r\n", "\n")


@pytest.fixture
def jobs(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("web", "running")
    sandbox.cli("start", "oops")
    sandbox.wait_state("oops", "failed")
    # The process check's first verdict, so that health has a colour to show.
    deadline = time.monotonic() + 15
    while sandbox.job("web").get("health") != "healthy":
        assert time.monotonic() < deadline, "web never became healthy"
        time.sleep(0.05)
    return sandbox


def assert_columns_line_up(table: str) -> None:
    """Each cell starts where its heading does, counting only what shows."""
    header, *rows = SGR.sub("", table).strip("\n").splitlines()
    starts = [match.start() for match in re.finditer(r"\S+", header)]
    for row in rows:
        for start in starts[1:]:
            assert row[start - 1] == " " and row[start] != " ", f"misaligned:\n{header}\n{row}"


def test_list_on_a_terminal_paints_states_and_health_and_keeps_columns_aligned(jobs):
    shown = on_terminal([CLI, "list"], jobs.env)
    assert GREEN_RUNNING in shown
    assert RED_FAILED in shown
    assert GREEN_HEALTHY in shown
    assert_columns_line_up(shown)


def test_status_on_a_terminal_paints_the_state_and_the_health(jobs):
    assert GREEN_RUNNING in on_terminal([CLI, "status", "web"], jobs.env)
    assert GREEN_HEALTHY in on_terminal([CLI, "status", "web"], jobs.env)
    assert RED_FAILED in on_terminal([CLI, "status", "oops"], jobs.env)


def test_a_pipe_no_color_and_the_no_color_option_get_plain_text(jobs):
    piped = jobs.cli("list", check=True).stdout
    assert "running" in piped and "\x1b[" not in piped
    assert_columns_line_up(piped)
    quiet = {**jobs.env, "NO_COLOR": "1"}
    for argv, env in (
        ([CLI, "list"], quiet),
        ([CLI, "status", "web"], quiet),
        ([CLI, "--no-color", "list"], jobs.env),
        ([CLI, "list", "--no-color"], jobs.env),
        ([CLI, "status", "--no-color", "oops"], jobs.env),
    ):
        shown = on_terminal(argv, env)
        assert "running" in shown or "failed" in shown
        assert "\x1b[" not in shown, argv


def test_an_empty_no_color_does_not_turn_colour_off(jobs):
    """no-color.org: only a value that is set and not empty counts."""
    assert GREEN_RUNNING in on_terminal([CLI, "list"], {**jobs.env, "NO_COLOR": ""})


def test_top_paints_states_unless_no_color(jobs):
    for env, painted in ((jobs.env, True), ({**jobs.env, "NO_COLOR": "1"}, False)):
        terminal = Terminal([CLI, "top", "--interval", "0.2"], env)
        try:
            drawn = terminal.read_until("oops")
            drawn = terminal.read_until(RED_FAILED if painted else "failed")
            if painted:
                assert GREEN_RUNNING in terminal.read_until(GREEN_RUNNING)
            else:
                assert "\x1b[32m" not in drawn and "\x1b[31m" not in drawn
            terminal.press("q")
            assert terminal.process.wait(10) == 0
        finally:
            terminal.close()


def test_palette_paints_only_what_needs_attention():
    paint = Palette(True)
    assert paint.state("backoff") == "\x1b[33mbackoff\x1b[0m"
    assert paint.state("stopped") == "stopped"
    assert paint.health("unhealthy: no answer") == "\x1b[31munhealthy\x1b[0m: no answer"
    assert Palette(False).state("running") == "running"
    line = "web  " + paint.state("running") + "  1234"
    assert visible_len(line) == len("web  running  1234")
    assert clip(line, 8) == "web  \x1b[32mrun\x1b[0m"
