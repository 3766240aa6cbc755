"""A job's `limits:`: its rlimits are set in its own process before its program runs,
a limit the daemon cannot grant fails the start with the reason, and every limit is
shown with the job's config."""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

import pytest
from conftest import wait_until

CAP_SYS_RESOURCE = 24  # linux/capability.h
# What a job prints of its own rlimits, soft and hard, one per line.
SHOW_LIMITS = "sh -c 'ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc'"


def _output(sandbox, job_id: str) -> list[str]:
    sandbox.cli("start", job_id, check=True)
    sandbox.wait_state(job_id, "completed")
    return sandbox.home.job_log(job_id).read_text().splitlines()


def test_nofile_and_core_are_set_soft_and_hard_before_the_program_runs(sandbox):
    sandbox.run_jobs(f"""\
        jobs:
          limited:
            cmd: {SHOW_LIMITS}
            limits: {{nofile: 256, core: 0}}
        """)
    assert _output(sandbox, "limited") == ["256", "256", "0", "0"]


def test_nproc_is_set_soft_and_hard(sandbox):
    show = "import resource; print(*resource.getrlimit(resource.RLIMIT_NPROC))"
    sandbox.run_jobs(f"""\
        jobs:
          procs:
            cmd: [{sys.executable}, -c, "{show}"]
            limits: {{nproc: 300}}
        """)
    assert _output(sandbox, "procs") == ["300 300"]


def test_a_core_limit_may_be_lifted_where_the_daemon_may_lift_it(sandbox):
    if resource.getrlimit(resource.RLIMIT_CORE)[1] != resource.RLIM_INFINITY:
        pytest.skip("the hard core limit here is not unlimited")
    sandbox.run_jobs("""\
        jobs:
          dumps:
            cmd: sh -c 'ulimit -Sc; ulimit -Hc'
            limits: {core: unlimited}
        """)
    assert _output(sandbox, "dumps") == ["unlimited", "unlimited"]


def test_limits_are_inherited_from_the_defaults_and_overridden_key_by_key(sandbox):
    sandbox.write("procclaw.yaml", "defaults:\n  limits: {nofile: 512, core: 0}\n")
    sandbox.run_jobs(f"""\
        jobs:
          inherits:
            cmd: {SHOW_LIMITS}
          overrides:
            cmd: {SHOW_LIMITS}
            limits: {{nofile: 300}}
          lifts:
            cmd: {SHOW_LIMITS}
            limits: {{nofile: null}}
        """)
    daemons = str(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    assert _output(sandbox, "inherits") == ["512", "512", "0", "0"]
    assert _output(sandbox, "overrides") == ["300", "300", "0", "0"]
    assert _output(sandbox, "lifts")[:1] == [daemons]


def test_a_limit_above_the_daemons_hard_limit_fails_the_start_with_the_reason(sandbox):
    if _may_raise_hard_limits():
        pytest.skip("with CAP_SYS_RESOURCE the daemon may raise its hard limits")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    wanted = hard + 1
    sandbox.run_jobs(f"""\
        jobs:
          greedy:
            cmd: sleep 300
            type: continuous
            enabled: false
            limits: {{nofile: {wanted}}}
        """)
    reason = f"cannot set nofile to {wanted}: the hard limit is {hard}"
    result = sandbox.cli("start", "greedy")
    assert (result.returncode, result.stdout.strip()) == (1, f"greedy: failed: {reason}")
    job = sandbox.job("greedy")
    assert (job["state"], job["reason"], job["restarts"], job["pid"]) == (
        "failed",
        reason,
        0,
        None,
    )
    assert f"state      failed: {reason}" in sandbox.cli("status", "greedy", check=True).stdout


def _may_raise_hard_limits() -> bool:
    status = Path("/proc/self/status").read_text()
    [effective] = [line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")]
    return bool(int(effective, 16) >> CAP_SYS_RESOURCE & 1)


def test_a_missing_command_with_limits_fails_as_it_does_without(sandbox):
    sandbox.run_jobs("""\
        jobs:
          missing:
            cmd: no-such-binary-here
            limits: {nofile: 64}
        """)
    result = sandbox.cli("start", "missing")
    reason = "cannot start: command not found: no-such-binary-here"
    assert (result.returncode, result.stdout.strip()) == (1, f"missing: failed: {reason}")
    assert sandbox.job("missing")["reason"] == reason


def test_a_limited_job_is_its_own_program_in_its_own_session_with_clean_signals(sandbox):
    sandbox.run_jobs("""\
        jobs:
          svc:
            shell: true
            cmd: grep -E "^Sig(Ign|Blk)" /proc/self/status; ls /proc/$$/fd; exec sleep 300
            type: continuous
            limits: {nofile: 64}
        """)
    pid = sandbox.wait_state("svc", "running")["pid"]
    wait_until(lambda: Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00300\x00")
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid
    log = sandbox.home.job_log("svc")
    lines = wait_until(  # the file appears with the first line
        lambda: log.exists() and len(found := log.read_text().splitlines()) >= 5 and found
    )
    assert lines[:2] == ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]
    assert lines[2:] == ["0", "1", "2"]  # nothing of the start left open
    with open(f"/proc/{pid}/limits") as limits:
        [nofile] = [line.split() for line in limits if line.startswith("Max open files")]
    assert nofile[3:5] == ["64", "64"]


def test_the_limits_show_with_the_jobs_config(sandbox):
    sandbox.run_jobs("""\
        jobs:
          shown:
            cmd: 'true'
            limits: {memory: 512M, nofile: 4096, core: 0}
        """)
    job = json.loads(sandbox.cli("status", "shown", "--json", check=True).stdout)
    assert job["config"]["limits"] == {
        "memory": 512 * 1024**2,
        "cpu": None,
        "nofile": 4096,
        "nproc": None,
        "core": 0,
    }


def test_config_validate_refuses_a_bad_limit_in_one_line(sandbox):
    sandbox.write("jobs.yaml", "jobs:\n  a:\n    cmd: x\n    limits: {memory: lots}\n")
    result = sandbox.cli("config", "--validate")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{sandbox.home.jobs_file}:4: job 'a': limits.memory: expected a size from 1MiB to 1TiB,"
        " like '512M' or '2G', got 'lots'"
    ]


def test_limited_jobs_whose_program_ends_at_once_all_complete(sandbox):
    """The program may end before its setup's report is read: its exit is kept for the
    run, not reaped unseen (which left the job `running` with no process, for good)."""
    count = 40
    job = "  quick{}:\n    cmd: 'true'\n    limits: {{nofile: 64}}\n"
    jobs = "".join(job.format(i) for i in range(count))
    sandbox.run_jobs("jobs:\n" + jobs)
    sandbox.cli("start", *(f"quick{i}" for i in range(count)), check=True)
    states = wait_until(
        lambda: (
            (found := {job["id"]: job["state"] for job in sandbox.client().call("list")})
            and all(state == "completed" for state in found.values())
            and found
        ),
        timeout=30,
    )
    assert len(states) == count
