"""`procclaw add|remove|enable|disable` from the installed CLI, on a real daemon: jobs
changed at run time in jobs.d/, jobs.yaml never rewritten, kept across restarts."""

from __future__ import annotations

import json
import os
import signal
import stat

from conftest import is_gone, wait_until

SLEEP = 'python3 -c "import time; time.sleep(600)"'
JOBS = f"""\
# my jobs: this comment must survive every change
jobs:
  keep:
    cmd: {SLEEP}   # a running job no change may touch
    type: continuous
"""


def _started(sandbox) -> tuple[bytes, int]:
    """A daemon running `keep`; jobs.yaml's bytes and keep's pid."""
    sandbox.run_jobs(JOBS)
    pid = sandbox.wait_state("keep", "running")["pid"]
    return sandbox.home.jobs_file.read_bytes(), pid


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_add_starts_a_continuous_job_from_a_private_dropin_and_leaves_jobs_yaml_alone(sandbox):
    jobs_yaml, keep = _started(sandbox)
    added = sandbox.cli(
        "add", "web", "--cmd", SLEEP, "--type", "continuous", "--env", "GREETING=hi there",
        "--tag", "front", check=True,
    )  # fmt: skip
    assert added.stdout.startswith("web: added (started)\n")
    dropin = sandbox.home.jobs_dir / "web.yaml"
    assert f"wrote {dropin}" in added.stdout
    job = sandbox.wait_state("web", "running")
    assert job["config"]["env"] == {"GREETING": "hi there"} and job["tags"] == ["front"]
    assert job["cause"] == "cli"  # who added it started it, not "a reload"
    assert _mode(dropin) == 0o600 and _mode(sandbox.home.jobs_dir) == 0o700
    assert sandbox.home.jobs_file.read_bytes() == jobs_yaml
    assert sandbox.job("keep")["pid"] == keep
    assert sandbox.cli("config", "--validate", check=True).returncode == 0


def test_a_scheduled_job_added_with_its_zone_runs_on_its_schedule(sandbox):
    _started(sandbox)
    sandbox.cli(
        "add", "tick", "--cmd", "echo fired", "--schedule", "* * * * * *", "--tz", "Asia/Tokyo",
        check=True,
    )  # fmt: skip
    job = sandbox.job("tick")
    assert (job["type"], job["config"]["timezone"]) == ("scheduled", "Asia/Tokyo")
    assert job["next_runs"][0].endswith("+09:00")
    sandbox.wait_output("tick", "fired")


def test_add_from_a_file_keeps_the_file_as_written(sandbox):
    jobs_yaml, _ = _started(sandbox)
    job_file = sandbox.write(
        "job.yaml",
        f"""\
        # the nightly report
        cmd: {SLEEP}
        type: continuous
        shutdown: {{grace_period: 5}}
        """,
    )
    sandbox.cli("add", "report", "-f", str(job_file), check=True)
    sandbox.wait_state("report", "running")
    assert (sandbox.home.jobs_dir / "report.yaml").read_text() == job_file.read_text()
    assert sandbox.home.jobs_file.read_bytes() == jobs_yaml


def test_remove_stops_the_job_and_deletes_its_dropin(sandbox):
    _started(sandbox)
    sandbox.cli("add", "web", "--cmd", SLEEP, "--type", "continuous", check=True)
    pid = sandbox.wait_state("web", "running")["pid"]
    removed = sandbox.cli("remove", "web", check=True)
    assert removed.stdout.startswith("web: removed (stopped)\n")
    wait_until(lambda: is_gone(pid))
    assert not (sandbox.home.jobs_dir / "web.yaml").exists()
    assert "no job 'web'" in sandbox.cli("status", "web").stderr


def test_disable_and_enable_hold_across_a_daemon_restart_and_jobs_yaml_is_never_written(sandbox):
    jobs_yaml, keep = _started(sandbox)
    sandbox.cli("add", "web", "--cmd", SLEEP, "--type", "continuous", check=True)
    sandbox.wait_state("web", "running")
    disabled = sandbox.cli("disable", "keep", check=True)
    assert disabled.stdout.startswith("keep: disabled (stopped)\n")
    wait_until(lambda: is_gone(keep))
    listed = sandbox.cli("list", check=True).stdout.splitlines()
    assert any(line.split()[:3] == ["keep", "continuous", "disabled"] for line in listed)
    assert "already disabled" in sandbox.cli("disable", "keep", check=True).stdout
    only = sandbox.cli("list", "--status", "disabled", "--json", check=True).stdout
    assert [job["id"] for job in json.loads(only)] == ["keep"]

    sandbox.cli("daemon", "stop", check=True)
    sandbox.start_daemon()
    sandbox.wait_state("web", "running")  # added at run time, started with the daemon
    assert sandbox.job("keep")["state"] == "stopped" and not sandbox.job("keep")["enabled"]
    assert "enabled    no" in sandbox.cli("status", "keep", check=True).stdout

    enabled = sandbox.cli("enable", "keep", check=True)
    assert enabled.stdout.startswith("keep: enabled (started)\n")
    sandbox.wait_state("keep", "running")
    assert not (sandbox.home.jobs_dir / ".overrides.yaml").exists()
    assert sandbox.home.jobs_file.read_bytes() == jobs_yaml


def test_a_restarted_controller_and_a_reload_keep_an_added_job_as_it_runs(sandbox):
    _started(sandbox)
    sandbox.cli("add", "web", "--cmd", SLEEP, "--type", "continuous", check=True)
    web = sandbox.wait_state("web", "running")["pid"]
    controller = sandbox.actor_pid("controller")
    os.kill(controller, signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid("controller") not in (None, controller))
    assert sandbox.job("web")["pid"] == web
    reloaded = sandbox.cli("reload", check=True)
    assert reloaded.stdout == "config reloaded: 2 unchanged\n"
    assert sandbox.job("web")["pid"] == web


def test_edits_of_the_files_waiting_for_a_reload_are_applied_with_a_change_and_named(sandbox):
    _started(sandbox)
    sandbox.write("jobs.yaml", JOBS + "  later:\n    cmd: echo later\n")
    added = sandbox.cli("add", "web", "--cmd", "echo web", check=True)
    assert "  also applied, from edited files: added later" in added.stdout
    assert [job["id"] for job in sandbox.client().call("list")] == ["keep", "later", "web"]


def test_an_emptied_jobs_yaml_is_refused_even_with_dropins_left(sandbox):
    _started(sandbox)
    sandbox.cli("add", "web", "--cmd", SLEEP, "--type", "continuous", check=True)
    keep = sandbox.wait_state("keep", "running")["pid"]
    sandbox.write("jobs.yaml", "")
    result = sandbox.cli("reload")
    assert result.returncode == 1
    assert "is empty: a reload would stop and remove 1 jobs" in result.stderr
    assert sandbox.job("keep")["pid"] == keep


def test_each_refused_change_says_why_writes_nothing_and_touches_no_job(sandbox):
    jobs_yaml, keep = _started(sandbox)
    unknown_key = sandbox.write("bad.yaml", "cmd: echo hi\ncomand: echo typo\n")
    jobs_file = sandbox.home.jobs_file
    refusals = {
        ("add", "keep", "--cmd", "echo"): f"job 'keep' is already defined at {jobs_file}:3",
        ("add", "bad", "--cmd", "echo", "--schedule", "61 * * * *"): "job 'bad': schedule:",
        ("add", "bad", "--cmd", "echo", "--schedule", "@daily", "--tz", "Mars/Olympus"):
            "job 'bad': timezone: unknown time zone 'Mars/Olympus'",
        ("add", "bad", "-f", str(unknown_key)):
            f"{unknown_key}:2: job 'bad': unknown key 'comand' (did you mean 'cmd'?)",
        ("add", "bad", "--cmd", "echo ${secret:TOKEN}"): "secrets are not allowed in cmd",
        ("add", "../../escape", "--cmd", "echo"): "job id '../../escape' is invalid",
        ("remove", "nope"): "no job 'nope'",
        ("remove", "../jobs"): "no job '../jobs'",
        ("remove", "keep"): f"job 'keep' is defined at {jobs_file}:3",
        ("enable", "kep"): "no job 'kep' (did you mean 'keep'?)",
    }  # fmt: skip
    for args, why in refusals.items():
        result = sandbox.cli(*args)
        assert result.returncode == 1, (args, result.stdout)
        assert why in result.stderr, (args, result.stderr)
        assert not sandbox.home.jobs_dir.exists(), args
    assert sandbox.home.jobs_file.read_bytes() == jobs_yaml
    assert sandbox.job("keep")["pid"] == keep
    assert [job["id"] for job in sandbox.client().call("list")] == ["keep"]


def test_without_a_daemon_add_writes_the_dropin_for_the_next_start(sandbox):
    sandbox.write("jobs.yaml", JOBS)
    added = sandbox.cli("add", "web", "--cmd", SLEEP, "--type", "continuous", check=True)
    assert "daemon not running: it applies at the next `procclaw daemon start`" in added.stdout
    refused = sandbox.cli("add", "keep", "--cmd", "echo")
    assert refused.returncode == 1 and "already defined" in refused.stderr
    sandbox.start_daemon()
    sandbox.wait_state("web", "running")


def test_json_says_what_was_done_or_why_not(sandbox):
    _started(sandbox)
    added = json.loads(
        sandbox.cli(
            "add", "web", "--cmd", SLEEP, "--type", "continuous", "--json", check=True
        ).stdout
    )
    assert added["ok"] is True and added["actions"] == {"web": "started"}
    assert added["files"] == [str(sandbox.home.jobs_dir / "web.yaml")]
    refused = sandbox.cli("remove", "nope", "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout) == {
        "ok": False, "job": "nope", "action": "remove", "error": "no job 'nope'"
    }  # fmt: skip


def test_add_without_a_command_is_a_usage_error(sandbox):
    result = sandbox.cli("add", "web")
    assert result.returncode == 2
    assert result.stderr.startswith("procclaw: add: --cmd or --file is needed\nUsage:\n")
