"""The controller: applied config survives its restarts; reloads are validated and audited."""

import os
import re
import signal
import sqlite3

import pytest
from conftest import database_at, wait_until

from actors.controller.actor import LISTED_FIELDS
from procclaw.client import ClientError
from procclaw.run import Run
from procclaw.store import MIGRATIONS, ScheduleMark, Store, StoreError


def _job_ids(box):
    return [job["id"] for job in box.client().call("list")]


def test_a_restarted_controller_keeps_the_applied_config_not_the_edited_file(running):
    assert _job_ids(running) == ["hello", "clock"]
    running.write("jobs.yaml", "jobs:\n  other:\n    cmd: 'true'\n")
    old = running.actor_pid("controller")
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: running.actor_pid("controller") not in (None, old), timeout=5)
    assert _job_ids(running) == ["hello", "clock"]


def test_reload_applies_a_good_config_and_publishes_what_changed(running):
    events = running.subscribe("config.")
    running.write("jobs.yaml", "jobs:\n  hello:\n    cmd: echo hi\n  new:\n    cmd: 'true'\n")
    change = running.client().call("reload")
    assert change == {
        "added": ["new"],
        "removed": ["clock"],
        "changed": ["hello"],
        "unchanged": [],
        "actions": {"clock": "stopped"},
        "errors": {},
    }
    event = events.wait_for(lambda e: e.topic == "config.reloaded", timeout=5)
    assert event is not None and event.data == change
    assert _job_ids(running) == ["hello", "new"]
    events.close()


def test_a_bad_reload_changes_nothing_and_says_where_the_problem_is(running):
    running.write("jobs.yaml", "jobs:\n  hello:\n    cmd: echo hi\n    tags: nope\n")
    with pytest.raises(ClientError) as caught:
        running.client().call("reload")
    assert caught.value.code == "invalid_config"
    assert caught.value.message == (
        f"{running.home.jobs_file}:4: job 'hello': tags: expected a list of strings, got 'nope'"
    )
    assert _job_ids(running) == ["hello", "clock"]


def test_every_state_changing_command_leaves_one_audit_line(running):
    running.client().call("reload")
    running.write("jobs.yaml", "jobs: [")
    with pytest.raises(ClientError):
        running.client().call("reload")
    running.client().call("list")  # reads are not audited
    lines = running.home.audit_log.read_text().splitlines()
    assert len(lines) == 2
    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z cmd=reload job=- caller=cli result="
    assert re.match(pattern + "ok$", lines[0])
    assert re.match(pattern + '"error: ', lines[1])


def test_an_unknown_job_gets_a_suggestion(running):
    with pytest.raises(ClientError) as caught:
        running.client().call("status", {"job": "helo"})
    assert caught.value.message == "no job 'helo' (did you mean 'hello'?)"
    result = running.cli("status", "helo")
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "procclaw: no job 'helo' (did you mean 'hello'?)",
    )


def test_the_database_is_wal_and_versioned(tmp_path):
    store = Store(tmp_path / "procclaw.db")
    assert store.schema_version == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    again = Store(tmp_path / "procclaw.db")  # reopening migrates nothing twice
    assert again.schema_version == len(MIGRATIONS)
    again.close()


def test_a_scheduled_jobs_pause_from_the_release_before_is_kept(tmp_path):
    path = tmp_path / "procclaw.db"
    db = database_at(path, 3)  # the release before pauses had a table of their own
    db.execute("INSERT INTO schedules VALUES ('report', 1.5, 'old daemon', 1, 4)")
    db.execute("INSERT INTO schedules VALUES ('backup', NULL, NULL, 0, 0)")
    db.close()
    store = Store(path)
    assert list(store.pauses()) == ["report"]
    assert store.schedule_marks()["report"] == ScheduleMark(1.5, "old daemon", 4)
    store.close()


def test_runs_from_before_causes_were_recorded_are_kept_with_none(tmp_path):
    path = tmp_path / "procclaw.db"
    db = database_at(path, 4)  # the release before causes were recorded
    db.execute("INSERT INTO runs VALUES ('r1', 'web', 1.0, 2.5, 0, NULL, 'completed', 'hi')")
    db.close()
    store = Store(path)
    assert store.runs("web") == [Run("r1", "web", 1.0, 2.5, 0, None, "completed", ("hi",), "")]
    store.record_run(Run("r2", "web", 3.0, 4.0, None, "SIGTERM", "stopped", (), "cli"))
    assert [run.cause for run in store.runs("web")] == ["cli", ""]
    store.close()


def test_a_database_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "procclaw.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 999")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this ProcClaw understands"):
        Store(path)


def test_config_and_list_narrowed_to_what_an_actor_reads(running):
    """The health actor asks for each job's check and a few keys of its state, not
    the whole config and summary of every job."""
    checks = running.client().call("config", {"parts": ["health_check"]})
    assert list(checks) == ["jobs"]  # no settings
    assert [sorted(job) for job in checks["jobs"]] == [["health_check", "id"]] * 2
    assert checks["jobs"][0]["id"] == "hello"
    assert checks["jobs"][0]["health_check"]["type"] == "process"

    listed = running.client().call("list", {"fields": ["state", "pid"]})
    assert [sorted(job) for job in listed] == [["id", "pid", "state"]] * 2

    with pytest.raises(ClientError) as caught:
        running.client().call("config", {"parts": ["type", "helth_check"]})
    assert (caught.value.code, caught.value.message) == (
        "bad_request",
        "config: a job has no 'helth_check'",
    )
    with pytest.raises(ClientError) as caught:
        running.client().call("list", {"fields": ["state", "sate"]})
    assert (caught.value.code, caught.value.message) == ("bad_request", "list: a job has no 'sate'")


def test_every_key_a_listed_job_has_can_be_asked_for_alone(sandbox):
    sandbox.run_jobs("""\
        jobs:
          nightly:
            type: scheduled
            schedule: "0 3 * * *"
            timezone: Europe/Paris
            cmd: "true"
          svc:
            type: continuous
            cmd: sleep 60
        """)
    sandbox.wait_state("svc", "running")
    sandbox.cli("pause", "nightly", check=True)
    keys = {key for job in sandbox.client().call("list") for key in job}
    assert keys == LISTED_FIELDS
