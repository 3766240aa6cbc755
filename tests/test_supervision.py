"""Manual and continuous jobs: spawning, exit codes, restarts with backoff, runs."""

import os

import pytest
from conftest import wait_until

from procclaw.client import ClientError

CRASHING = """\
    jobs:
      crash:
        cmd: sh -c 'echo boom; echo oops >&2; exit 3'
        type: continuous
        enabled: false
        retry:
          delays: [0, 0.3, 0.6]
    """


def test_a_crashing_continuous_job_restarts_at_once_then_backs_off_then_fails(sandbox):
    sandbox.run_jobs(CRASHING)
    events = sandbox.subscribe("job.crash.")
    sandbox.client().call("start", {"job": "crash"})
    failed = events.wait_for(lambda e: e.topic == "job.crash.failed", timeout=20)
    assert failed is not None
    assert failed.data["reason"] == "gave up after 3 restarts; last: exit code 3"
    assert failed.data["restarts"] == 3
    job = sandbox.job("crash")
    assert (job["state"], job["restarts"], job["last_exit"]) == ("failed", 3, "exit code 3")
    events.close()


def test_backoff_delays_follow_the_retry_policy_in_order(sandbox):
    sandbox.run_jobs(CRASHING)
    events = sandbox.subscribe("job.crash.")
    sandbox.client().call("start", {"job": "crash"})
    seen = []
    while (event := events.wait_for(lambda e: True, timeout=20)) is not None:
        seen.append(event)
        if event.topic == "job.crash.failed":
            break
    backoffs = [e.data["retry_in"] for e in seen if e.topic == "job.crash.backoff"]
    assert backoffs == [0, 0.3, 0.6]
    # When each run ended and began, by the supervisor's clock (an event's `ts` is when
    # it was published, once the controller had the report).
    starts = [e.data["started_at"] for e in seen if e.topic == "job.crash.running"]
    uptimes = [e.data["uptime"] for e in seen if e.topic == "job.crash.exited"]
    exits = [start + uptime for start, uptime in zip(starts, uptimes, strict=True)]
    for delay, exited, restarted in zip(backoffs, exits[:-1], starts[1:], strict=True):
        assert restarted - exited >= delay  # never earlier than the policy says
    events.close()


def test_a_failed_job_stays_down_until_started_again(sandbox):
    sandbox.run_jobs(CRASHING)
    sandbox.client().call("start", {"job": "crash"})
    sandbox.wait_state("crash", "failed", timeout=20)
    # Its supervisor lets it go once the controller has its last report.
    wait_until(lambda: "crash" not in sandbox.held_jobs())
    runs_before = sandbox.job("crash")["last_run"]["run_id"]
    sandbox.cli("start", "crash", check=True)  # a new round of attempts
    job = sandbox.wait_state("crash", "failed", timeout=20)
    assert job["last_run"]["run_id"] != runs_before


def test_a_manual_job_runs_once_and_its_run_is_recorded(sandbox):
    sandbox.run_jobs("""\
        jobs:
          once:
            cmd: sh -c 'echo first; echo second; exit 7'
        """)
    sandbox.cli("start", "once")
    job = sandbox.wait_state("once", "failed")
    assert job["last_exit"] == "exit code 7"
    run = job["last_run"]
    assert (run["exit_code"], run["signal"], run["result"]) == (7, None, "failed")
    assert run["output"] == ["first", "second"]
    assert run["ended_at"] >= run["started_at"]
    assert job["restarts"] == 0


def test_a_manual_job_that_exits_zero_is_completed(sandbox):
    sandbox.run_jobs("jobs:\n  ok:\n    cmd: 'true'\n")
    result = sandbox.cli("start", "ok", check=True)
    assert result.stdout.startswith("ok: ")
    assert sandbox.wait_state("ok", "completed")["last_run"]["result"] == "completed"


@pytest.mark.parametrize(
    ("job", "reason"),
    [
        ("cmd: no-such-binary-here", "cannot start: command not found: no-such-binary-here"),
        ("cmd: 'true'\n    cwd: /no/such/dir", "cannot start: cwd /no/such/dir is not a directory"),
        ("cmd: /tmp/pc-not-executable", "cannot start: permission denied: /tmp/pc-not-executable"),
    ],
)
def test_a_job_that_cannot_be_executed_fails_with_the_reason_and_no_loop(sandbox, job, reason):
    with open("/tmp/pc-not-executable", "w") as script:
        script.write("echo never\n")
    os.chmod("/tmp/pc-not-executable", 0o644)
    sandbox.run_jobs(f"jobs:\n  bad:\n    type: continuous\n    enabled: false\n    {job}\n")
    result = sandbox.cli("start", "bad")
    assert (result.returncode, result.stdout.strip()) == (1, f"bad: failed: {reason}")
    status = sandbox.job("bad")
    assert (status["state"], status["reason"], status["restarts"]) == ("failed", reason, 0)
    shown = sandbox.cli("status", "bad", check=True).stdout
    assert reason in shown


def test_the_job_gets_its_env_with_expansion_its_cwd_and_clean_signal_state(sandbox, tmp_path):
    os.chmod(tmp_path, 0o755)
    sandbox.run_jobs(f"""\
        jobs:
          env:
            shell: true
            cmd: >-
              pwd; echo "$GREETING"; echo "$PROCCLAW_JOB";
              grep -E "^Sig(Ign|Blk)" /proc/self/status; ls -l /proc/self/fd/0
            cwd: {tmp_path}
            env:
              NAME: world
              GREETING: hello ${{NAME}} from ${{HOME}}
        """)
    sandbox.cli("start", "env")
    sandbox.wait_state("env", "completed")
    lines = sandbox.home.job_log("env").read_text().splitlines()
    assert lines[0] == str(tmp_path)
    assert lines[1] == f"hello world from {os.environ['HOME']}"
    assert lines[2] == "env"
    assert lines[3] == "SigBlk:\t0000000000000000"
    assert lines[4] == "SigIgn:\t0000000000000000"
    assert lines[5].endswith("-> /dev/null")


def test_a_job_runs_in_a_session_of_its_own(sandbox):
    sandbox.run_jobs("jobs:\n  s:\n    cmd: sleep 300\n")
    sandbox.cli("start", "s", check=True)
    pid = sandbox.job("s")["pid"]
    assert os.getsid(pid) == pid and os.getpgid(pid) == pid


def test_start_of_a_running_job_is_a_no_op_and_unknown_jobs_get_a_suggestion(sandbox):
    """As systemctl: start of what runs and stop of what is stopped both exit 0."""
    sandbox.run_jobs("jobs:\n  svc:\n    cmd: sleep 300\n    type: continuous\n")
    pid = sandbox.wait_state("svc", "running")["pid"]
    again = sandbox.cli("start", "svc")
    assert (again.returncode, again.stdout) == (0, f"svc: already running (pid {pid})\n")
    assert sandbox.job("svc")["pid"] == pid
    for command in ("start", "stop", "restart", "status", "logs"):
        result = sandbox.cli(command, "scv")
        assert (result.returncode, result.stderr.strip()) == (
            1,
            "procclaw: no job 'scv' (did you mean 'svc'?)",
        ), command


def test_list_filters_and_json_carry_the_facts(sandbox):
    sandbox.run_jobs("""\
        jobs:
          web:
            cmd: sleep 300
            type: continuous
            tags: [front]
          batch:
            cmd: 'true'
            tags: [back]
        """)
    sandbox.wait_state("web", "running")
    import json

    listed = json.loads(sandbox.cli("list", "--json", check=True).stdout)
    assert {j["id"] for j in listed} == {"web", "batch"}
    for job in listed:
        assert {"id", "state", "pid", "restarts", "type"} <= set(job)
    running = sandbox.cli("list", "--status", "running", check=True).stdout
    assert "web" in running and "batch" not in running
    tagged = sandbox.cli("list", "--tag", "back", check=True).stdout
    assert "batch" in tagged and "web" not in tagged


def test_restart_replaces_the_process_and_stop_of_a_stopped_job_is_harmless(sandbox):
    sandbox.run_jobs("jobs:\n  svc:\n    cmd: sleep 300\n    type: continuous\n")
    first = sandbox.wait_state("svc", "running")["pid"]
    result = sandbox.cli("restart", "svc", check=True)
    second = sandbox.job("svc")["pid"]
    assert second != first and result.stdout.strip() == f"svc: running (pid {second})"
    sandbox.cli("stop", "svc", check=True)
    again = sandbox.cli("stop", "svc", check=True)
    assert again.stdout.strip() == "svc: not running (stopped)"


def test_a_stop_then_start_at_once_never_trips_over_the_finishing_supervisor(sandbox):
    sandbox.run_jobs("jobs:\n  svc:\n    cmd: sleep 300\n    type: continuous\n")
    sandbox.wait_state("svc", "running")
    for _ in range(5):
        sandbox.cli("stop", "svc", check=True)
        sandbox.cli("start", "svc", check=True)
    wait_until(lambda: sandbox.job("svc")["state"] == "running")


def test_supervisor_reports_reach_a_controller_that_was_restarted(sandbox):
    import signal

    sandbox.run_jobs(CRASHING)
    controller = sandbox.actor_pid("controller")
    sandbox.client().call("start", {"job": "crash"})
    os.kill(controller, signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid("controller") not in (None, controller))
    job = sandbox.wait_state("crash", "failed", timeout=20)
    assert job["restarts"] == 3
    with pytest.raises(ClientError):
        sandbox.client().call("status", {"job": "nope"})
