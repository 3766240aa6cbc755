"""`procclaw top` under a real pseudo-terminal: it draws the jobs, re-sorts, and quits on q."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

from conftest import CLI, wait_until

JOBS = f"""\
jobs:
  busy:
    cmd: {json.dumps([sys.executable, "-c", "while True: pass"])}
    type: continuous
  quiet:
    cmd: sleep 300
    type: continuous
"""


class Terminal:
    """A program on the slave side of a pty; what it draws is read from the master."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.seen = b""

    def read_until(self, text: str, timeout: float = 15.0) -> str:
        """Everything drawn so far, once `text` is among it (AssertionError if never)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never drawn; got:\n{self.seen.decode(errors='replace')}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except BlockingIOError:  # woken with nothing to read after all
                    continue
                except OSError:  # the program ended and closed its side
                    break
        return self.seen.decode(errors="replace")

    def last_screen(self) -> str:
        """The last screen drawn in whole (each ends where the next begins)."""
        try:
            self.seen += os.read(self.master, 65536)
        except OSError:  # nothing new (or the program is gone)
            pass
        screens = self.seen.decode(errors="replace").split("procclaw top")
        return screens[-2] if len(screens) > 2 else ""

    def press(self, key: str) -> None:
        os.write(self.master, key.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        os.close(self.master)


def jobs_drawn(terminal: Terminal) -> list[str]:
    """The jobs of the last screen drawn, in the order drawn (the busiest first)."""
    words = [line.split()[:1] for line in terminal.last_screen().splitlines()]
    return [word[0] for word in words if word and word[0] in ("busy", "quiet")]


def test_top_draws_the_jobs_sorts_by_memory_on_m_and_quits_on_q(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("busy", "running")
    sandbox.wait_state("quiet", "running")
    terminal = Terminal([CLI, "top", "--interval", "0.2"], sandbox.env)
    try:
        terminal.read_until("sorted by cpu")
        wait_until(lambda: jobs_drawn(terminal) == ["busy", "quiet"], timeout=15)
        terminal.press("m")
        terminal.read_until("sorted by mem")
        terminal.press("q")
        assert terminal.process.wait(10) == 0
    finally:
        terminal.close()


def test_top_without_a_terminal_says_what_to_use_instead(sandbox):
    sandbox.run_jobs(JOBS)
    result = sandbox.cli("top")
    assert result.returncode == 2
    assert result.stderr == (
        "procclaw: top needs a terminal; in scripts, use `procclaw list --json`\n"
    )
