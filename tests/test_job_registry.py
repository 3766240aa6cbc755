"""The controller's registry of job facts, on a real SQLite file and no daemon."""

from __future__ import annotations

import pytest

from actors.controller.job_registry import JobRegistry
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
    registry.record({"kind": "state", "job": "svc", "state": "running", "generation": 1})
    registry.hand_over("svc", {**registry.facts("svc"), "generation": 2})
    registry.record({"kind": "state", "job": "svc", "state": "stopped", "generation": 1})
    assert registry.state("svc") == JobState.STARTING
    registry.record({"kind": "state", "job": "svc", "state": "running", "generation": 2})
    assert registry.state("svc") == JobState.RUNNING
    reopened = JobRegistry(Store(tmp_path / "procclaw.db"), lambda topic, data: None)
    assert reopened.state("svc") == JobState.RUNNING


def test_a_state_the_controller_sets_is_published_once_with_the_facts(registry, published):
    facts = registry.set_state("web", JobState.WAITING, "waiting for 'db'", waiting_since=5.0)
    assert published == ["job.web.waiting"]
    assert facts["reason"] == "waiting for 'db'"
    assert facts["waiting_since"] == 5.0
    registry.set_state("web", JobState.FAILED, "dependency timeout")
    assert published == ["job.web.waiting", "job.web.failed"]
    assert "waiting_since" not in registry.facts("web")
    assert registry.facts("web")["pid"] is None


def test_a_report_from_the_supervisor_before_the_controller_took_over_is_ignored(registry):
    registry.record({"kind": "state", "job": "web", "state": "running", "generation": 3})
    registry.set_state("web", JobState.STOPPED, "lost while the daemon was down")
    registry.record({"kind": "state", "job": "web", "state": "running", "generation": 3})
    assert registry.state("web") == JobState.STOPPED


def test_an_impossible_change_is_refused_and_nothing_is_published(registry, published):
    with pytest.raises(TransitionError):
        registry.set_state("web", JobState.COMPLETED, None)  # stopped -> completed
    assert published == []
    assert registry.state("web") == JobState.STOPPED
