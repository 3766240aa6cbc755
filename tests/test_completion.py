"""Tab completion in bash, zsh and fish, each run for real: commands, subcommands and
options as the usage texts give them, and job ids and tags from jobs.yaml with no daemon
running; a broken jobs.yaml completes no id and prints nothing."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess

import pytest
from test_top import Terminal

from procclaw.cli import main
from procclaw.cli.command_words import places

pytestmark = pytest.mark.timeout(60)

JOBS = """\
jobs:
  web: {cmd: sleep 300, type: continuous, tags: [front]}
  worker: {cmd: sleep 300, type: continuous, tags: [back]}
  db: {cmd: sleep 300, type: continuous, tags: [back, store]}
"""
BROKEN = "jobs:\n  web: {cmd: [unclosed\n"

# Type the words, complete the last one; print what the completion offers, sorted.
BASH = """\
source <(procclaw completion bash) || exit 1
[[ $(complete -p procclaw) == "complete -F _procclaw procclaw" ]] || exit 1
offer() {
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
    _procclaw
    printf '%s\\n' "${COMPREPLY[@]}" | sort | paste -sd' '
}
"""


@pytest.fixture
def jobs(sandbox):
    sandbox.write("jobs.yaml", JOBS)
    return sandbox


def bash_offers(sandbox, *words: str) -> str:
    quoted = " ".join(f"'{word}'" for word in words)
    result = subprocess.run(
        ["bash", "-c", BASH + f"offer {quoted}"],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 0 and result.stderr == "", result
    return result.stdout.strip()


def test_the_words_come_from_every_command_usage_text():
    found = places()
    assert set(main.COMMANDS) <= found[""].words
    assert {"--help", "--version"} <= found[""].options
    assert found["daemon"].words == {"start", "stop", "status", "logs"}
    assert found["daemon start"].options == {"-f"}
    assert found["completion"].words == {"bash", "zsh", "fish"}
    assert found["events"].job_options == {"--job"}
    assert found["stop"].tag_options == found["logs"].tag_options == {"--tag"}
    assert found["stop"].jobs and not found["list"].jobs
    # Every option a command's Options section describes is offered somewhere.
    for module_name in set(main.COMMANDS.values()):
        usage = importlib.import_module(f"procclaw.cli.{module_name}").USAGE
        described = set(re.findall(r"^  (--?[\w-]+)", usage.partition("Options:")[2], re.M))
        offered = set().union(*(place.options for place in found.values()))
        assert described <= offered, module_name


def test_ids_and_tags_come_from_jobs_yaml_without_a_daemon(jobs):
    result = jobs.cli("completion", "--ids", check=True)
    assert result.stdout.split() == ["web", "worker", "db"]
    assert jobs.cli("completion", "--tags", check=True).stdout.split() == [
        "front",
        "back",
        "store",
    ]


def test_ids_of_jobs_added_at_run_time_come_from_jobs_d(jobs):
    jobs.cli("add", "report", "--cmd", "echo hi", check=True)
    result = jobs.cli("completion", "--ids", check=True)
    assert result.stdout.split() == ["web", "worker", "db", "report"]
    assert bash_offers(jobs, "procclaw", "remove", "rep") == "report"


@pytest.mark.parametrize("config", [BROKEN, "jobs: [a, b]\n", None])
def test_a_broken_or_missing_config_completes_no_id_and_says_nothing(sandbox, config):
    if config is not None:
        sandbox.write("jobs.yaml", config)
    for kind in ("--ids", "--tags"):
        result = sandbox.cli("completion", kind)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert bash_offers(sandbox, "procclaw", "start", "") == ""


def test_bash_completes_commands_subcommands_options_and_job_ids(jobs):
    assert bash_offers(jobs, "procclaw", "st") == "start status stop"
    assert bash_offers(jobs, "procclaw", "daemon", "") == "logs start status stop"
    assert (
        bash_offers(jobs, "procclaw", "stop", "--")
        == "--all --force --help --json --no-color --tag --timeout"
    )
    assert bash_offers(jobs, "procclaw", "restart", "w") == "web worker"
    assert bash_offers(jobs, "procclaw", "--no-color", "logs", "d") == "db"
    assert bash_offers(jobs, "procclaw", "events", "--job", "w") == "web worker"
    assert bash_offers(jobs, "procclaw", "events", "--job", "=", "d") == "db"
    assert bash_offers(jobs, "procclaw", "completion", "") == "bash fish zsh"
    assert bash_offers(jobs, "procclaw", "stop", "--tag", "") == "back front store"
    assert bash_offers(jobs, "procclaw", "logs", "web", "--tag", "=", "s") == "store"
    assert bash_offers(jobs, "procclaw", "list", "") == ""  # list takes no job


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_completes_commands_options_and_job_ids(jobs):
    lines = [
        "procclaw st",
        "procclaw daemon ",
        "procclaw stop --f",
        "procclaw status w",
        "procclaw events --job=d",
        "procclaw restart --tag=s",
        "procclaw logs --tag b",
    ]
    script = "procclaw completion fish | source\n" + "".join(
        f"complete -C '{line}' | sort | string join ' '\n" for line in lines
    )
    result = subprocess.run(
        ["fish", "--no-config", "-c", script],
        env=jobs.env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "start status stop",
        "logs start status stop",
        "--force",
        "web worker",
        "--job=db",
        "--tag=store",
        "back",
    ]


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_completes_commands_options_and_job_ids_at_a_real_prompt(jobs):
    env = {**jobs.env, "TERM": "xterm", "PS1": "> "}
    terminal = Terminal(["zsh", "-f", "-i"], env)
    try:
        terminal.press(
            "autoload -U compinit && compinit -u -D"
            " && source <(procclaw completion zsh) && echo LOADED\n"
        )
        terminal.read_until("LOADED\r\n")
        for typed, shown in (
            ("procclaw daemon sta\t", "start   status"),  # ambiguous: listed
            # Completed in place (zsh draws the space after it apart).
            ("procclaw --no-color sec\t", "procclaw --no-color secret"),
            ("procclaw stop --fo\t", "procclaw stop --force"),
            ("procclaw status d\t", "procclaw status db"),
            ("procclaw events --job=wo\t", "procclaw events --job=worker"),
            ("procclaw stop --tag=fr\t", "procclaw stop --tag=front"),
            ("procclaw logs --tag st\t", "procclaw logs --tag store"),
        ):
            terminal.press(typed)
            terminal.read_until(shown)
            terminal.press("\x15")  # Ctrl-U: the line emptied for the next
    finally:
        terminal.close()
