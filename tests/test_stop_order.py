"""At daemon stop a job stops only after the jobs that depend on it."""

from procclaw.stop_order import next_to_stop

CHAIN = {"db": ["api"], "api": ["web"], "web": []}  # web needs api needs db


def test_the_last_of_a_chain_stops_first():
    assert next_to_stop(CHAIN, {"db", "api", "web"}, set()) == ["web"]


def test_a_job_stops_once_its_dependents_are_at_rest():
    assert next_to_stop(CHAIN, {"db", "api"}, set()) == ["api"]
    assert next_to_stop(CHAIN, {"db"}, set()) == ["db"]


def test_a_job_ordered_already_is_not_ordered_again():
    assert next_to_stop(CHAIN, {"db", "api", "web"}, {"web"}) == []


def test_independent_jobs_stop_together():
    assert next_to_stop({}, {"a", "b", "c"}, set()) == ["a", "b", "c"]


def test_orders_that_contradict_each_other_stop_everything_rather_than_nothing():
    cycle = {"a": ["b"], "b": ["a"]}
    assert next_to_stop(cycle, {"a", "b"}, set()) == ["a", "b"]
