"""The scheduler actor with a real daemon: due runs, overlap, pause, max_runtime, crashes.

Schedules here have a seconds field (`* * * * * */2`: every two seconds) so that no test
waits for a minute to turn.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from conftest import wait_until
from http_helpers import get

from procclaw.states import JobState
from procclaw.store import ScheduleMark, Store


def scheduled_job(job_id: str, cmd: str, schedule: str = "* * * * * *", **keys: str) -> str:
    extra = "".join(f"    {key}: {value}\n" for key, value in keys.items())
    return (
        f"  {job_id}:\n    cmd: {cmd}\n    type: scheduled\n"
        f"    schedule: '{schedule}'\n    timezone: Europe/Berlin\n{extra}"
    )


def fired(events, job_id: str, timeout: float = 10.0, **data):
    """The next `schedule.<job>.fired` event whose data has the given values."""
    event = events.wait_for(
        lambda e: (
            e.topic == f"schedule.{job_id}.fired"
            and all(e.data.get(key) == value for key, value in data.items())
        ),
        timeout,
    )
    assert event is not None, f"no schedule.{job_id}.fired with {data}"
    return event


def watch_then_load(box, jobs: str, *prefixes: str):
    """Subscribe before the jobs exist, then load them: a job due every second may fire
    before a subscription made after `daemon start` is live."""
    box.run_jobs("jobs: {}\n")
    events = box.subscribe(*prefixes)
    box.write("jobs.yaml", "jobs:\n" + jobs)
    box.cli("reload", check=True)
    return events


def log_lines(box, job_id: str) -> list[str]:
    path = box.home.job_log(job_id)
    return path.read_text().splitlines() if path.exists() else []


def test_a_due_run_starts_on_its_second_and_is_announced(sandbox):
    job = scheduled_job("tick", "echo tick", "* * * * * */2")
    events = watch_then_load(sandbox, job, "schedule.tick.", "job.tick.running")
    first = fired(events, "tick", outcome="fired")
    running = events.wait_for(lambda e: e.topic == "job.tick.running", 10)
    second = fired(events, "tick", outcome="fired")
    assert first.data["due"] % 2 == 0 and second.data["due"] - first.data["due"] == 2
    assert first.data["due_at"].endswith(("+01:00", "+02:00"))  # in the job's zone
    assert running.data["started_at"] >= first.data["due"]
    job = sandbox.job("tick")
    assert len(job["next_runs"]) == 3 and job["timezone"] == "Europe/Berlin"
    wait_until(lambda: sandbox.job("tick")["last_run"])
    status = sandbox.cli("status", "tick", check=True).stdout
    assert "next runs" in status and "completed (exit code 0)" in status
    events.close()


def test_a_run_still_going_makes_the_next_one_skipped_and_counted(sandbox):
    events = watch_then_load(sandbox, scheduled_job("slow", "sleep 30"), "schedule.slow.")
    fired(events, "slow", outcome="fired")
    skipped = events.wait_for(lambda e: e.topic == "schedule.slow.skipped", 10)
    assert skipped is not None
    assert skipped.data["reason"] == "the run before is still running (on_overlap: skip)"
    assert sandbox.job("slow")["skipped"] >= 1
    events.close()


def test_queue_holds_one_run_and_starts_it_when_the_current_one_ends(sandbox):
    job = scheduled_job("batch", "sleep 2.5", on_overlap="queue")
    events = watch_then_load(sandbox, job, "schedule.batch.", "job.batch.")
    first = fired(events, "batch", outcome="fired")
    fired(events, "batch", outcome="queued")
    skipped = events.wait_for(lambda e: e.topic == "schedule.batch.skipped", 10)
    assert skipped.data["reason"] == "a run is queued already (on_overlap: queue)"
    completed = events.wait_for(lambda e: e.topic == "job.batch.completed", 10)
    restarted = events.wait_for(lambda e: e.topic in state_topics("batch"), 10)
    assert restarted.topic == "job.batch.starting"  # the queued run, not a new due time
    assert completed.ts - first.data["due"] >= 2.5
    events.close()


def state_topics(job: str) -> set[str]:
    """A job's state-change topics: not its health verdicts, which come at any point."""
    return {f"job.{job}.{state}" for state in [*(s.value for s in JobState), "exited"]}


def test_kill_restart_stops_the_running_instance_then_runs_again(sandbox):
    job = scheduled_job("fresh", "sleep 30", "* * * * * */2", on_overlap="kill_restart")
    events = watch_then_load(sandbox, job, "schedule.fresh.", "job.fresh.")
    fired(events, "fresh", outcome="fired")
    first = events.wait_for(lambda e: e.topic == "job.fresh.running", 10)
    seen = []  # the fired event comes once the restart is under way: in any order

    def outcomes():
        return [e.data.get("outcome") for e in seen if e.topic == "schedule.fresh.fired"]

    while "job.fresh.running" not in [e.topic for e in seen] or not outcomes():
        seen.append(events.wait_for(lambda e: True, 10))
        assert seen[-1] is not None
    assert outcomes() == ["restarted"]
    # State changes only: a health verdict on the first run may come at any point.
    topics = [e.topic for e in seen if e.topic in state_topics("fresh")]
    assert topics == [f"job.fresh.{state}" for state in ("stopping", "exited", "stopped")] + [
        "job.fresh.starting",
        "job.fresh.running",
    ]
    event = next(e for e in seen if e.topic == "job.fresh.running")
    assert event.data["pid"] != first.data["pid"]
    events.close()


def test_a_paused_job_skips_its_runs_refuses_a_start_and_stays_paused(sandbox):
    sandbox.run_jobs("jobs:\n" + scheduled_job("report", "echo report"))
    # It fires every second: a run may be under way, and finishes (said after the pause).
    assert sandbox.cli("pause", "report", check=True).stdout.startswith("report: paused")
    events = sandbox.subscribe("schedule.report.")
    skipped = events.wait_for(lambda e: e.topic == "schedule.report.skipped", 10)
    assert skipped.data["reason"] == "paused"
    assert "paused" in sandbox.cli("list", check=True).stdout
    started = sandbox.cli("start", "report")
    assert (started.returncode, started.stderr) == (
        1,
        "procclaw: job 'report' is paused: procclaw resume report\n",
    )
    os.kill(sandbox.actor_pid("controller"), signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid("controller"))
    assert sandbox.job("report")["paused"] is True
    sandbox.cli("resume", "report", check=True)
    fired(events, "report", outcome="fired")
    assert sandbox.job("report")["paused"] is False
    events.close()


def test_a_run_under_way_finishes_when_its_job_is_paused(sandbox):
    events = watch_then_load(sandbox, scheduled_job("slow", "sleep 2"), "job.slow.")
    assert events.wait_for(lambda e: e.topic == "job.slow.running", 10)
    paused = sandbox.cli("pause", "slow", check=True)
    assert paused.stdout == "slow: paused; the run under way finishes\n"
    exited = events.wait_for(lambda e: e.topic == "job.slow.exited", 10)
    assert (exited.data["exit_code"], exited.data["signal"]) == (0, None)  # ran to its end
    assert exited.data["uptime"] >= 1.5
    assert events.wait_for(lambda e: e.topic == "job.slow.completed", 10)
    assert sandbox.job("slow")["state"] == "completed"
    events.close()


def test_pause_and_resume_are_announced_on_the_bus(sandbox):
    sandbox.run_jobs("jobs:\n" + scheduled_job("report", "echo report", "0 0 1 1 *"))
    events = sandbox.subscribe("job.report.")
    before = time.time()
    sandbox.cli("pause", "report", check=True)
    paused = events.wait_for(lambda e: e.topic == "job.report.paused", 10)
    sandbox.cli("resume", "report", check=True)
    resumed = events.wait_for(lambda e: e.topic == "job.report.resumed", 10)
    assert before <= paused.data.pop("since") <= time.time()
    assert (paused.data, resumed.data) == (
        {"job": "report", "paused": True},
        {"job": "report", "paused": False, "since": None},
    )
    events.close()


def test_paused_jobs_can_be_listed_by_the_cli_and_the_api(sandbox):
    jobs = scheduled_job("report", "echo report", "0 0 1 1 *") + "  web:\n    cmd: sleep 30\n"
    sandbox.run_jobs("jobs:\n" + jobs)
    sandbox.cli("pause", "report", check=True)
    listed = sandbox.cli("list", "--status", "paused", "--json", check=True)
    assert [job["id"] for job in json.loads(listed.stdout)] == ["report"]
    reply = get(sandbox.api_port, "/api/v1/jobs?status=paused")
    assert [job["id"] for job in reply.json["jobs"]] == ["report"]
    wrong = sandbox.cli("list", "--status", "asleep")
    assert wrong.returncode == 2 and "--status must be one of" in wrong.stderr


def test_a_run_longer_than_max_runtime_is_stopped_and_recorded_as_timed_out(sandbox):
    sandbox.run_jobs("jobs:\n  long:\n    cmd: sleep 30\n    max_runtime: 1\n")
    sandbox.cli("start", "long", check=True)
    job = sandbox.wait_state("long", "failed")
    assert job["reason"] == "timed out: ran longer than max_runtime (1 s)"
    assert job["last_run"]["result"] == "timeout"
    assert job["last_run"]["signal"] == "SIGTERM"


def test_a_due_time_is_run_once_whoever_asks_again(sandbox):
    sandbox.run_jobs("jobs:\n" + scheduled_job("once", "echo once", "0 0 1 1 *"))
    client = sandbox.client()
    due = time.time() + 3600  # later than anything the scheduler has sent
    fires = {"fires": [{"job": "once", "due": due, "action": "run"}]}
    assert client.call("fire", fires) == [{"outcome": "fired"}]
    assert client.call("fire", fires) == [{"outcome": "duplicate", "reason": "handled already"}]
    wait_until(lambda: sandbox.job("once")["state"] == "completed")
    assert log_lines(sandbox, "once") == ["once"]


@pytest.mark.parametrize("actor", ["scheduler", "controller"])
def test_a_killed_actor_comes_back_and_no_due_time_runs_twice(sandbox, actor):
    began = time.time()
    job = scheduled_job("beat", "echo beat")
    events = watch_then_load(sandbox, job, "schedule.beat.", f"actor.{actor}.up")
    dues = [fired(events, "beat").data["due"]]
    for _ in range(3):
        os.kill(sandbox.actor_pid(actor), signal.SIGKILL)
        assert events.wait_for(lambda e: e.topic == f"actor.{actor}.up", 10)
        dues.append(fired(events, "beat").data["due"])
    sandbox.cli("pause", "beat", check=True)
    ended = time.time()
    assert dues == sorted(set(dues))
    wait_until(lambda: sandbox.job("beat")["state"] in ("completed", "failed"))
    runs = log_lines(sandbox, "beat")
    assert 4 <= len(runs) <= int(ended - began) + 2  # at most one run per due second
    events.close()


def test_due_times_that_went_by_unseen_give_one_late_run_not_a_burst(sandbox):
    sandbox.run_jobs("jobs:\n" + scheduled_job("pulse", "echo pulse"))
    events = sandbox.subscribe("schedule.pulse.")
    fired(events, "pulse")
    scheduler = sandbox.actor_pid("scheduler")
    os.kill(scheduler, signal.SIGSTOP)  # as if the machine slept (briefly: root is watching)
    frozen_at = time.time()
    try:
        wait_until(lambda: time.time() > frozen_at + 2.5, timeout=10)
    finally:
        os.kill(scheduler, signal.SIGCONT)
    missed = events.wait_for(lambda e: e.topic == "schedule.pulse.missed", 10)
    assert missed is not None and missed.data["missed"] >= 1
    late = fired(events, "pulse")
    assert late.data["due"] == missed.data["due"]  # only the latest due time runs
    assert late.data["reason"] == "due, and run late"
    following = fired(events, "pulse")
    assert following.data["due"] == late.data["due"] + 1
    events.close()


def test_catchup_once_runs_once_for_what_the_down_daemon_missed(sandbox):
    jobs = "jobs:\n" + scheduled_job("yearly-once", "echo caught", "@yearly", catchup="once")
    jobs += scheduled_job("yearly-skip", "echo caught", "@yearly")
    sandbox.write("jobs.yaml", jobs)
    three_years_ago = time.time() - 3 * 366 * 86400
    store = Store(sandbox.home.db_file)
    for job in ("yearly-once", "yearly-skip"):
        store.save_schedule_mark(job, ScheduleMark(three_years_ago, "an earlier daemon"))
    store.close()
    sandbox.start_daemon()
    wait_until(lambda: log_lines(sandbox, "yearly-once") == ["caught"])
    daemon_log = sandbox.home.root / "logs" / "daemon.log"
    wait_until(lambda: "job yearly-skip: 3 scheduled run(s) missed" in daemon_log.read_text())
    sandbox.cli("daemon", "stop", check=True)
    sandbox.start_daemon()  # no new catch-up: the last one is on record

    def scheduled_jobs():
        return sandbox.client().call("scheduled")["jobs"]

    scheduled = sandbox.client().call("scheduled")
    wait_until(lambda: all(job["daemon_id"] == scheduled["daemon_id"] for job in scheduled_jobs()))
    assert log_lines(sandbox, "yearly-once") == ["caught"]
    assert log_lines(sandbox, "yearly-skip") == []


def test_a_reload_rearms_the_timers(sandbox):
    sandbox.run_jobs("jobs:\n" + scheduled_job("later", "echo later", "@yearly"))
    events = sandbox.subscribe("schedule.later.")
    sandbox.write("jobs.yaml", "jobs:\n" + scheduled_job("later", "echo later"))
    sandbox.client().call("reload")
    fired(events, "later", outcome="fired")
    events.close()


def test_a_bad_schedule_is_a_config_error_with_its_line(sandbox):
    sandbox.write("jobs.yaml", "jobs:\n" + scheduled_job("bad", "true", "0 25 * * *"))
    result = sandbox.cli("config", "--validate")
    assert result.returncode != 0
    assert "jobs.yaml:5: job 'bad': schedule: '0 25 * * *' is not a valid cron expression" in (
        result.stderr + result.stdout
    )
