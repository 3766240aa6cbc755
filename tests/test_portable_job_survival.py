"""tests/test_job_survival.py again, with the daemon on the portable platform layer."""

# ruff: noqa: I001 (the portable sandbox is imported last, so that it wins)
from test_job_survival import *  # noqa: F403
from portable_sandbox import sandbox  # noqa: F401

# Only a subreaper learns the exit status of a job whose supervisor was dead when it
# ended: without one (macOS), init reaps it, and the run says so.
del test_a_job_that_exits_while_its_supervisor_is_dead_is_seen_with_its_exit_code  # noqa: F821


def test_a_job_that_exits_while_its_supervisor_is_dead_is_recorded_without_its_status(
    sandbox,  # noqa: F811
):
    done = job_ended_unsupervised(sandbox)  # noqa: F405
    assert done["last_exit"] == "exit status unknown (the job ended while unsupervised)"
