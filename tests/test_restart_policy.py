"""`restart: always | on-failure | never`, EX_CONFIG, and fresh counts after a start by
hand: what follows a continuous job's exit, in a real daemon."""

from conftest import wait_until

JOBS = """\
jobs:
  clean:
    type: continuous
    restart: on-failure
    cmd: sh -c 'exit 0'
  failing:
    type: continuous
    restart: on-failure
    cmd: sh -c 'exit 3'
    retry: {{delays: [0.1], max_attempts: 2}}
  misconfigured:
    type: continuous
    cmd: sh -c 'exit 78'
    retry: {{delays: [0], max_attempts: 5}}
  later:
    type: continuous
    cmd: sh -c 'test -e go || exit 1; exec sleep 300'
    cwd: {cwd}
    retry: {{delays: [0.1], max_attempts: 2}}
"""


def test_what_follows_an_exit_and_a_start_by_hand(sandbox, tmp_path):
    sandbox.run_jobs(JOBS.format(cwd=tmp_path))

    clean = sandbox.wait_state("clean", "completed", "failed")
    assert (clean["state"], clean["restarts"], clean["reason"]) == ("completed", 0, None)

    failing = sandbox.wait_state("failing", "failed")
    assert failing["restarts"] == 2
    assert failing["reason"] == "gave up after 2 restarts; last: exit code 3"

    misconfigured = sandbox.wait_state("misconfigured", "failed")
    assert misconfigured["restarts"] == 0
    assert misconfigured["reason"] == (
        "exit code 78: its configuration is wrong (EX_CONFIG); restarting will not help"
    )

    later = sandbox.wait_state("later", "failed")
    assert later["restarts"] == 2
    (tmp_path / "go").touch()
    sandbox.cli("start", "later", check=True)
    assert (sandbox.job("later")["state"], sandbox.job("later")["restarts"]) == ("running", 0)


def test_status_shows_the_last_lines_of_stdout_and_of_stderr_each_marked(sandbox):
    sandbox.run_jobs(
        "jobs:\n  both:\n    type: continuous\n"
        "    cmd: sh -c 'echo to stdout; echo to stderr >&2; exec sleep 300'\n"
    )
    job = wait_until(lambda: (job := sandbox.job("both"))["error_tail"] and job["log_tail"] and job)
    assert (job["log_tail"], job["error_tail"]) == (["to stdout"], ["to stderr"])
    shown = sandbox.cli("status", "both", check=True).stdout
    assert "\nlast lines of stdout:\n  to stdout\n\nlast lines of stderr:\n  to stderr\n" in shown
