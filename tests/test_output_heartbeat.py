"""The output heartbeat (`health_check: {type: output}`): lines matched as they go by,
a deadline instead of polling, and a restart of a job that falls silent."""

from __future__ import annotations

import os
import signal

import pytest
from conftest import wait_until
from dependency_helpers import program

from actors.supervisor.output_heartbeat import MAX_LINE, LineMatcher
from procclaw.config import ConfigError, parse_config


def gateway_job(beats: int, interval: float, max_age: float, stream: str = "stdout") -> str:
    return f"""\
        jobs:
          gw:
            cmd: {program("output_heartbeat.py", beats, interval, stream)}
            type: continuous
            enabled: false
            retry: {{delays: [0.1, 0.1, 0.1]}}
            health_check: {{type: output, pattern: '^alive \\d+$', max_age: {max_age},
                            stream: {stream}}}
        """


def test_a_job_whose_heartbeat_lines_stop_is_restarted_once_max_age_has_passed(sandbox):
    sandbox.run_jobs(gateway_job(beats=8, interval=0.2, max_age=1))
    events = sandbox.subscribe("job.gw.")
    sandbox.cli("start", "gw", check=True)
    first = sandbox.job("gw")["pid"]
    healthy = events.wait_for(lambda e: e.topic == "job.gw.health", timeout=10)
    assert healthy.data["healthy"] is True
    status = sandbox.cli("status", "gw", check=True).stdout
    assert any(line.split()[:1] == ["heartbeat"] and "ago" in line for line in status.split("\n"))
    late = events.wait_for(lambda e: e.topic == "job.gw.heartbeat" and e.data["heartbeat_late"], 10)
    silent_for = late.ts - late.data["heartbeat_at"]
    assert 1.0 <= silent_for < 2.5, silent_for  # the deadline, not a poll every interval
    sick = events.wait_for(lambda e: e.topic == "job.gw.health", timeout=10)
    assert sick.data["healthy"] is False
    assert sick.data["reason"].startswith("no line matching '^alive \\\\d+$' on stdout for ")
    again = events.wait_for(lambda e: e.topic == "job.gw.running" and e.data["pid"] != first, 10)
    assert again.ts - late.ts < 2.0  # restarted about a second after, at most
    assert sandbox.job("gw")["health_detail"]["unhealthy_count"] >= 1
    events.close()


def test_a_job_that_never_beats_is_unhealthy_max_age_after_its_start(sandbox):
    sandbox.run_jobs(gateway_job(beats=0, interval=0, max_age=0.5, stream="stderr"))
    events = sandbox.subscribe("job.gw.health")
    sandbox.cli("start", "gw", check=True)
    sick = events.wait_for(lambda e: e.topic == "job.gw.health", timeout=10)
    assert sick.data["healthy"] is False
    assert "on stderr since it started" in sick.data["reason"]
    events.close()


def test_heartbeats_on_stderr_keep_a_job_healthy_across_a_supervisor_crash(sandbox):
    sandbox.run_jobs(gateway_job(beats=100_000, interval=0.1, max_age=1, stream="stderr"))
    events = sandbox.subscribe("job.gw.")
    sandbox.cli("start", "gw", check=True)
    pid = sandbox.job("gw")["pid"]
    assert events.wait_for(lambda e: e.topic == "job.gw.health", timeout=10).data["healthy"]
    _name, supervisor = sandbox.supervisor_of("gw")
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: sandbox.supervisor_of("gw")[1] != supervisor)
    heard = sandbox.job("gw")["heartbeat_at"]
    wait_until(lambda: (sandbox.job("gw")["heartbeat_at"] or 0) > heard + 1.5, timeout=10)
    job = sandbox.job("gw")
    assert (job["pid"], job["health"], job["restarts"]) == (pid, "healthy", 0)
    assert events.wait_for(lambda e: e.topic == "job.gw.health", timeout=0.5) is None
    events.close()


def test_a_health_actor_that_comes_up_after_the_first_heartbeat_still_judges_it(sandbox):
    """The run was heard before the health actor knew of it (a health actor starting, or
    replaced, just then): its sync goes by the heartbeat facts `list` gives."""
    sandbox.run_jobs(gateway_job(beats=100_000, interval=0.1, max_age=5))
    health = sandbox.actor_pid("health")
    events = sandbox.subscribe("job.gw.")
    os.kill(health, signal.SIGSTOP)
    try:
        sandbox.cli("start", "gw", check=True)
        assert events.wait_for(lambda e: e.topic == "job.gw.heartbeat", timeout=10)
    finally:
        os.kill(health, signal.SIGKILL)
    verdict = events.wait_for(lambda e: e.topic == "job.gw.health", timeout=10)
    assert verdict.data["healthy"] is True
    assert sandbox.job("gw")["health"] == "healthy"
    listed = next(job for job in sandbox.client().call("list") if job["id"] == "gw")
    assert listed["heartbeat_at"] is not None and listed["heartbeat_late"] is False
    events.close()


# ---- the matcher, chunk by chunk --------------------------------------------------------


def test_a_line_split_across_chunks_matches_once_whole():
    matcher = LineMatcher(r"^alive \d+$")
    assert not matcher.feed(b"noise\nali")
    assert not matcher.feed(b"ve 4")
    assert matcher.feed(b"2\nmore noise")
    assert not matcher.feed(b"\n")


def test_a_match_must_be_a_whole_line_when_anchored_and_may_be_a_part_when_not():
    assert not LineMatcher(r"^alive$").feed(b"not alive\nalive too\n")
    assert LineMatcher(r"alive").feed(b"not alive\n")


def test_a_very_long_line_is_matched_by_its_start_and_costs_no_more_memory():
    matcher = LineMatcher(r"^beat")
    assert not matcher.feed(b"beat" + b"x" * (10 * MAX_LINE))
    assert matcher.feed(b"x" * MAX_LINE + b"\n")
    assert len(matcher._unfinished) == 0


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("max_age: 3s", "health_check.pattern is required for type: output"),
        ("pattern: '(', max_age: 3s", "health_check.pattern: not a regular expression"),
        ("pattern: '', max_age: 3s", "health_check.pattern: an empty pattern matches every"),
        ("pattern: a", "health_check.max_age is required for type: output"),
        ("pattern: a, max_age: 3s, stream: both", "health_check.stream: expected one of"),
        ("pattern: a, max_age: 3s, url: 'http://x'", "health_check.url is only used by type: http"),
    ],
)
def test_a_bad_output_check_is_one_line_naming_the_field(keys, message):
    jobs = f"jobs:\n  gw:\n    cmd: x\n    health_check: {{type: output, {keys}}}\n"
    with pytest.raises(ConfigError) as raised:
        parse_config(None, jobs, "procclaw.yaml", "jobs.yaml")
    assert str(raised.value).startswith("jobs.yaml:4: job 'gw': " + message), str(raised.value)
