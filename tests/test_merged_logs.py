"""`procclaw logs` of several jobs, a tag or every job: one stream, each line prefixed by
its job (in a colour of its own on a terminal), stdout and stderr together or one of
them, in time order when the jobs log with timestamps, and followed as they grow."""

import re
import subprocess
import time

import pytest
from conftest import CLI
from test_colours import on_terminal

from procclaw.cli.merged_logs import NAME_COLOURS, name_colour

pytestmark = pytest.mark.timeout(60)

TALKERS = """\
    jobs:
      a:
        cmd: sh -c 'echo a out; echo a err >&2'
        tags: [pair]
      longname:
        cmd: sh -c 'echo long out; echo long err >&2'
        tags: [pair, solo]
      quiet:
        cmd: "true"
    """
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "


@pytest.fixture
def talkers(sandbox):
    sandbox.run_jobs(TALKERS)
    for job_id in ("a", "longname", "quiet"):
        sandbox.cli("start", job_id, check=True)
        sandbox.wait_state(job_id, "completed")
    return sandbox


def test_several_jobs_show_stdout_and_stderr_each_line_prefixed_by_its_job(talkers):
    result = talkers.cli("logs", "a", "longname", check=True)
    assert result.stdout == (
        "a        | a out\na        | a err\nlongname | long out\nlongname | long err\n"
    )


def test_stdout_or_stderr_alone(talkers):
    assert talkers.cli("logs", "--tag", "pair", "--stderr", check=True).stdout == (
        "a        | a err\nlongname | long err\n"
    )
    assert talkers.cli("logs", "--tag", "pair", "--stdout", check=True).stdout == (
        "a        | a out\nlongname | long out\n"
    )


def test_a_tag_all_and_names_select_as_they_do_for_stop(talkers):
    assert talkers.cli("logs", "--tag", "solo", check=True).stdout == (
        "longname | long out\nlongname | long err\n"
    )
    assert talkers.cli("logs", "quiet", "--tag", "solo", "--stdout", check=True).stdout == (
        "longname | long out\n"
    )
    everything = talkers.cli("logs", "--all", "-n", "1", check=True).stdout.splitlines()
    assert everything == [
        "a        | a out",
        "a        | a err",
        "longname | long out",
        "longname | long err",
    ]


def test_one_job_shows_its_log_as_written(talkers):
    assert talkers.cli("logs", "a", check=True).stdout == "a out\n"
    assert talkers.cli("logs", "a", "--stderr", check=True).stdout == "a err\n"
    assert talkers.cli("logs", "a", "--stdout", check=True).stdout == "a out\n"


def test_unknown_tags_and_jobs_are_refused_in_one_line(talkers):
    result = talkers.cli("logs", "--tag", "piar")
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "",
        "procclaw: no job is tagged 'piar' (did you mean 'pair'?); tags: pair, solo\n",
    )
    result = talkers.cli("logs", "a", "lngname")
    assert (result.returncode, result.stderr) == (
        1,
        "procclaw: no job 'lngname' (did you mean 'longname'?)\n",
    )
    both = talkers.cli("logs", "a", "--stdout", "--stderr")
    assert both.returncode == 2
    assert both.stderr.startswith("procclaw: logs: --stdout or --stderr, not both\n")


def test_stamped_logs_are_merged_in_time_order(sandbox):
    sandbox.run_jobs("""\
        jobs:
          ping:
            cmd: echo ping
            log: {timestamps: true}
          pong:
            cmd: sh -c 'echo pong >&2'
            log: {timestamps: true}
        """)
    for job_id in ("ping", "pong", "ping"):  # ping, then pong, then ping again
        sandbox.cli("start", job_id, check=True)
        sandbox.wait_state(job_id, "completed")
    lines = sandbox.cli("logs", "ping", "pong", check=True).stdout.splitlines()
    assert [re.sub(STAMP, "", line) for line in lines] == [
        "ping | ping",
        "pong | pong",
        "ping | ping",
    ]


def test_follow_prints_each_jobs_new_lines_with_its_prefix(sandbox):
    sandbox.run_jobs("""\
        jobs:
          tick:
            type: continuous
            cmd: sh -c 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done'
          tock:
            type: continuous
            cmd: sh -c 'i=0; while true; do echo tock $i >&2; i=$((i+1)); sleep 0.05; done'
        """)
    sandbox.wait_state("tick", "running")
    sandbox.wait_state("tock", "running")
    follower = subprocess.Popen(
        [CLI, "logs", "tick", "tock", "-f", "-n", "0"],
        env=sandbox.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        seen = {"tick": [], "tock": []}
        deadline = time.monotonic() + 20
        while min(len(numbers) for numbers in seen.values()) < 20:
            assert time.monotonic() < deadline, seen
            line = follower.stdout.readline()
            match = re.fullmatch(r"(tick|tock) \| (tick|tock) (\d+)\n", line)
            assert match and match[1] == match[2], line  # whole lines, never two mixed
            seen[match[1]].append(int(match[3]))
        for numbers in seen.values():  # none lost or doubled
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    finally:
        follower.kill()
        follower.wait()
        follower.stdout.close()


def test_on_a_terminal_each_job_has_a_colour_of_its_own(talkers):
    shown = on_terminal([CLI, "logs", "a", "longname", "--stdout"], talkers.env)
    assert f"\x1b[{name_colour('a')}ma        |\x1b[0m a out\n" in shown
    assert f"\x1b[{name_colour('longname')}mlongname |\x1b[0m long out\n" in shown
    plain = on_terminal([CLI, "logs", "a", "longname", "--no-color"], talkers.env)
    assert "\x1b[" not in plain and "a        | a out\n" in plain


def test_a_jobs_colour_is_the_same_at_every_run_and_never_red_or_green():
    assert name_colour("api") == name_colour("api")
    assert {name_colour(f"job{n}") for n in range(200)} == set(NAME_COLOURS)
    assert not {"31", "32", "91", "92"} & {code.split(";")[0] for code in NAME_COLOURS}
