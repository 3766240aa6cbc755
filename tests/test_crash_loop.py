"""A job that cannot start does not restart hundreds of times a second: after five
quick exits in a row it backs off, even with `delay: 0`, and its status says why."""

import re

from conftest import wait_until

from procclaw.rules.after_exit import QUICK_EXITS

JOBS = """\
jobs:
  broken:
    type: continuous
    cmd: "false"
    retry: {preset: fixed, delay: 0}
"""


def test_a_crash_loop_backs_off_and_status_counts_every_restart(sandbox):
    sandbox.run_jobs(JOBS)
    job = wait_until(
        lambda: (
            (job := sandbox.job("broken"))["reason"]
            and job["reason"].startswith("crash loop")
            and job
        ),
        timeout=15,
    )
    times = int(re.search(r"starting (\d+) times in a row", job["reason"]).group(1))
    assert times >= QUICK_EXITS
    assert job["state"] in ("backoff", "starting", "running")
    assert job["restarts"] == times  # the count is the truth, not thousands behind
