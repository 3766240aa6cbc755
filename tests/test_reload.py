"""Reload (CLI, HTTP, SIGHUP): only what changed is touched; a bad config changes nothing."""

from __future__ import annotations

import os
import signal

import psutil
from conftest import PROGRAMS, is_gone, wait_until
from http_helpers import post

from procclaw.cli.reload_commands import describe
from procclaw.client import ClientError

SLEEP = 'python3 -c "import time; time.sleep(600)"'


def _jobs(**commands: str) -> str:
    lines = ["jobs:"]
    for job_id, cmd in commands.items():
        lines += [f"  {job_id}:", f"    cmd: {cmd}", "    type: continuous"]
        lines += ["    shutdown: {grace_period: 5}"]
    return "\n".join(lines) + "\n"


def _pids(sandbox, *job_ids: str) -> dict[str, int]:
    return {job_id: sandbox.wait_state(job_id, "running")["pid"] for job_id in job_ids}


def test_reload_applies_only_the_difference(sandbox):
    sandbox.run_jobs(_jobs(keep=f"{SLEEP} keep", edit=f"{SLEEP} old", drop=f"{SLEEP} drop"))
    before = _pids(sandbox, "keep", "edit", "drop")
    sandbox.write("jobs.yaml", _jobs(keep=f"{SLEEP} keep", edit=f"{SLEEP} new", add=SLEEP))

    result = sandbox.cli("reload", check=True)

    assert result.stdout.strip() == (
        "config reloaded: added add (started); removed drop (stopped);"
        " changed edit (restarted); 1 unchanged"
    )
    wait_until(lambda: is_gone(before["drop"]))
    after = _pids(sandbox, "keep", "add")
    edited = wait_until(
        lambda: (
            (job := sandbox.job("edit"))["state"] == "running"
            and job["pid"] != before["edit"]
            and job
        )
    )
    assert after["keep"] == before["keep"]  # untouched: same process
    assert psutil.Process(edited["pid"]).cmdline()[-1] == "new"


def test_a_bad_config_is_refused_with_its_line_and_nothing_changes(sandbox):
    sandbox.run_jobs(_jobs(keep=SLEEP))
    before = _pids(sandbox, "keep")
    sandbox.write("jobs.yaml", "jobs:\n  keep:\n    cmd: x\n    type: forever\n")

    result = sandbox.cli("reload")
    assert result.returncode == 1
    assert f"{sandbox.home.jobs_file}:4: job 'keep': type: expected one of" in result.stderr
    assert "config not reloaded; nothing changed" in result.stderr

    reply = post(sandbox.api_port, "/api/v1/reload")
    assert reply.status == 400
    assert reply.json["error"]["code"] == "invalid_config"
    assert f"{sandbox.home.jobs_file}:4:" in reply.json["error"]["message"]
    assert _pids(sandbox, "keep") == before
    assert sandbox.job("keep")["config"]["cmd"] == SLEEP


def test_a_jobs_file_emptied_or_removed_is_refused_but_jobs_braces_stop_everything(sandbox):
    sandbox.run_jobs(_jobs(keep=SLEEP))
    before = _pids(sandbox, "keep")
    for text in ("", "# being edited\n", None):
        if text is None:
            sandbox.home.jobs_file.unlink()
        else:
            sandbox.write("jobs.yaml", text)
        result = sandbox.cli("reload")
        assert result.returncode == 1
        assert "a reload would stop and remove all 1 jobs; write `jobs: {}`" in result.stderr
        assert _pids(sandbox, "keep") == before

    sandbox.write("jobs.yaml", "jobs: {}\n")
    result = sandbox.cli("reload", check=True)
    assert "removed keep (stopped)" in result.stdout
    wait_until(lambda: is_gone(before["keep"]))


def test_reload_over_http(sandbox):
    sandbox.run_jobs(_jobs(keep=SLEEP))
    sandbox.write("jobs.yaml", _jobs(keep=SLEEP, add=SLEEP))
    reply = post(sandbox.api_port, "/api/v1/reload")
    assert reply.status == 200
    assert reply.json["added"] == ["add"] and reply.json["unchanged"] == ["keep"]
    sandbox.wait_state("add", "running")


def test_sighup_to_the_daemon_reloads_and_keeps_it_running(sandbox):
    root = sandbox.run_jobs(_jobs(keep=SLEEP))
    before = _pids(sandbox, "keep")
    events = sandbox.subscribe("config.")
    sandbox.write("jobs.yaml", _jobs(keep=SLEEP, add=SLEEP))
    os.kill(root, signal.SIGHUP)
    event = events.wait_for(lambda e: e.topic == "config.reloaded", timeout=15)
    events.close()
    assert event is not None and event.data["added"] == ["add"]
    sandbox.wait_state("add", "running")
    assert _pids(sandbox, "keep") == before
    assert sandbox.client().daemon_pid() == root
    # Root logs the controller's reply, which may reach it after the event reached us.
    wait_until(lambda: "config reloaded: added add" in sandbox.home.daemon_log.read_text())


def test_a_job_enabled_by_reload_starts_and_a_changed_idle_manual_job_waits(sandbox):
    sandbox.run_jobs(
        "jobs:\n  svc:\n    cmd: " + SLEEP + "\n    type: continuous\n    enabled: false\n"
        "  once:\n    cmd: 'true'\n"
    )
    sandbox.write(
        "jobs.yaml",
        "jobs:\n  svc:\n    cmd: " + SLEEP + "\n    type: continuous\n  once:\n    cmd: 'false'\n",
    )
    result = sandbox.cli("reload", check=True)
    assert "changed once, svc (started)" in result.stdout
    sandbox.wait_state("svc", "running")
    assert sandbox.job("once")["state"] == "stopped"
    assert sandbox.job("once")["config"]["cmd"] == "false"


def test_a_reload_that_changed_many_jobs_names_ten_and_counts_the_rest():
    changed = [f"j{i}" for i in range(2000)]
    change = {"changed": changed, "actions": dict.fromkeys(changed, "restarted")}
    change |= {"added": ["new"], "unchanged": ["same"]}
    assert describe(change) == (
        "config reloaded: added new; changed "
        + ", ".join(f"j{i} (restarted)" for i in range(10))
        + ", and 1,990 more; 1 unchanged"
    )


def _reloaded_while_it_stops(sandbox) -> int:
    """A running job whose stop takes a second, changed by a reload that is now stopping
    it to start it with its new config (its last argument `new`); its old pid."""
    stubborn = f"python3 {PROGRAMS}/ignore_term.py"
    jobs = _jobs(edit=stubborn).replace("grace_period: 5", "grace_period: 1")
    sandbox.run_jobs(jobs)
    before = sandbox.wait_state("edit", "running")["pid"]
    sandbox.wait_output("edit", "up")  # SIGTERM is ignored from here on: the stop takes 1 s
    sandbox.write("jobs.yaml", jobs.replace("ignore_term.py", "ignore_term.py new"))
    assert "changed edit (restarted)" in sandbox.cli("reload", check=True).stdout
    sandbox.wait_state("edit", "stopping")
    return before


def test_a_stop_while_a_changed_job_stops_for_its_restart_keeps_it_down(sandbox):
    """The reload owes the job a restart with its new config once its old run is at rest;
    a stop asked for meanwhile wins (it used to be started again, by the reload)."""
    _reloaded_while_it_stops(sandbox)
    events = sandbox.subscribe("job.edit.stopped")
    sandbox.cli("stop", "edit", check=True)
    # The controller has the report that the job is at rest before the event is out.
    assert events.wait_for(lambda _e: True, timeout=10) is not None
    events.close()
    assert sandbox.job("edit")["state"] == "stopped"


def test_a_controller_killed_while_a_changed_job_stops_still_restarts_it(sandbox):
    """The restart a reload owes is kept in procclaw.db: the controller after the one
    killed starts the job with its new config once its old run is at rest."""
    before = _reloaded_while_it_stops(sandbox)
    os.kill(sandbox.actor_pid("controller"), signal.SIGKILL)

    def restarted():
        try:
            job = sandbox.job("edit")
        except ClientError:
            return None  # the controller is being replaced
        return job["state"] == "running" and job["pid"] != before and job

    job = wait_until(restarted, timeout=15)
    assert psutil.Process(job["pid"]).cmdline()[-1] == "new"


def test_a_restart_of_a_job_a_reload_is_restarting_is_that_restart(sandbox):
    """It starts once, with its new config (a restart asked for during the reload's stop
    started it again with the old one, and the reload's start was still owed)."""
    before = _reloaded_while_it_stops(sandbox)
    assert sandbox.client().call("restart", {"job": "edit"})["state"] == "stopping"
    many = sandbox.client().call("restart_many", {"jobs": ["edit"]})
    assert many["edit"]["state"] == "stopping"
    job = wait_until(
        lambda: (j := sandbox.job("edit"))["state"] == "running" and j["pid"] != before and j
    )
    assert psutil.Process(job["pid"]).cmdline()[-1] == "new"
