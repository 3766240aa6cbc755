"""The controller's registry of job facts, on a real SQLite file and no daemon."""

from __future__ import annotations

import pytest

from actors.controller.job_registry import JobRegistry
from procclaw.job_facts import JobFacts
from procclaw.states import JobState, TransitionError
from procclaw.store import Store


@pytest.fixture
def published():
    return []


@pytest.fixture
def registry(tmp_path, published):
    return JobRegistry(Store(tmp_path / "procclaw.db"), lambda topic, data: published.append(topic))


def test_a_late_report_from_a_finished_supervisor_does_not_undo_its_successor(tmp_path, registry):
    """A client can see `stopped`, start the job and the new supervisor's `running`
    before the old supervisor's last report reaches the controller."""
    registry.record(JobFacts("svc", JobState.RUNNING, generation=1))
    registry.hand_over(registry.facts("svc").but(generation=2))
    registry.record(JobFacts("svc", JobState.STOPPED, generation=1))
    assert registry.state("svc") == JobState.STARTING
    registry.record(JobFacts("svc", JobState.RUNNING, generation=2))
    assert registry.state("svc") == JobState.RUNNING
    reopened = JobRegistry(Store(tmp_path / "procclaw.db"), lambda topic, data: None)
    assert reopened.state("svc") == JobState.RUNNING


def test_a_state_the_controller_sets_is_published_once_with_the_facts(registry, published):
    facts = registry.set_state("web", JobState.WAITING, "waiting for 'db'", waiting_since=5.0)
    assert published == ["job.web.waiting"]
    assert (facts.reason, facts.waiting_since) == ("waiting for 'db'", 5.0)
    registry.set_state("web", JobState.FAILED, "dependency timeout")
    assert published == ["job.web.waiting", "job.web.failed"]
    assert registry.facts("web").waiting_since is None
    assert registry.facts("web").pid is None


def test_a_report_from_the_supervisor_before_the_controller_took_over_is_ignored(registry):
    registry.record(JobFacts("web", JobState.RUNNING, pid=7, generation=3))
    registry.set_state("web", JobState.STOPPED, "lost while the daemon was down")
    registry.record(JobFacts("web", JobState.RUNNING, pid=7, generation=3))
    assert registry.state("web") == JobState.STOPPED


def test_an_impossible_change_is_refused_and_nothing_is_published(registry, published):
    with pytest.raises(TransitionError):
        registry.set_state("web", JobState.COMPLETED, None)  # stopped -> completed
    assert published == []
    assert registry.state("web") == JobState.STOPPED


def test_facts_an_earlier_release_wrote_keep_what_still_has_a_meaning(tmp_path):
    store = Store(tmp_path / "procclaw.db")
    store.save_job_state("old", {"job": "old", "state": "running", "pid": 9, "colour": "red"})
    store.save_job_state("bad", {"job": "bad", "state": "dancing"})
    registry = JobRegistry(store, lambda topic, data: None)
    assert (registry.state("old"), registry.facts("old").pid) == (JobState.RUNNING, 9)
    assert registry.state("bad") == JobState.STOPPED
