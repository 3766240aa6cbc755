"""Jobs in cgroups: where the machine offers a writable cgroup v2, each run has a cgroup
of its own, a stop ends everything in it (whatever left the group, the session and the
environment), its CPU time is the cgroup's, and the cgroup is gone once the run is."""

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from conftest import is_gone, wait_until

from actors.runtime import child_setup
from procclaw.platform import current
from procclaw.platform.base import ChildSpec
from procclaw.platform.linux_cgroups import subtree_name
from procclaw.platform.linux_spawner import Spawner


def _writable_cgroup_v2() -> str | None:
    """Why the daemon would find no cgroup to use here, or None if it would."""
    if current().name != "linux":
        return "the portable platform uses no cgroups"
    probe = Path("/tmp") / f"pc-cgroup-probe-{os.getpid()}"
    found = current().job_cgroups(probe, create=True)
    if isinstance(found, str):
        return found
    found.release()
    return None


NO_CGROUP = _writable_cgroup_v2()
pytestmark = [
    pytest.mark.skipif(NO_CGROUP is not None, reason=f"no writable cgroup v2: {NO_CGROUP}"),
    pytest.mark.timeout(60),
]

# The job's program: a child that forks again, and that grandchild starts a session of
# its own and runs `sleep` (or a busy loop) with an empty environment: no process group,
# session or run marker of the job's leads to it. Its pid goes to the file named.
ESCAPER = """\
import os, sys, time
if os.fork() == 0:
    if os.fork() == 0:
        os.setsid()
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        os.execvp("env", ["env", "-i", *sys.argv[2:]])
    os._exit(0)
time.sleep(300)
"""


def _escaper_job(sandbox, job_id: str, *program: str) -> Path:
    """Run a job whose double-forked grandchild runs `program`; its pid file."""
    (sandbox.home.root / "escaper.py").write_text(ESCAPER)
    pid_file = sandbox.home.root / f"{job_id}.pid"
    argv = ["python3", str(sandbox.home.root / "escaper.py"), str(pid_file), *program]
    sandbox.run_jobs(f"jobs:\n  {job_id}:\n    cmd: {json.dumps(argv)}\n")
    sandbox.cli("start", job_id, check=True)
    return pid_file


def _escaped(pid_file: Path) -> int:
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text()))
    wait_until(lambda: psutil.Process(pid).environ() == {})  # exec'd: env -i, then the program
    assert os.getsid(pid) == pid
    return pid


def _status(sandbox, job_id: str) -> dict:
    return json.loads(sandbox.cli("status", job_id, "--json", check=True).stdout)


def test_stop_kills_a_double_forked_daemon_that_called_setsid_and_cleared_its_environment(
    sandbox,
):
    pid_file = _escaper_job(sandbox, "runaway", "sleep", "300")
    escaped = _escaped(pid_file)
    sandbox.remember_tree()
    status = _status(sandbox, "runaway")
    leaf = Path(status["cgroup"])
    assert status["stops_by"] == "cgroup"
    assert leaf.parent == sandbox.cgroup_subtree() / "jobs" / "runaway"
    assert escaped in map(int, (leaf / "cgroup.procs").read_text().split())
    text = sandbox.cli("status", "runaway", check=True).stdout
    assert f"stops by   cgroup ({leaf})" in text

    assert sandbox.cli("stop", "runaway", check=True).stdout.strip() == "runaway: stopped"
    wait_until(lambda: is_gone(escaped), timeout=5)
    assert not leaf.exists()  # gone by the time the job counts as stopped
    assert not leaf.parent.exists()


def test_daemon_status_names_the_cgroup_subtree_it_made(sandbox):
    sandbox.run_jobs("jobs: {}\n")
    base = sandbox.cgroup_subtree()
    assert base is not None and base.name == subtree_name(sandbox.home.root)
    assert (base / "jobs").is_dir()
    text = sandbox.cli("daemon", "status", check=True).stdout
    assert f"cgroups  v2 at {base}, controllers: " in text
    found = json.loads(sandbox.cli("daemon", "status", "--json", check=True).stdout)["cgroups"]
    assert found["version"] == "v2" and found["path"] == str(base)

    sandbox.cli("daemon", "stop", check=True)
    assert not base.exists()  # a clean stop leaves the hierarchy as it found it


def test_a_run_that_ends_by_itself_has_its_cgroup_removed(sandbox):
    sandbox.run_jobs("jobs:\n  brief:\n    cmd: sh -c 'sleep 0.2'\n")
    events = sandbox.subscribe("job.brief.")
    sandbox.cli("start", "brief", check=True)
    assert events.wait_for(lambda e: e.topic == "job.brief.completed", timeout=10)
    events.close()
    assert [path for path in (sandbox.cgroup_subtree() / "jobs").iterdir() if path.is_dir()] == []


def test_cpu_seconds_come_from_the_cgroup_and_count_an_escaped_busy_process(sandbox):
    busy = ["python3", "-c", "while True: pass"]
    escaped = _escaped(_escaper_job(sandbox, "burner", *busy))
    sandbox.remember_tree()
    # The job's own tree (a sleeping leader) spends nothing: only the cgroup sees the
    # grandchild's CPU time.
    wait_until(lambda: _status(sandbox, "burner")["cpu_seconds"] > 0.5, timeout=15)
    leaf = Path(_status(sandbox, "burner")["cgroup"])
    first = _status(sandbox, "burner")["cpu_seconds"]
    wait_until(lambda: _status(sandbox, "burner")["cpu_seconds"] > first + 0.3, timeout=15)
    usec = int(
        dict(line.split() for line in (leaf / "cpu.stat").read_text().splitlines())["usage_usec"]
    )
    assert _status(sandbox, "burner")["cpu_seconds"] <= usec / 1e6 + 5
    sandbox.cli("stop", "burner", check=True)
    wait_until(lambda: is_gone(escaped), timeout=5)


def test_after_its_supervisor_is_killed_a_stop_still_kills_what_escaped(sandbox):
    escaped = _escaped(_escaper_job(sandbox, "orphan", "sleep", "300"))
    sandbox.remember_tree()
    before = sandbox.job("orphan")
    leaf = before["cgroup"]
    os.kill(before["sup_pid"], signal.SIGKILL)
    after = wait_until(
        lambda: (
            (job := sandbox.job("orphan"))["sup_pid"] not in (None, before["sup_pid"])
            and job["state"] == "running"
            and job
        ),
        timeout=10,
    )
    assert after["pid"] == before["pid"] and after["cgroup"] == leaf  # adopted, same cgroup
    sandbox.remember_tree()

    assert sandbox.cli("stop", "orphan", check=True).stdout.strip() == "orphan: stopped"
    wait_until(lambda: is_gone(escaped), timeout=5)
    assert not Path(leaf).exists()


def test_validate_asks_the_running_daemon_whether_its_cgroups_hold_a_cpu_limit(sandbox):
    sandbox.run_jobs("jobs:\n  plain:\n    cmd: sleep 300\n")
    sandbox.write("jobs.yaml", "jobs:\n  capped:\n    cmd: sleep 300\n    limits: {cpu: 50%}\n")
    result = sandbox.cli("config", "--validate")
    base = sandbox.cgroup_subtree()
    if "cpu" in current().job_cgroups(sandbox.home.root, create=False).controllers:
        assert result.returncode == 0
    else:
        assert result.returncode == 1
        assert f"the daemon's cgroup {base} has no cpu controller" in result.stdout


def test_after_root_and_supervisor_both_died_a_stop_still_kills_what_escaped(sandbox):
    escaped = _escaped(_escaper_job(sandbox, "survivor", "sleep", "300"))
    before = sandbox.job("survivor")
    sandbox.remember_tree()
    os.kill(sandbox.client().daemon_pid(), signal.SIGKILL)
    os.kill(before["sup_pid"], signal.SIGKILL)
    wait_until(lambda: sandbox.client().daemon_pid() is None)
    wait_until(lambda: is_gone(before["sup_pid"]))

    sandbox.start_daemon()
    after = sandbox.wait_state("survivor", "running")
    assert after["pid"] == before["pid"] and after["cgroup"] == before["cgroup"]
    assert sandbox.cli("stop", "survivor", check=True).stdout.strip() == "survivor: stopped"
    wait_until(lambda: is_gone(escaped), timeout=5)
    assert not Path(before["cgroup"]).exists()


def test_a_cgroup_the_job_cannot_join_fails_its_start_with_the_reason(tmp_path):
    report_r, report_w = os.pipe()
    missing = tmp_path / "no-such-cgroup"
    command = child_setup.command(["true"], (), report_w, str(missing))
    child = subprocess.Popen(command, pass_fds=(report_w,))
    os.close(report_w)
    kind, detail = child_setup.read_report(report_r)
    assert child.wait(timeout=10) == child_setup.FAILED
    assert (kind, detail) == ("cgroup", f"cannot join {missing}: No such file or directory")


# What a job's process finds when it starts, written to `<dir>/<pid>.json`, then it sleeps.
# Its signals are read by the shell it starts as (Python ignores SIGPIPE itself) with
# builtins alone: dash blocks every signal while it forks a command.
SIGNALS = (
    "while read -r line; do case $line in Sig*) echo $line;; esac; done </proc/$$/status "
    '>"$0/$$.sig" && exec python3 "$0/../describe.py" "$@"'
)
DESCRIBE = """\
import json, os, sys, time
status = dict(line.split(":", 1) for line in open(os.path.join(sys.argv[1], f"{os.getpid()}.sig")))
fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
seen = {
    "cgroup": [line.strip() for line in open("/proc/self/cgroup") if line.startswith("0::")],
    "leads_session": os.getsid(0) == os.getpid() == os.getpgid(0),
    "parent": os.getppid(),
    "umask": "%04o" % os.umask(0),
    "ignored": status["SigIgn"].strip(),
    "blocked": status["SigBlk"].strip(),
    "fds": fds[:-1],  # the last is listdir's own
    "stdin": os.readlink("/proc/self/fd/0"),
    "cwd": os.getcwd(),
    "run": os.environ.get("PROCCLAW_RUN"),
    "argv": sys.argv[2:],
}
path = os.path.join(sys.argv[1], f"{os.getpid()}.json")
with open(path + ".tmp", "w") as out:
    json.dump(seen, out)
os.rename(path + ".tmp", path)
time.sleep(300)
"""


def test_a_restart_after_an_exit_is_born_in_its_cgroup_set_up_as_a_first_start(sandbox):
    """The first start joins its cgroup through a shell; the restart after a kill -9 is
    born in it (clone3). The job cannot tell them apart."""
    (sandbox.home.root / "describe.py").write_text(DESCRIBE)
    seen_dir = sandbox.home.root / "seen"
    seen_dir.mkdir()
    argv = ["/bin/sh", "-c", SIGNALS, str(seen_dir), str(seen_dir), "a b", "c"]
    sandbox.run_jobs(
        f"jobs:\n  probe:\n    type: continuous\n    cmd: {json.dumps(argv)}\n"
        f"    cwd: {sandbox.home.root}\n    retry: {{preset: fixed, delay: 0.1}}\n"
    )
    sandbox.cli("start", "probe", check=True)
    first = _seen(seen_dir, sandbox.wait_state("probe", "running")["pid"])
    os.kill(first["pid"], signal.SIGKILL)
    again = wait_until(
        lambda: (
            (job := sandbox.job("probe"))["state"] == "running"
            and job["pid"] != first["pid"]
            and job
        )
    )
    second = _seen(seen_dir, again["pid"])

    assert second["cgroup"] == [f"0::/{_relative(Path(again['cgroup']))}"]
    assert first["cgroup"] != second["cgroup"]  # a cgroup per run
    assert second["run"] == again["run_id"] != first["run"]
    for seen in (first, second):
        del seen["cgroup"], seen["run"], seen["pid"]
    assert first == second
    assert second["leads_session"] and second["fds"] == [0, 1, 2]
    assert second["stdin"] == "/dev/null" and second["argv"] == ["a b", "c"]
    assert second["parent"] == again["sup_pid"]
    assert int(second["ignored"], 16) == 0 and int(second["blocked"], 16) == 0


def _seen(directory: Path, pid: int) -> dict:
    path = directory / f"{pid}.json"
    return {"pid": pid, **json.loads(wait_until(lambda: path.exists() and path.read_text()))}


def _relative(cgroup: Path) -> str:
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    mount = next(line.split()[1] for line in mounts if line.split()[2] == "cgroup2")
    return str(cgroup.relative_to(mount))


@pytest.fixture
def run_cgroup(tmp_path):
    """A run's cgroup in a subtree of its own, removed after the test."""
    tree = current().job_cgroups(tmp_path, create=True)
    assert not isinstance(tree, str)
    leaf = tree.make_run("job", "run", None, None)
    yield leaf
    tree.remove(leaf)
    tree.release()


@pytest.fixture
def spawner():
    """A spawner of our own (ours is its runs' parent), let go after the test."""
    ours = Spawner()
    yield ours
    ours.close()  # and reaped


def _born(spawner: Spawner, leaf: Path, program: str, *args: str) -> tuple[int, str]:
    """Start `program` inside `leaf` from birth: its exit code and what it printed."""
    out_r, out_w = os.pipe()
    spec = ChildSpec(program, [program, *args], {}, None, 0o022, out_w, out_w)
    try:
        pid = spawner.spawn(str(leaf), spec)
    finally:
        os.close(out_w)
    assert pid is not None
    with os.fdopen(out_r, "rb") as out:
        said = out.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), said


def test_a_process_born_in_a_cgroup_is_in_it_when_its_program_runs(run_cgroup, spawner):
    code, said = _born(spawner, run_cgroup, "/bin/cat", "/proc/self/cgroup")
    assert code == 0
    assert f"0::/{_relative(run_cgroup)}\n" in said


def test_a_process_born_in_a_cgroup_that_cannot_run_its_program_says_why_and_exits_127(
    run_cgroup, spawner, tmp_path
):
    not_runnable = tmp_path / "script"
    not_runnable.write_text("#!/bin/sh\n")  # not executable
    code, said = _born(spawner, run_cgroup, str(not_runnable))
    assert code == 127
    assert said == f"procclaw: cannot start {not_runnable}: Permission denied\n"


def test_no_process_is_born_in_a_cgroup_that_is_gone_the_caller_starts_it_as_usual(
    tmp_path, spawner
):
    spec = ChildSpec("/bin/true", ["true"], {}, None, 0o022, 1, 2)
    assert spawner.spawn(str(tmp_path / "gone"), spec) is None


@pytest.mark.timeout(120)
def test_runs_born_in_a_cgroup_all_run_while_zeromq_threads_allocate(run_cgroup):
    """A clone made where another thread may hold a malloc lock can leave the child
    waiting on it forever, never running the job: the spawner clones with one thread.
    Cloned in the caller's own process, about one start in twenty of these hung."""
    program = Path(__file__).parent / "programs" / "clones_under_threads.py"
    done = subprocess.run(
        [sys.executable, str(program), str(run_cgroup), "200"],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", "starts that never ran"


def _spawners(supervisor_pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(supervisor_pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):  # a child that ended as we looked
            if child.name() == "pc-spawner":
                found.append(child)
    return found


def test_after_kill_9_of_its_spawner_a_supervisor_forks_another_and_restarts_go_on(sandbox):
    """The spawner is a part like any other: killed, the next restart forks a new one,
    and the run is born in its cgroup, the supervisor's child, as before."""
    sandbox.run_jobs(
        "jobs:\n  svc:\n    type: continuous\n    cmd: sleep 600\n"
        "    retry: {preset: fixed, delay: 0.1}\n"
    )
    first = sandbox.wait_state("svc", "running")
    supervisor = first["sup_pid"]
    (spawner,) = _spawners(supervisor)
    assert " ".join(spawner.cmdline()).strip() == f"procclaw: spawner of {first['supervisor']}"
    spawner.kill()
    wait_until(lambda: not _spawners(supervisor))  # reaped by the supervisor

    for _ in range(2):  # the first restart finds it dead, the second asks the new one
        before = sandbox.job("svc")
        os.kill(before["pid"], signal.SIGKILL)
        again = wait_until(
            lambda b=before: (
                (job := sandbox.job("svc"))["state"] == "running" and job["pid"] != b["pid"] and job
            )
        )
        run = psutil.Process(again["pid"])
        assert run.ppid() == supervisor == again["sup_pid"]
        unified = Path(f"/proc/{run.pid}/cgroup").read_text().splitlines()[-1]
        assert unified == f"0::/{_relative(Path(again['cgroup']))}"
    (replacement,) = _spawners(supervisor)
    assert replacement.pid != spawner.pid
    assert sandbox.job("svc")["restarts"] == 2


def test_a_run_whose_environment_the_spawner_cannot_carry_starts_the_usual_way(run_cgroup, spawner):
    """Past what one message of the pair carries, the run is left to the usual start,
    and the spawner stays for the next."""
    spawner.start()
    before = spawner.pid
    spec = ChildSpec("/bin/true", ["true"], {"BIG": "x" * 400_000}, None, 0o022, 1, 2)
    assert spawner.spawn(str(run_cgroup), spec) is None
    assert spawner.pid == before
    assert _born(spawner, run_cgroup, "/bin/echo", "still here") == (0, "still here\n")


def test_a_spawner_goes_with_its_supervisor_even_when_it_cannot_read_the_pair_close(
    sandbox,
):
    """A stopped spawner never reads the end of the pair: the kernel kills it with its
    supervisor all the same, so no run is started for a supervisor that is gone."""
    sandbox.run_jobs("jobs:\n  svc:\n    type: continuous\n    cmd: sleep 600\n")
    job = sandbox.wait_state("svc", "running")
    (spawner,) = _spawners(job["sup_pid"])
    events = sandbox.subscribe(f"actor.{job['supervisor']}.up")
    spawner.suspend()
    os.kill(job["sup_pid"], signal.SIGKILL)
    wait_until(lambda: is_gone(spawner.pid))
    up = events.wait_for(lambda e: e.data["pid"] != job["sup_pid"], timeout=10)
    assert up is not None, "no replacement supervisor"
    assert [p.pid for p in _spawners(up.data["pid"])] != []  # the replacement's own
    assert sandbox.job("svc")["pid"] == job["pid"]  # adopted, not restarted
    events.close()


FORK_WITHOUT_DESCRIPTORS = """
import os, resource
from procclaw.platform.linux_spawner import Spawner
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
held = []
try:
    while True:
        held.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    pass
print(Spawner().start())
"""


def test_a_spawner_that_cannot_be_forked_leaves_runs_to_start_the_usual_way():
    """Out of descriptors (or processes), the supervisor carries on without one."""
    done = subprocess.run(
        [sys.executable, "-c", FORK_WITHOUT_DESCRIPTORS], capture_output=True, text=True, timeout=30
    )
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr
