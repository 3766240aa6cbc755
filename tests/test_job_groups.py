"""`start`, `stop` and `restart` of the jobs carrying a tag, alone, with more tags, or with
jobs named beside it; an unknown tag is one line naming the tags there are."""

import json

import pytest
from http_helpers import post

pytestmark = pytest.mark.timeout(60)

GROUPS = """\
    jobs:
      api:
        type: continuous
        cmd: sleep 300
        tags: [web]
      static:
        type: continuous
        cmd: sleep 300
        tags: [web, front]
      worker:
        type: continuous
        cmd: sleep 300
        tags: [back]
      batch:
        cmd: sleep 300
        tags: [back]
    """


@pytest.fixture
def groups(sandbox):
    sandbox.run_jobs(GROUPS)
    for job_id in ("api", "static", "worker"):
        sandbox.wait_state(job_id, "running")
    return sandbox


def states(sandbox) -> dict[str, str]:
    return {job["id"]: job["state"] for job in sandbox.client().call("list")}


def test_stop_of_a_tag_stops_the_jobs_carrying_it_and_no_other(groups):
    result = groups.cli("stop", "--tag", "web", check=True)
    assert sorted(result.stdout.splitlines()) == ["api: stopped", "static: stopped"]
    assert states(groups) == {
        "api": "stopped",
        "static": "stopped",
        "worker": "running",
        "batch": "stopped",
    }


def test_start_of_names_and_tags_acts_on_each_job_once(groups):
    groups.cli("stop", "--all", check=True)
    result = groups.cli("start", "batch", "--tag", "web", "--tag=front", "api", check=True)
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines()) == [
        "api",
        "batch",
        "static",
    ]
    assert states(groups) == {
        "api": "running",
        "static": "running",
        "worker": "stopped",
        "batch": "running",
    }


def test_restart_of_a_tag_replaces_each_of_its_processes(groups):
    before = {job_id: groups.job(job_id)["pid"] for job_id in ("api", "static", "worker")}
    groups.cli("restart", "--tag", "web", check=True)
    after = {job_id: groups.job(job_id)["pid"] for job_id in before}
    assert after["api"] != before["api"] and after["static"] != before["static"]
    assert after["worker"] == before["worker"]


def test_an_unknown_tag_is_one_line_with_the_nearest_and_the_known_tags(groups):
    for command in ("start", "stop", "restart"):
        result = groups.cli(command, "api", "--tag", "wbe")
        assert (result.returncode, result.stdout, result.stderr) == (
            1,
            "",
            "procclaw: no job is tagged 'wbe' (did you mean 'web'?); tags: back, front, web\n",
        ), command
    assert states(groups)["api"] == "running"


def test_a_tag_whose_jobs_are_all_stopped_changes_nothing_and_says_so(groups):
    groups.cli("stop", "--tag", "web", check=True)
    again = groups.cli("stop", "--tag", "web")
    assert again.returncode == 0
    assert sorted(again.stdout.splitlines()) == [
        "api: not running (stopped)",
        "static: not running (stopped)",
    ]
    assert states(groups)["worker"] == "running"


def test_a_tag_with_all_is_a_usage_error(groups):
    result = groups.cli("stop", "--tag", "web", "--all")
    assert result.returncode == 2
    assert result.stderr.startswith("procclaw: stop: --tag or --all, not both\nUsage:\n")
    assert states(groups)["api"] == "running"


def test_json_gives_each_tagged_jobs_outcome(groups):
    result = groups.cli("stop", "--tag", "back", "--json", check=True)
    outcome = json.loads(result.stdout)
    assert outcome["ok"] is True
    assert outcome["jobs"]["worker"]["state"] == "stopped"
    assert outcome["jobs"]["batch"] == {"state": "stopped", "note": "not running"}


def test_the_api_stops_and_starts_the_jobs_carrying_a_tag(groups):
    reply = post(groups.api_port, "/api/v1/tags/web/stop")
    assert reply.status == 200
    assert (reply.json["tag"], reply.json["action"]) == ("web", "stop")
    assert set(reply.json["jobs"]) == {"api", "static"}
    for job_id in ("api", "static"):
        groups.wait_state(job_id, "stopped")
    assert states(groups)["worker"] == "running"
    again = post(groups.api_port, "/api/v1/tags/web/stop").json["jobs"]
    assert again["api"] == {"state": "stopped", "note": "not running"}
    assert post(groups.api_port, "/api/v1/tags/front/start").status == 200
    assert groups.wait_state("static", "running")
    assert states(groups)["api"] == "stopped"


def test_the_api_refuses_an_unknown_tag_naming_the_known_ones(groups):
    reply = post(groups.api_port, "/api/v1/tags/wbe/restart")
    assert reply.status == 404
    assert reply.json["error"] == {
        "code": "no_such_tag",
        "message": "no job is tagged 'wbe' (did you mean 'web'?); tags: back, front, web",
    }
    assert post(groups.api_port, "/api/v1/tags/web/stop?force=true").status == 400
    assert states(groups)["api"] == "running"
