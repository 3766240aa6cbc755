"""`--json` on every command that prints: one JSON document, the text's facts in it."""

import json

import pytest

from procclaw import __version__

JOBS = """\
jobs:
  web:
    cmd: sleep 300
    type: continuous
  batch:
    cmd: "true"
    type: manual
  broken:
    cmd: /nonexistent/program
    type: manual
"""


def as_json(result) -> dict | list:
    return json.loads(result.stdout)


@pytest.mark.timeout(120)
def test_start_stop_restart_pause_resume_print_each_jobs_outcome(sandbox):
    sandbox.run_jobs(JOBS)
    web = sandbox.wait_state("web", "running")

    again = as_json(sandbox.cli("start", "web", "--json", check=True))
    assert again == {
        "ok": True,
        "jobs": {"web": {"state": "running", "pid": web["pid"], "note": "already started"}},
    }

    restarted = as_json(sandbox.cli("restart", "web", "--json", check=True))
    assert restarted["ok"] and restarted["jobs"]["web"]["state"] == "running"
    assert restarted["jobs"]["web"]["pid"] not in (None, web["pid"])

    started = sandbox.cli("start", "batch", "broken", "nosuch", "--json")
    assert started.returncode == 1  # as the text form: not every job got there
    outcome = as_json(started)
    assert outcome["ok"] is False
    assert outcome["jobs"]["batch"]["state"] in ("running", "completed")
    assert outcome["jobs"]["broken"]["state"] == "failed"
    assert "/nonexistent/program" in outcome["jobs"]["broken"]["reason"]
    assert outcome["jobs"]["nosuch"]["error"].startswith("no job 'nosuch'")

    paused = as_json(sandbox.cli("pause", "web", "--json", check=True))
    assert paused["jobs"]["web"]["note"] == "paused"
    assert paused["jobs"]["web"]["state"] == "stopped"
    resumed = as_json(sandbox.cli("resume", "web", "--json", check=True))
    assert resumed["jobs"]["web"]["note"] == "resumed"
    assert resumed["jobs"]["web"]["state"] == "running"

    stopped = as_json(sandbox.cli("stop", "--all", "--json", check=True))
    assert stopped["ok"] and list(stopped["jobs"]) == ["web"]
    assert stopped["jobs"]["web"]["state"] == "stopped"
    assert stopped["jobs"]["web"]["last_exit"] == "killed by SIGTERM"
    quiet = as_json(sandbox.cli("stop", "web", "--json", check=True))
    assert quiet["jobs"]["web"] == {"state": "stopped", "note": "not running"}


@pytest.mark.timeout(90)
def test_reload_prints_what_changed(sandbox):
    sandbox.run_jobs(JOBS)
    sandbox.write("jobs.yaml", JOBS + "  extra:\n    cmd: sleep 300\n    type: continuous\n")
    change = as_json(sandbox.cli("reload", "--json", check=True))
    assert change["reloaded"] is True
    assert change["added"] == ["extra"] and change["actions"]["extra"] == "started"
    assert sorted(change["unchanged"]) == ["batch", "broken", "web"]

    sandbox.write("jobs.yaml", "jobs:\n  web:\n    comand: sleep 1\n")
    refused = sandbox.cli("reload", "--json")
    assert refused.returncode == 1
    assert as_json(refused)["reloaded"] is False
    assert "unknown key 'comand'" in as_json(refused)["error"]


def test_secret_list_names_the_secrets_and_their_store_but_no_value(sandbox):
    assert as_json(sandbox.cli("secret", "list", "--json", check=True)) == []
    sandbox.cli("secret", "set", "TOKEN", "s3cret-value", check=True)
    listed = sandbox.cli("secret", "list", "--json", check=True)
    assert as_json(listed) == [{"name": "TOKEN", "store": "file"}]
    assert "s3cret-value" not in listed.stdout


def test_config_prints_its_paths_and_validate_its_verdict(sandbox):
    paths = as_json(sandbox.cli("config", "--json", check=True))
    assert paths["jobs"] == {"path": str(sandbox.home.jobs_file), "exists": False}
    sandbox.write("jobs.yaml", JOBS)
    assert as_json(sandbox.cli("config", "--json", check=True))["jobs"]["exists"] is True
    valid = as_json(sandbox.cli("config", "--validate", "--json", check=True))
    assert (valid["valid"], valid["jobs"], valid["problems"]) == (True, 3, [])
    sandbox.write("jobs.yaml", "jobs:\n  web:\n    comand: sleep 1\n")
    invalid = sandbox.cli("config", "--validate", "--json")
    assert invalid.returncode == 1
    verdict = as_json(invalid)
    assert verdict["valid"] is False
    assert any("unknown key 'comand' (did you mean 'cmd'?)" in p for p in verdict["problems"])


def test_schedule_prints_the_fires_in_iso_8601_across_a_dst_change(sandbox):
    result = sandbox.cli(
        "schedule",
        "30 2 * * *",
        "--tz",
        "Europe/Paris",
        "--from",
        "2026-03-28T12:00",
        "-n",
        "2",
        "--json",
        check=True,
    )
    assert as_json(result) == {
        "schedule": "30 2 * * *",
        "zone": "Europe/Paris",
        "after": "2026-03-28T12:00:00+01:00",
        "fires": ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
    }


def test_version(sandbox):
    assert as_json(sandbox.cli("version", "--json", check=True)) == {"version": __version__}
