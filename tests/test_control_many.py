"""`start`, `stop` and `restart` of several jobs, or of --all, in one command."""

FLEET = """\
    jobs:
      web:
        type: continuous
        cmd: sleep 300
      worker:
        type: continuous
        cmd: sleep 300
      off:
        type: continuous
        enabled: false
        cmd: sleep 300
      once:
        cmd: sleep 300
    """


def _states(sandbox):
    return {job["id"]: job["state"] for job in sandbox.client().call("list")}


def test_stop_all_then_start_all_brings_back_only_the_enabled_services(sandbox):
    sandbox.run_jobs(FLEET)
    sandbox.wait_state("web", "running")
    sandbox.wait_state("worker", "running")
    sandbox.cli("start", "once", check=True)

    stopped = sandbox.cli("stop", "--all", check=True)
    assert sorted(stopped.stdout.splitlines()) == [
        "once: stopped",
        "web: stopped",
        "worker: stopped",
    ]
    assert set(_states(sandbox).values()) == {"stopped"}

    started = sandbox.cli("start", "--all", check=True)
    assert sorted(line.split(":")[0] for line in started.stdout.splitlines()) == ["web", "worker"]
    assert _states(sandbox) == {
        "web": "running",
        "worker": "running",
        "off": "stopped",
        "once": "stopped",
    }
    assert sandbox.cli("stop", "--all", check=True).returncode == 0
    assert sandbox.cli("stop", "--all", check=True).stdout == "no job to stop\n"


def test_restart_of_several_jobs_replaces_each_process(sandbox):
    sandbox.run_jobs(FLEET)
    before = {name: sandbox.wait_state(name, "running")["pid"] for name in ("web", "worker")}
    result = sandbox.cli("restart", "web", "worker", check=True)
    assert len(result.stdout.splitlines()) == 2
    after = {name: sandbox.job(name)["pid"] for name in ("web", "worker")}
    assert all(after[name] != before[name] for name in before)


def test_one_unknown_job_among_several_is_reported_and_the_others_still_act(sandbox):
    sandbox.run_jobs(FLEET)
    sandbox.wait_state("web", "running")
    result = sandbox.cli("stop", "web", "nope")
    assert result.returncode == 1
    assert "procclaw: nope: no job 'nope'" in result.stderr
    assert result.stdout == "web: stopped\n"


def test_all_and_job_names_do_not_mix(sandbox):
    sandbox.run_jobs(FLEET)
    result = sandbox.cli("stop", "web", "--all")
    assert result.returncode != 0
    assert "Usage:" in result.stderr or "usage:" in result.stderr.lower()
