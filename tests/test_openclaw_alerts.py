"""Which events raise an alert, how it reads, and how a storm folds into one message."""

from __future__ import annotations

import pytest

from procclaw.bus_events import ActorEvent, ConfigReloaded, Probe, ScheduleMissed, ScheduleRun
from procclaw.config import JobConfig
from procclaw.job_facts import JobExited, JobFacts
from procclaw.openclaw.alerts import Alert, alert_for
from procclaw.openclaw.folding import AlertFolder
from procclaw.reports import HealthReport

NO_JOBS: dict = {}
SERVICE = JobConfig(id="api", cmd="serve", type="continuous")
ON_FAILURE = JobConfig(id="api", cmd="serve", type="continuous", restart="on-failure")


def test_a_failed_job_alerts_with_its_reason_and_restarts():
    facts = JobFacts("backup", "failed", last_exit="exit code 2", restarts=5)
    alert = alert_for("job.backup.failed", facts, 1.0, NO_JOBS)
    assert alert == Alert("backup", "failed", 1.0, "exit code 2", 5)
    assert alert.message(host="box") == (
        "ProcClaw (box): job backup failed\n"
        "reason: exit code 2\n"
        "restarts: 5\n"
        "see: procclaw status backup"
    )


def test_a_failure_for_a_dependency_is_a_dependency_timeout():
    reason = "dependency 'db' not ready after 60 s"
    alert = alert_for("job.web.failed", JobFacts("web", "failed", reason=reason), 1.0, NO_JOBS)
    assert (alert.kind, alert.reason) == ("dependency_timeout", reason)
    assert alert.heading == "job web gave up waiting for a dependency"


def test_health_events_alert_going_unhealthy_and_recovering():
    down = alert_for("job.api.health", HealthReport("api", "r1", False, "HTTP 503"), 1.0, NO_JOBS)
    up = alert_for("job.api.health", HealthReport("api", "r1", True), 2.0, NO_JOBS)
    assert (down.kind, down.reason, up.kind) == ("unhealthy", "HTTP 503", "recovered")
    assert up.heading == "job api is healthy again"


def test_a_missed_scheduled_run_alerts():
    due_at = "2026-03-08T02:30:00-05:00"
    missed = ScheduleMissed("report", 1.0, due_at, 1, "")
    alert = alert_for("schedule.report.missed", missed, 1.0, NO_JOBS)
    assert alert.kind == "missed" and alert.reason == f"run due at {due_at}"
    missed = ScheduleMissed("report", 1.0, due_at, 3, "the scheduler was not running")
    assert alert_for("schedule.report.missed", missed, 1.0, NO_JOBS).reason == missed.reason


def test_other_events_raise_nothing():
    for topic, data in [
        ("job.api.running", JobFacts("api", "running")),
        ("job.api.exited", JobExited("api", "stopping", exit_code=1)),  # asked for
        ("job.api.exited", JobExited("api", "running", exit_code=0)),  # a run that ended
        ("job.api.running", JobFacts("api", "running")),  # started by hand
        ("schedule.report.fired", ScheduleRun("report", 1.0, "", "fired", "due")),
        ("actor.controller.down", ActorEvent("controller", "controller", 7, 1, "killed")),
        ("config.reloaded", ConfigReloaded([], [], [], [], {}, {})),
        ("bus.probe.abc", Probe()),
    ]:
        assert alert_for(topic, data, 1.0, NO_JOBS) is None, topic


@pytest.mark.parametrize(
    ("topic", "record", "kind", "heading"),
    [
        ("job.api.exited", JobExited("api", "running"), "crash", "job api crashed"),
        ("job.api.running", JobFacts("api", "running"), "restart", "job api was restarted"),
    ],
)
def test_a_crash_and_the_restart_after_it_alert_with_how_the_run_ended(
    topic, record, kind, heading
):
    record = record.but(last_exit="killed by SIGSEGV", restarts=2)
    alert = alert_for(topic, record, 1.0, {"api": SERVICE})
    assert alert == Alert("api", kind, 1.0, "killed by SIGSEGV", 2)
    assert alert.heading == heading


def test_a_crash_is_judged_by_the_jobs_type_and_restart_policy():
    done = JobExited("api", "running", exit_code=0, last_exit="exit code 0")
    assert alert_for("job.api.exited", done, 1.0, {"api": SERVICE}).kind == "crash"
    assert alert_for("job.api.exited", done, 1.0, {"api": ON_FAILURE}) is None
    failed_run = JobExited("api", "running", exit_code=3, last_exit="exit code 3")
    assert alert_for("job.api.exited", failed_run, 1.0, NO_JOBS).kind == "crash"


def test_job_ids_with_dots_are_kept_whole():
    assert alert_for("job.db.backup.failed", JobFacts("db.backup"), 1.0, NO_JOBS).job == "db.backup"


def test_an_alert_storm_folds_into_one_summary_per_window():
    folder = AlertFolder(window=300)
    first = Alert("api", "failed", 0.0, "exit code 1")
    assert folder.offer(first, now=0.0) is first
    for n in range(1, 20):
        kind = "unhealthy" if n % 2 else "failed"
        assert folder.offer(Alert("api", kind, n, f"try {n}"), now=float(n)) is None
    assert folder.next_due() == 300.0
    assert folder.due(now=299.0) == []
    [summary] = folder.due(now=300.0)
    assert summary.folded == {"unhealthy": 10, "failed": 9}
    assert summary.heading == "job api: 19 more alerts"
    assert summary.reason == "try 19" and summary.kind == "unhealthy"
    assert folder.folded_total == 19
    # The summary opened the next window: the storm goes on, one message per window.
    assert folder.offer(Alert("api", "failed", 301.0), now=301.0) is None
    assert folder.next_due() == 600.0


def test_a_quiet_window_closes_without_a_message():
    folder = AlertFolder(window=60)
    folder.offer(Alert("api", "failed", 0.0), now=0.0)
    assert folder.due(now=60.0) == []
    assert folder.next_due() is None
    again = Alert("api", "failed", 61.0)
    assert folder.offer(again, now=61.0) is again


def test_each_job_has_its_own_window():
    folder = AlertFolder(window=60)
    a, b = Alert("a", "failed", 0.0), Alert("b", "failed", 0.0)
    assert folder.offer(a, now=0.0) is a and folder.offer(b, now=1.0) is b


def test_a_zero_window_folds_nothing():
    folder = AlertFolder(window=0)
    alerts = [Alert("api", "failed", float(n)) for n in range(3)]
    assert [folder.offer(alert, now=alert.at) for alert in alerts] == alerts
    assert folder.next_due() is None
