"""Hostile and unlucky config files: each is refused in one line that names the file and
line, by `config --validate` and by `reload` alike, and nothing that runs is touched."""

import pytest
from http_helpers import get

from procclaw.config import MAX_CONFIG_BYTES

JOB = "jobs:\n  a:\n    cmd: sleep 60\n"


def _job_with(line: str) -> bytes:
    return (JOB + line + "\n").encode()


# (id, the bytes of jobs.yaml, the one line expected after "<path>")
HOSTILE = [
    (
        "nested 5,000 deep",
        ("jobs:\n  a:\n    cmd: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
        ":3: invalid YAML: nested more than 64 levels deep",
    ),
    (
        "not UTF-8",
        b"jobs:\n  a:\n    cmd: echo \xff\xfe\n",
        ":3: not UTF-8 text: byte 0xff at column 15; save the file as UTF-8",
    ),
    (
        "a python tag",
        _job_with("    env: !!python/object/apply:os.system [ls]"),
        ":4: invalid YAML: the tag '!!python/object/apply:os.system' is not allowed:"
        " ProcClaw reads plain YAML values only",
    ),
    (
        "a python tag on a mapping",
        _job_with("    log: !!python/object:logging.Logger {}"),
        ":4: invalid YAML: the tag '!!python/object:logging.Logger' is not allowed:"
        " ProcClaw reads plain YAML values only",
    ),
    (
        "a binary value",
        _job_with("    env: {X: !!binary aGVsbG8=}"),
        ":4: invalid YAML: the tag '!!binary' is not allowed: ProcClaw reads plain YAML values"
        " only",
    ),
    (
        "a local tag",
        _job_with("    env: {X: !vault secret}"),
        ":4: invalid YAML: the tag '!vault' is not allowed: ProcClaw reads plain YAML values only",
    ),
    (
        "a NUL in an environment value",
        _job_with('    env: {X: "before\\0after"}'),
        ":4: invalid YAML: a NUL character (\\0) in a value: no command, argument or"
        " variable can hold one",
    ),
    (
        "a NUL in a command argument",
        b'jobs:\n  a:\n    cmd: [sleep, "6\\x000"]\n',
        ":3: invalid YAML: a NUL character (\\0) in a value: no command, argument or"
        " variable can hold one",
    ),
    (
        "a number of 5,000 digits",
        _job_with("    env: {X: " + "9" * 5000 + "}"),
        ":4: invalid YAML: a number too long to read",
    ),
    (
        "log.max_bytes beyond 64 bits",
        _job_with("    log: {max_bytes: 99999999999999999999999999999}"),
        ":4: job 'a': log.max_bytes: expected a size from 1KiB to 1TiB, like 1048576 or '10MB',"
        " got 99999999999999999999999999999",
    ),
    (
        "log.max_bytes beyond a float",
        _job_with("    log: {max_bytes: '" + "9" * 400 + "T'}"),
        ":4: job 'a': log.max_bytes: expected a size from 1KiB to 1TiB, like 1048576 or '10MB',"
        " got '9999999999999999999999999999999999999999999999999...99999T' (403 characters)",
    ),
    (
        "retry.max_attempts beyond its range",
        _job_with("    retry: {max_attempts: 99999999999999999999999}"),
        ":4: job 'a': retry.max_attempts: expected an integer from 1 to 1000000,"
        " got 99999999999999999999999",
    ),
    (
        "a duration beyond a year",
        _job_with("    max_runtime: 1.0e+300"),
        ":4: job 'a': max_runtime: expected a duration of at most 365d, like 30 or '5m',"
        " got 1e+300",
    ),
    (
        "a backoff factor beyond 100",
        _job_with("    retry: {preset: exponential, factor: 1.0e+10}"),
        ":4: job 'a': retry.factor: expected a number above 1 and at most 100, got 10000000000.0",
    ),
    (
        "health_check.retries beyond its range",
        _job_with("    health_check: {type: process, retries: 1000001}"),
        ":4: job 'a': health_check.retries: expected an integer from 1 to 1000, got 1000001",
    ),
    (
        "aliases that expand past the limit (billion laughs)",
        (
            JOB
            + "    env: &big {A: '"
            + "x" * 1000
            + "'}\n"
            + "".join(f"  j{n}:\n    cmd: sleep 60\n    env: *big\n" for n in range(5000))
        ).encode(),
        ":4: invalid YAML: aliases expand this file past 4 MiB of values",
    ),
    (
        "anchors in keys chained deep enough to recurse",
        (
            "x:\n"
            + "".join(
                f"  ? &a{n} {'[' * 60}{'x' if n == 0 else f'*a{n - 1}'}{']' * 60}\n  : 1\n"
                for n in range(14)
            )
            + "y: *a13\n"
        ).encode(),
        ": invalid YAML: nested more than 64 levels deep",
    ),
    (
        "a file over the size limit",
        JOB.encode() + b"#" * MAX_CONFIG_BYTES,
        ": larger than 1 MiB, the most a config file may be",
    ),
]


@pytest.mark.parametrize(
    ("content", "line"), [case[1:] for case in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_validate_refuses_it_in_one_line(sandbox, content, line):
    sandbox.home.jobs_file.write_bytes(content)
    result = sandbox.cli("config", "--validate")
    assert result.returncode == 1
    assert result.stdout + result.stderr == (
        f"{sandbox.home.jobs_file}{line}\nprocclaw: config is invalid (1 problem)\n"
    )


def test_reload_refuses_each_in_the_same_line_and_touches_nothing(sandbox):
    sandbox.run_jobs(JOB + "    type: continuous\n")
    before = sandbox.wait_state("a", "running")
    controller = sandbox.actor_pid("controller")
    for name, content, line in HOSTILE:
        sandbox.home.jobs_file.write_bytes(content)
        result = sandbox.cli("reload")
        assert result.returncode == 1, name
        assert f"{sandbox.home.jobs_file}{line}\n" in result.stderr, name
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, name
    after = sandbox.job("a")
    assert (after["state"], after["pid"]) == ("running", before["pid"])
    assert sandbox.actor_pid("controller") == controller
    assert sandbox.actor("controller")["restarts"] == 0


AT_EVERY_MAXIMUM = """\
jobs:
  a:
    cmd: sleep 60
    type: continuous
    max_runtime: 365d
    log: {max_bytes: 1TiB, backups: 100}
    shutdown: {grace_period: 365d}
    retry: {preset: exponential, initial: 365d, factor: 100, max_delay: 365d,
            max_attempts: 1000000, reset_after: 365d}
    health_check: {type: process, interval: 365d, timeout: 365d, retries: 1000,
                   start_period: 365d}
"""


def test_a_config_at_every_maximum_validates_runs_and_shows_in_every_view(sandbox):
    """What validation accepts, the running daemon can hold and send: the same configs."""
    sandbox.write("jobs.yaml", AT_EVERY_MAXIMUM)
    assert sandbox.cli("config", "--validate", check=True).stdout == "config is valid: 1 job\n"
    sandbox.start_daemon()
    sandbox.wait_state("a", "running")
    for view in (("status", "a", "--json"), ("list", "--json"), ("reload",), ("status", "a")):
        sandbox.cli(*view, check=True)
    assert get(sandbox.api_port, "/api/v1/jobs/a").status == 200
    assert get(sandbox.api_port, "/metrics").status == 200
    assert sandbox.actor("controller")["restarts"] == 0
