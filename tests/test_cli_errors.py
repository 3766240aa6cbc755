"""Bad CLI use gets one clear line and a non-zero exit, fast, and touches nothing."""

import os
import signal
import subprocess
import time

import pytest


@pytest.mark.parametrize(
    "args",
    [("list",), ("status", "api"), ("daemon", "stop"), ("daemon", "status")],
)
def test_commands_against_a_stopped_daemon_fail_clearly_within_three_seconds(sandbox, args):
    started = time.monotonic()
    result = sandbox.cli(*args, timeout=10)
    assert time.monotonic() - started < 3.0
    assert result.returncode != 0
    assert "daemon not running" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_command_suggests_the_nearest(sandbox):
    result = sandbox.cli("lsit")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "procclaw: unknown command 'lsit' (did you mean 'list'?); see `procclaw --help`"
    )


def test_bad_arguments_print_the_usage_and_exit_two(sandbox):
    result = sandbox.cli("daemon", "strat")
    assert result.returncode == 2
    assert "Usage:" in result.stderr


@pytest.mark.parametrize("count", ["many", "²", "9" * 5000], ids=["word", "superscript", "huge"])
def test_bad_numbers_are_refused_with_the_option_named(sandbox, count):
    result = sandbox.cli("daemon", "logs", "-n", count)
    assert (result.returncode, result.stderr.strip()) == (
        1,
        f"procclaw: -n expects a number of lines, got '{count}'",
    )


def test_help_lists_the_commands_and_each_command_has_its_own(sandbox):
    top = sandbox.cli("--help", check=True).stdout
    for command in ("init", "config", "daemon", "list", "status", "version"):
        assert f"  {command}" in top
    daemon_help = sandbox.cli("daemon", "--help", check=True).stdout
    assert "procclaw daemon start [-f]" in daemon_help


def test_version(sandbox):
    from procclaw import __version__

    assert sandbox.cli("version", check=True).stdout.strip() == f"procclaw {__version__}"


def test_init_refuses_to_overwrite_without_force(sandbox):
    sandbox.cli("init", check=True)
    sandbox.home.jobs_file.write_text("jobs: {}\n")
    again = sandbox.cli("init")
    assert again.returncode == 1
    assert "jobs.yaml already exist: use --force to overwrite" in again.stderr
    assert sandbox.home.jobs_file.read_text() == "jobs: {}\n"
    sandbox.cli("init", "--force", check=True)
    assert "hello" in sandbox.home.jobs_file.read_text()


def test_config_shows_paths_and_validate_reports_problems(sandbox):
    paths = sandbox.cli("config", check=True).stdout
    assert str(sandbox.home.jobs_file) in paths and "(missing)" in paths
    sandbox.cli("init", check=True)
    assert sandbox.cli("config", "--validate", check=True).stdout.startswith("config is valid")
    sandbox.write(
        "jobs.yaml",
        """\
        jobs:
          api:
            comand: python app.py
        """,
    )
    bad = sandbox.cli("config", "--validate")
    assert bad.returncode == 1
    jobs_file = sandbox.home.jobs_file
    assert f"{jobs_file}:3: job 'api': unknown key 'comand' (did you mean 'cmd'?)" in bad.stdout
    assert bad.stderr.strip().startswith("procclaw: config is invalid")


def test_daemon_start_with_a_bad_config_is_refused_and_starts_nothing(sandbox):
    sandbox.write(
        "jobs.yaml",
        """\
        jobs:
          a:
            cmd: "true"
            schedule: "61 * * * *"
            type: scheduled
        """,
    )
    result = sandbox.cli("daemon", "start")
    assert result.returncode == 1
    assert f"{sandbox.home.jobs_file}:4: job 'a': schedule:" in result.stderr
    assert sandbox.client().daemon_pid() is None


def test_a_too_long_home_is_refused_before_anything_starts(sandbox, tmp_path):
    deep = sandbox.home.root / ("x" * 90)
    deep.mkdir()
    env = {**sandbox.env, "PROCCLAW_HOME": str(deep)}
    import subprocess

    result = subprocess.run(
        [sandbox.cli_path(), "daemon", "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "too long for a unix socket path" in result.stderr


def test_output_into_a_closed_pipe_ends_quietly(sandbox):
    """`procclaw ... | head` must not print a traceback when head has read enough."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        result = subprocess.run(
            [sandbox.cli_path(), "schedule", "* * * * *", "-n", "3"],
            env=sandbox.env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (128 + signal.SIGPIPE, "")
