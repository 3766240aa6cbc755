"""The controller checks each supervisor's `usage` answer as it arrives; views merge
what it answers as it is. No daemon: a real registry, and supervisors that answer at once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from actors.controller.job_registry import JobRegistry
from actors.controller.usage_gathering import gather_usage
from procclaw.job_facts import JobFacts
from procclaw.job_usage import NO_USAGE, with_usage
from procclaw.states import JobState
from procclaw.store import Store
from procclaw.usage_record import checked_usage
from procclaw.wire_record import RecordError

MEASURE = {
    "cpu": 1.5,
    "cpu_window": 3.5,
    "cpu_seconds": 2,
    "memory": 4096,
    "memory_pss": None,
    "processes": 1,
}


class Answering:
    """Supervisors that answer `usage` at once, each with what `answers` holds for it."""

    def __init__(self, answers: dict[str, object]):
        self.answers = answers

    def call(self, target, cmd, args, on_reply, on_error, timeout):
        assert cmd == "usage"
        on_reply(self.answers[target])


def gathered(tmp_path, answers: dict[str, object]) -> dict:
    registry = JobRegistry(Store(tmp_path / "procclaw.db"), lambda topic, data: None)
    for job, supervisor in (("web", "sup-a"), ("db", "sup-b")):
        registry.record(JobFacts(job, JobState.RUNNING, pid=7, supervisor=supervisor))
    jobs = [SimpleNamespace(id="web"), SimpleNamespace(id="db")]
    results = []
    gather_usage(Answering(answers), registry, jobs).then(lambda result, _: results.append(result))
    return results[0]


def test_a_measure_is_checked_and_answered_with_its_fields_typed():
    assert checked_usage({"web": MEASURE}) == {"web": {**MEASURE, "cpu_seconds": 2.0}}
    assert isinstance(checked_usage({"web": MEASURE})["web"]["cpu_seconds"], float)


def test_a_measure_without_its_window_is_taken_from_a_supervisor_of_the_release_before():
    older = {key: value for key, value in MEASURE.items() if key != "cpu_window"}
    assert checked_usage({"web": older})["web"]["cpu_window"] is None


@pytest.mark.parametrize(
    "answer", [["web"], {"web": {**MEASURE, "memory": "4K"}}, {"web": {"cpu": 1.0}}]
)
def test_what_is_not_usage_is_refused(answer):
    with pytest.raises(RecordError, match="JobUsage"):
        checked_usage(answer)


def test_a_supervisor_answering_what_is_not_usage_leaves_only_its_jobs_out(tmp_path):
    usage = gathered(tmp_path, {"sup-a": {"web": MEASURE}, "sup-b": {"db": {"cpu": "x"}}})
    assert usage == {"web": {**MEASURE, "cpu_seconds": 2.0}}


def test_a_view_shows_the_answer_and_nothing_for_a_job_not_measured():
    usage = {"web": {**MEASURE, "cpu_seconds": 2.0}}
    assert with_usage({"id": "web", "pid": 7}, usage) == {"id": "web", "pid": 7, **usage["web"]}
    assert with_usage({"id": "db", "pid": None}, usage) == {"id": "db", "pid": None, **NO_USAGE}
