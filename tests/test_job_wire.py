"""A job's config crosses processes as plain msgpack data and comes back the same."""

import msgpack
import pytest

from procclaw.config import parse_config
from procclaw.config.job_wire import AlertedJob, WireError, job_from_wire, job_to_wire

JOBS = """\
jobs:
  api:
    cmd: [python3, -m, http.server, "8000"]
    type: continuous
    cwd: /tmp
    isolate: true
    env: {PORT: "8000", TOKEN: "${secret:API_TOKEN}"}
    depends_on: [{job: db, timeout: 30}]
    retry: {delays: [0, 1, 5], max_attempts: 4}
    shutdown: {signal: SIGINT, grace_period: 5}
    health_check: {type: http, url: "http://127.0.0.1:8000/", interval: 5}
    log: {max_bytes: 1MB, backups: 2, timestamps: true}
    limits: {memory: 512M, cpu: 100%, nofile: 4096, nproc: unlimited, core: 0}
    tags: [web, edge]
  db:
    cmd: sleep 300
    type: scheduled
    schedule: "*/5 * * * *"
    timezone: Europe/Berlin
    max_runtime: 90
"""


@pytest.mark.parametrize("job_id", ["api", "db"])
def test_a_job_survives_the_round_trip_through_msgpack(job_id):
    job = parse_config(None, JOBS).job(job_id)
    assert job is not None
    data = msgpack.unpackb(msgpack.packb(job_to_wire(job)))
    assert job_from_wire(data) == job


def test_an_unknown_key_is_refused_rather_than_dropped():
    job = parse_config(None, JOBS).job("db")
    assert job is not None
    with pytest.raises(WireError, match="unknown job config keys: colour"):
        job_from_wire({**job_to_wire(job), "colour": "red"})


@pytest.mark.parametrize("data", [None, [], {"id": "x"}, {"id": "x", "cmd": "y", "retry": 3}])
def test_malformed_data_is_a_wire_error(data):
    with pytest.raises(WireError):
        job_from_wire(data)


def test_the_limits_reach_the_supervisor_as_they_were_configured():
    job = parse_config(None, JOBS).job("api")
    assert job is not None
    copy = job_from_wire(msgpack.unpackb(msgpack.packb(job_to_wire(job))))
    assert copy.limits.rlimits() == (("nofile", 4096), ("nproc", "unlimited"), ("core", 0))
    assert (copy.limits.memory, copy.limits.cpu) == (512 * 1024**2, 100.0)


def test_what_the_alerter_keeps_of_a_job_is_read_from_those_keys_alone():
    config = parse_config(
        None,
        "jobs:\n  bot:\n    cmd: x\n    type: continuous\n    restart: on-failure\n"
        '    alerts: {on: [crash], channels: [telegram], targets: {telegram: "42"}}\n'
        "  quiet:\n    cmd: y\n",
    )
    for job in config.jobs:
        wire = job_to_wire(job)
        kept = AlertedJob.from_wire({key: wire[key] for key in ("id", *AlertedJob.PARTS)})
        assert kept == AlertedJob(job.type, job.restart, job.alerts)
        assert AlertedJob.from_wire(wire) == kept
    with pytest.raises(WireError):
        AlertedJob.from_wire({"id": "bot", "type": "continuous"})
    with pytest.raises(WireError):
        AlertedJob.from_wire(["not", "a", "map"])
