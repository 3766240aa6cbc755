"""`limits.cpu` is held only by a cgroup with the cpu controller (cpu.max). Where the
daemon has none, a cpu limit is refused like any other bad value: by `config
--validate`, by `daemon start` and by `reload`, with its file and line, and nothing
that runs is touched. The portable layer has no cgroups, so there it is always refused;
on the Linux layer the answer depends on this machine's cgroups, and is checked both
ways."""

from pathlib import Path

import pytest
from conftest import wait_until
from portable_sandbox import portable_layer

from procclaw import cpu_limits

pytestmark = pytest.mark.timeout(60)

CAPPED = "jobs:\n  capped:\n    cmd: sleep 300\n    limits:\n      cpu: 50%\n"
PLAIN = "jobs:\n  keep:\n    type: continuous\n    cmd: sleep 300\n"


def _reason(sandbox) -> str | None:
    return cpu_limits.local_refusal(sandbox.home.root, daemon_started=False)


def _refused_at(sandbox, file, line: int, where: str) -> str:
    return (
        f"{file}:{line}: {where}limits.cpu cannot be held here: {_reason(sandbox)}; remove it,"
        " or run the daemon where its cgroup has the cpu controller (`procclaw service"
        " install` asks systemd for Delegate=yes). memory, nofile, nproc and core need no"
        " cgroup"
    )


@pytest.fixture
def portable(sandbox, monkeypatch):
    with portable_layer(sandbox, monkeypatch):
        yield sandbox


def test_the_reasons_are_said_for_the_person_at_the_terminal():
    assert cpu_limits.refusal({"why": "no cgroup v2 hierarchy is mounted"}) == (
        "it needs a cgroup with the cpu controller, and no cgroup v2 hierarchy is mounted"
    )
    found = {"version": "v2", "path": "/sys/fs/cgroup/x", "controllers": ["memory"]}
    assert cpu_limits.refusal(found) == "the daemon's cgroup /sys/fs/cgroup/x has no cpu controller"
    assert cpu_limits.refusal({**found, "controllers": ["cpu", "memory"]}) is None


def test_without_cgroups_validate_and_daemon_start_refuse_a_cpu_limit_with_its_line(portable):
    portable.write("jobs.yaml", CAPPED)
    result = portable.cli("config", "--validate")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        _refused_at(portable, portable.home.jobs_file, 5, "job 'capped': ")
    ]
    assert "the portable platform uses no cgroups" in result.stdout

    started = portable.cli("daemon", "start")
    assert started.returncode == 1
    assert _refused_at(portable, portable.home.jobs_file, 5, "job 'capped': ") in started.stderr
    assert portable.client().daemon_pid() is None


def test_a_cpu_limit_in_defaults_is_refused_in_procclaw_yaml(portable):
    portable.write("procclaw.yaml", "defaults:\n  limits:\n    cpu: 25%\n")
    portable.write("jobs.yaml", PLAIN)
    result = portable.cli("config", "--validate")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        _refused_at(portable, portable.home.config_file, 3, "defaults.")
    ]


def test_memory_and_rlimits_need_no_cgroup_and_null_lifts_an_inherited_cpu_limit(portable):
    portable.write("jobs.yaml", "jobs:\n  a:\n    cmd: x\n    limits: {memory: 64M, nofile: 64}\n")
    assert portable.cli("config", "--validate", check=True).stdout.startswith("config is valid")
    portable.write("jobs.yaml", "jobs:\n  a:\n    cmd: x\n    limits: {cpu: null}\n")
    assert portable.cli("config", "--validate", check=True).stdout.startswith("config is valid")


def test_reload_refuses_a_cpu_limit_and_touches_nothing(portable):
    portable.run_jobs(PLAIN)
    before = portable.wait_state("keep", "running")["pid"]
    portable.write("jobs.yaml", PLAIN + "    limits: {cpu: 50%}\n")
    result = portable.cli("reload")
    assert result.returncode == 1
    assert _refused_at(portable, portable.home.jobs_file, 5, "job 'keep': ") in result.stderr
    assert "config not reloaded; nothing changed" in result.stderr
    after = portable.job("keep")
    assert (after["pid"], after["config"]["limits"]["cpu"]) == (before, None)


def test_on_linux_a_cpu_limit_is_taken_exactly_where_the_cgroups_hold_it(sandbox):
    """This machine decides: taken and written to cpu.max, or refused with the reason."""
    sandbox.write("jobs.yaml", CAPPED)
    result = sandbox.cli("config", "--validate")
    if _reason(sandbox) is None:
        assert result.returncode == 0, result.stdout
        sandbox.start_daemon()
        sandbox.cli("start", "capped", check=True)
        cgroup = wait_until(lambda: sandbox.job("capped").get("cgroup"))
        assert Path(cgroup, "cpu.max").read_text().split() == ["50000", "100000"]
    else:
        assert result.returncode == 1
        assert result.stdout.splitlines() == [
            _refused_at(sandbox, sandbox.home.jobs_file, 5, "job 'capped': ")
        ]


def test_a_badly_written_cpu_limit_is_one_problem_not_two(portable):
    portable.write("jobs.yaml", "jobs:\n  a:\n    cmd: x\n    limits: {cpu: 900%}\n")
    result = portable.cli("config", "--validate")
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{portable.home.jobs_file}:4: job 'a': limits.cpu: expected a percent")


def test_a_job_added_at_run_time_with_a_cpu_limit_is_refused_and_nothing_is_written(portable):
    portable.write("job.yaml", "cmd: sleep 300\nlimits: {cpu: 50%}\n")
    job_file = str(portable.home.root / "job.yaml")
    offline = portable.cli("add", "capped", "-f", job_file)
    assert offline.returncode == 1
    assert "limits.cpu cannot be held here" in offline.stderr
    portable.run_jobs(PLAIN)
    online = portable.cli("add", "capped", "-f", job_file)
    assert online.returncode == 1
    assert f"{job_file}:2: job 'capped': limits.cpu cannot be held here" in online.stderr
    assert not (portable.home.jobs_dir / "capped.yaml").exists()
