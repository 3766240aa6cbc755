"""What a supervisor tells root: at once, or gathered, and always before what follows."""

from __future__ import annotations

from typing import Any

import pytest

from actors.supervisor.word_to_root import JOBS_PER_MESSAGE, WordToRoot


class Root:
    """Stands for root's inbox: what was sent, in order, and what was done meanwhile."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.word = WordToRoot(self.seen.append)

    def signal(self, job: str):
        return lambda: self.seen.append(f"signal {job}")


def _facts(job: str) -> dict[str, Any]:
    return {"state": "stopping", "job": job}


def test_one_job_is_told_at_once_and_what_follows_it_happens_at_once():
    root = Root()
    root.word.job("a", _facts("a"))
    root.word.then(root.signal("a"))
    root.word.gone("a", 3)
    assert root.seen == [
        {"jobs": {"a": _facts("a")}, "partial": True},
        "signal a",
        {"jobs": {}, "gone": {"a": 3}, "partial": True},
    ]


def test_gathered_jobs_go_in_few_messages_before_any_of_their_signals():
    root = Root()
    jobs = [f"j{n}" for n in range(JOBS_PER_MESSAGE + 5)]
    with root.word.gathered():
        for job in jobs:
            root.word.job(job, _facts(job))
            root.word.then(root.signal(job))
        root.word.gone("old", 1)
        assert root.seen == []
    messages, rest = root.seen[:2], root.seen[2:]
    assert [list(message["jobs"]) for message in messages] == [
        jobs[:JOBS_PER_MESSAGE],
        jobs[JOBS_PER_MESSAGE:],
    ]
    assert rest[0] == {"jobs": {}, "gone": {"old": 1}, "partial": True}
    assert rest[1:] == [f"signal {job}" for job in jobs]


def test_a_job_told_twice_while_gathering_goes_once_with_its_latest_facts():
    root = Root()
    with root.word.gathered():
        root.word.job("a", {"state": "running"})
        root.word.job("a", {"state": "stopping"})
    assert root.seen == [{"jobs": {"a": {"state": "stopping"}}, "partial": True}]


def test_a_gathering_inside_another_sends_nothing_until_the_outer_one_ends():
    root = Root()
    with root.word.gathered():
        with root.word.gathered():
            root.word.job("a", _facts("a"))
            root.word.then(root.signal("a"))
        assert root.seen == []
    assert root.seen == [{"jobs": {"a": _facts("a")}, "partial": True}, "signal a"]


def test_what_was_gathered_is_sent_and_done_even_when_the_work_fails_midway():
    root = Root()
    with pytest.raises(RuntimeError), root.word.gathered():
        root.word.job("a", _facts("a"))
        root.word.then(root.signal("a"))
        raise RuntimeError("the next job's stop failed")
    assert root.seen == [{"jobs": {"a": _facts("a")}, "partial": True}, "signal a"]
