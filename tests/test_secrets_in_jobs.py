"""`${secret:NAME}` in a job's env: resolved at spawn into the job's environment only,
masked in everything the daemon shows, records or publishes."""

import json
import os
import signal
import time
import uuid

import pytest
from conftest import wait_until

# A value no other test, log or path could contain by chance.
VALUE = f"pc-secret-{uuid.uuid4().hex}"

JOBS = """\
    jobs:
      leaky:
        cmd: sh -c 'echo "token is $TOKEN"; echo "$TOKEN" >&2'
        env:
          TOKEN: Bearer ${secret:API_TOKEN}
      missing:
        cmd: sh -c 'echo never'
        env:
          KEY: ${secret:NOT_SET}
      holder:
        cmd: sh -c 'echo "holding $TOKEN"; exec sleep 600'
        type: continuous
        env:
          TOKEN: ${secret:API_TOKEN}
    """


def environ_of(pid: int) -> bytes:
    with open(f"/proc/{pid}/environ", "rb") as environ:
        return environ.read()


def test_a_secret_reaches_the_job_and_nothing_the_daemon_shows_or_keeps(sandbox):
    sandbox.cli("secret", "set", "API_TOKEN", input=VALUE, check=True)
    sandbox.run_jobs(JOBS)
    events = sandbox.subscribe("")
    seen = []
    outputs = [sandbox.cli("start", "leaky", check=True)]
    job = sandbox.wait_state("leaky", "completed")
    outputs.append(sandbox.cli("start", "missing"))
    events.wait_for(lambda e: seen.append(e) or e.topic == "job.missing.failed", timeout=15)
    events.close()

    # The job got it, and what it printed is its own business: its log keeps it.
    assert f"token is Bearer {VALUE}\n" in sandbox.home.job_log("leaky").read_text()
    holder = sandbox.wait_state("holder", "running")
    assert f"TOKEN={VALUE}".encode() in environ_of(holder["pid"])
    wait_until(lambda: sandbox.job("holder")["log_tail"] == ["holding ********"])
    # Everything ProcClaw says about it, though, is masked.
    assert job["last_run"]["output"] == ["token is Bearer ********", "stderr: Bearer ********"]
    assert job["log_tail"] == ["token is Bearer ********"]
    assert job["config"]["env"] == {"TOKEN": "Bearer ${secret:API_TOKEN}"}
    missing = sandbox.job("missing")
    assert (missing["state"], missing["reason"]) == ("failed", "secret 'NOT_SET' not found")

    for args in (
        ("status", "leaky"),
        ("status", "leaky", "--json"),
        ("status", "holder", "--json"),
        ("list", "--json"),
        ("list",),
        ("daemon", "status", "--json"),
        ("secret", "get", "API_TOKEN"),
        ("secret", "list"),
        ("config", "--validate"),
    ):
        outputs.append(sandbox.cli(*args, check=True))
    shown = "".join(result.stdout + result.stderr for result in outputs)
    assert "Bearer ********" in shown
    assert VALUE not in shown
    # The last state change; a health verdict on the run may come after it.
    changes = [e.topic for e in seen if e.topic.startswith("job.leaky.")]
    assert [t for t in changes if t != "job.leaky.health"][-1] == "job.leaky.completed"
    assert VALUE not in repr([(e.topic, e.data) for e in seen])
    # No actor carries it: not in their environment, not in what root knows of them.
    for actor in sandbox.daemon_status()["actors"]:
        if actor["pid"] is not None:
            assert VALUE.encode() not in environ_of(actor["pid"])
    sandbox.cli("daemon", "stop", check=True)
    kept = [sandbox.home.audit_log, sandbox.home.daemon_log]
    kept += sandbox.home.root.glob("procclaw.db*")
    for path in kept:
        assert VALUE.encode() not in path.read_bytes(), path


def test_output_of_an_adopted_job_is_masked_by_the_supervisor_that_adopted_it(sandbox):
    sandbox.cli("secret", "set", "API_TOKEN", VALUE, check=True)
    fifo = sandbox.home.root / "go"
    os.mkfifo(fifo)
    sandbox.run_jobs(f"""\
        jobs:
          late:
            cmd: sh -c 'read line < {fifo}; echo "late $TOKEN"'
            env:
              TOKEN: ${{secret:API_TOKEN}}
        """)
    sandbox.cli("start", "late", check=True)
    name, first = sandbox.supervisor_of("late")
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: sandbox.actor_pid(name) not in (None, first))
    with open(fifo, "w") as go:
        go.write("now\n")
    job = sandbox.wait_state("late", "completed")
    assert job["last_run"]["output"] == ["late ********"]
    assert f"late {VALUE}" in sandbox.home.job_log("late").read_text()


def test_a_secret_in_the_keyring_reaches_the_job(sandbox, disk_keyring):
    sandbox.cli("secret", "set", "API_TOKEN", VALUE, check=True)
    assert VALUE not in sandbox.home.secrets_file.read_text()
    sandbox.run_jobs(JOBS)
    sandbox.cli("start", "leaky", check=True)
    job = sandbox.wait_state("leaky", "completed")
    assert f"token is Bearer {VALUE}\n" in sandbox.home.job_log("leaky").read_text()
    assert job["last_run"]["output"] == ["token is Bearer ********", "stderr: Bearer ********"]


@pytest.mark.timeout(40)
def test_a_locked_keyring_fails_the_start_in_bounded_time_and_hangs_nothing(sandbox, disk_keyring):
    sandbox.cli("secret", "set", "API_TOKEN", VALUE, check=True)
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("holder", "running")
    disk_keyring.with_name(disk_keyring.name + ".locked").touch()
    events = sandbox.subscribe("job.leaky.")
    asked = time.monotonic()
    sandbox.client().call("start", {"job": "leaky"})
    failed = events.wait_for(lambda e: e.topic == "job.leaky.failed", timeout=10)
    assert failed is not None
    assert time.monotonic() - asked < 5
    assert failed.data["reason"] == (
        "secret 'API_TOKEN' is kept in the keyring, but the keyring did not answer "
        "within 2 s (is it locked, waiting for a password?)"
    )
    # The controller masks a status's log tail with the secrets' values; it cannot
    # read them now, so it withholds the tail, and still answers in time.
    status = json.loads(sandbox.cli("status", "holder", "--json", check=True).stdout)
    assert status["state"] == "running"
    assert status["log_tail"] == [
        "(output withheld: it may show secrets that cannot be read now to mask them: "
        "secret 'API_TOKEN' is kept in the keyring, but the keyring did not answer "
        "within 1 s (is it locked, waiting for a password?))"
    ]
    assert VALUE not in sandbox.cli("list", "--json", check=True).stdout
    # The supervisor whose keyring call never came back still let the job go.
    wait_until(lambda: "leaky" not in sandbox.held_jobs())


@pytest.mark.timeout(40)
def test_a_locked_keyring_holds_up_no_other_job_of_the_same_supervisor(sandbox, disk_keyring):
    """The secrets of a spawn are read off the supervisor's loop: a neighbour's stop
    is carried out while the keyring keeps the start waiting."""
    sandbox.cli("secret", "set", "API_TOKEN", VALUE, check=True)
    sandbox.write("procclaw.yaml", "daemon:\n  supervisors: 1\n")
    sandbox.run_jobs(
        JOBS.rstrip(" ") + "      plain:\n        cmd: sleep 600\n        type: continuous\n"
    )
    sandbox.wait_state("plain", "running")
    assert sandbox.supervisor_of("plain") == sandbox.supervisor_of("holder")
    disk_keyring.with_name(disk_keyring.name + ".locked").touch()
    events = sandbox.subscribe("job.leaky.failed", "job.plain.stopped")
    client = sandbox.client()
    client.call("start", {"job": "leaky"})
    client.call("stop", {"job": "plain"})
    first = events.wait_for(lambda _e: True, timeout=10)
    assert first is not None and first.topic == "job.plain.stopped"
    assert events.wait_for(lambda e: e.topic == "job.leaky.failed", timeout=10)
    events.close()


@pytest.mark.timeout(40)
def test_a_restart_while_the_start_waits_for_its_secrets_starts_it_afresh(sandbox, disk_keyring):
    """Nothing runs yet, so there is nothing to stop: the start begins again, reading the
    secrets anew (a restart used to end it `stopped`, with nothing started)."""
    sandbox.cli("secret", "set", "API_TOKEN", VALUE, check=True)
    sandbox.run_jobs(JOBS)
    sandbox.wait_state("holder", "running")
    locked = disk_keyring.with_name(disk_keyring.name + ".locked")
    locked.touch()
    client = sandbox.client()
    assert client.call("start", {"job": "leaky"})["state"] == "starting"
    wait_until(disk_keyring.with_name(disk_keyring.name + ".asked").exists)
    locked.unlink()
    assert client.call("restart", {"job": "leaky"})["state"] == "starting"
    job = sandbox.wait_state("leaky", "completed", "stopped", "failed")
    assert (job["state"], job["restarts"]) == ("completed", 0)
    assert f"token is Bearer {VALUE}\n" in sandbox.home.job_log("leaky").read_text()
