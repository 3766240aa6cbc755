"""tests/test_job_survival.py again, with the daemon on the portable platform layer."""

# ruff: noqa: I001 (the portable sandbox is imported last, so that it wins)
from test_job_survival import *  # noqa: F403
from portable_sandbox import sandbox  # noqa: F401

# Without splice the supervisor copies output (read, then write): one killed between
# the two loses the chunk it held. Each kill may cost one gap, never a doubled or
# reordered line.
del test_kill_9_of_a_supervisor_keeps_the_job_and_loses_no_line  # noqa: F821


def test_kill_9_of_a_supervisor_keeps_the_job_and_loses_at_most_the_chunk_it_held(
    sandbox,  # noqa: F811
):
    numbers = counted_lines_across_supervisor_kills(sandbox, KILLS)  # noqa: F405
    assert numbers == sorted(set(numbers)) and numbers[0] == 0  # no duplicate, in order
    gaps = sum(1 for a, b in zip(numbers, numbers[1:], strict=False) if b != a + 1)
    assert gaps <= KILLS  # noqa: F405


# Only a subreaper learns the exit status of a job whose supervisor was dead when it
# ended: without one (macOS), init reaps it, and the run says so.
del test_a_job_that_exits_while_its_supervisor_is_dead_is_seen_with_its_exit_code  # noqa: F821


def test_a_job_that_exits_while_its_supervisor_is_dead_is_recorded_without_its_status(
    sandbox,  # noqa: F811
):
    done = job_ended_unsupervised(sandbox)  # noqa: F405
    assert done["last_exit"] == "exit status unknown (the job ended while unsupervised)"
