"""A usage error is one line saying what is wrong, then that command's usage, exit 2."""

import pytest

STOP_USAGE = (
    "Usage:\n  procclaw stop ((<job> | --tag=TAG)... | --all) [--force] [--timeout=SECONDS]"
    " [--json]\n"
)
LOGS_USAGE = (
    "Usage:\n  procclaw logs ((<job> | --tag=TAG)... | --all) [-f] [-n N] [--stdout | --stderr]\n"
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("stop", "--forse"),
            "procclaw: stop: unknown option --forse (did you mean --force?)\n" + STOP_USAGE,
        ),
        (("stop",), "procclaw: stop: a job, --tag or --all is needed\n" + STOP_USAGE),
        (("stop", "web", "--all"), "procclaw: stop: jobs or --all, not both\n" + STOP_USAGE),
        (("stop", "--tag=web", "--all"), "procclaw: stop: --tag or --all, not both\n" + STOP_USAGE),
        (("stop", "--tag"), "procclaw: stop: --tag needs a value\n" + STOP_USAGE),
        (
            ("stop", "web", "--timeout=3", "--timeout=4"),
            "procclaw: stop: --timeout given more than once\n" + STOP_USAGE,
        ),
        (("logs",), "procclaw: logs: a job, --tag or --all is needed\n" + LOGS_USAGE),
        (
            ("logs", "web", "--stdout", "--stderr"),
            "procclaw: logs: --stdout or --stderr, not both\n" + LOGS_USAGE,
        ),
        (
            ("logs", "web", "-n", "3", "-n", "4"),
            "procclaw: logs: -n given more than once\n" + LOGS_USAGE,
        ),
        (("logs", "web", "-n"), "procclaw: logs: -n needs a value\n" + LOGS_USAGE),
        (("logs", "web", "--stderr=yes"), "procclaw: logs: --stderr takes no value\n" + LOGS_USAGE),
        (
            ("start", "web", "--force"),
            "procclaw: start: unknown option --force\n"
            "Usage:\n  procclaw start ((<job> | --tag=TAG)... | --all)"
            " [--timeout=SECONDS] [--json]\n",
        ),
        (
            ("list", "--jsn"),
            "procclaw: list: unknown option --jsn (did you mean --json?)\n"
            "Usage:\n  procclaw list [--status=STATE] [--tag=TAG] [--json]\n",
        ),
        (
            ("daemon", "start", "-x"),
            "procclaw: daemon start: unknown option -x\nUsage:\n  procclaw daemon start [-f]\n",
        ),
        (
            ("secret", "get"),
            "procclaw: secret get: a secret name is needed\n"
            "Usage:\n  procclaw secret get <name> [--show]\n",
        ),
        (
            ("schedule",),
            "procclaw: schedule: a cron expression is needed\n"
            "Usage:\n  procclaw schedule <cron> [--tz=ZONE] [--from=TIME] [-n N] [--json]\n",
        ),
        (
            ("reload", "now"),
            "procclaw: reload: unexpected argument 'now'\nUsage:\n  procclaw reload [--json]\n",
        ),
    ],
)
def test_a_usage_error_says_what_is_wrong_then_the_commands_usage(sandbox, args, expected):
    result = sandbox.cli(*args, timeout=20)
    assert (result.returncode, result.stderr, result.stdout) == (2, expected, "")


def test_an_unknown_sub_command_gets_a_suggestion_and_every_usage_line(sandbox):
    result = sandbox.cli("daemon", "strat", timeout=20)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "procclaw: daemon: unknown command 'strat' (did you mean 'start'?)"
    assert lines[1] == "Usage:"
    assert "  procclaw daemon start [-f]" in lines and "  procclaw daemon status [--json]" in lines


def test_an_unknown_option_before_any_command_is_a_usage_error(sandbox):
    result = sandbox.cli("--bogus", timeout=20)
    assert (result.returncode, result.stderr) == (
        2,
        "procclaw: unknown option --bogus; see `procclaw --help`\n",
    )


@pytest.mark.timeout(90)
def test_status_without_a_job_shows_every_job_as_list_does(sandbox):
    sandbox.run_jobs(
        """\
        jobs:
          alpha:
            cmd: sleep 60
            type: continuous
          beta:
            cmd: "true"
            type: manual
        """
    )
    sandbox.wait_state("alpha", "running")
    overview = sandbox.cli("status", check=True).stdout
    assert overview.splitlines()[0].split()[:3] == ["JOB", "TYPE", "STATE"]
    assert {line.split()[0] for line in overview.splitlines()[1:]} == {"alpha", "beta"}
    import json

    listed = json.loads(sandbox.cli("status", "--json", check=True).stdout)
    assert {job["id"]: job["state"] for job in listed}["alpha"] == "running"
