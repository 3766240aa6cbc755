"""One small adapter per process manager, so the benchmark drives all three the same way.

Each adapter owns a throwaway directory: it writes the manager's configuration for a
list of `Job`s there, launches the daemon, finds its processes, makes the calls the
benchmark times through the manager's own in-process client, and kills whatever is
left by pid when asked.

What counts is the same for every manager, whatever its design: a job runs once its
`sleep` has been exec'd somewhere under the daemon, and the manager is every process
of the daemon's tree that is not a job (for ProcClaw: root, zygote, every actor and
every supervisor).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from anchor_clients import CircusClient, supervisor_rpc

from procclaw.cli.control_commands import _ask, _every_job_for
from procclaw.client import Client
from procclaw.home import Home
from procclaw.pidfile import PidFile
from procclaw.platform import current

VENV = Path("/tmp/pcbench-venv")
# The script pip installed beside this interpreter, as a virtualenv's PATH finds it; not a
# version manager's shim, which would add its own start to every CLI call measured.
PROCCLAW = str(Path(sys.executable).with_name("procclaw"))
SLEEP = shutil.which("sleep") or "/bin/sleep"
JOB_COMM = "sleep"
MARKER = "PCBENCH_ROOT"


@dataclass(frozen=True)
class Job:
    """A continuous job (`autostart=False`: defined, never started by the daemon itself);
    `log` asks the manager to keep its stdout in one unrotated file."""

    name: str
    cmd: str
    log: bool = False
    autostart: bool = True


def sleepers(count: int, autostart: bool = True) -> list[Job]:
    return [Job(f"j{i}", f"{SLEEP} 3600", autostart=autostart) for i in range(count)]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.002) -> float:
    """Poll `predicate` until true; the monotonic time it became true. Raises on timeout.

    Sleeps at least twice as long as the predicate took, so polling never takes more
    than a third of a core from the managers on a small machine.
    """
    deadline = time.monotonic() + timeout
    while True:
        begin = time.monotonic()
        if predicate():
            return time.monotonic()
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(f"{what}: not done after {timeout:g} s")
        time.sleep(max(interval, 2 * (now - begin)))


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)


def ensure_bytecode() -> None:
    """Compile ProcClaw's own modules, as pip does for the anchors when it installs them.

    An editable install run where PYTHONDONTWRITEBYTECODE is set never writes `.pyc`
    files, and every process of ProcClaw would compile its modules from source at each
    start (about 1 ms a module) while the anchors load theirs compiled.
    """
    import actors
    import procclaw

    packages = [str(Path(package.__file__).parent) for package in (procclaw, actors)]
    run([sys.executable, "-m", "compileall", "-q", *packages])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, comm) of every process, from one pass over /proc/<pid>/stat."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                text = stat.read()
        except OSError:
            continue  # gone in between
        close = text.rindex(b")")
        comm = text[text.index(b"(") + 1 : close].decode(errors="replace")
        table[int(entry)] = (int(text[close + 2 :].split()[1]), comm)
    return table


def other_managers() -> list[str]:
    """Processes of a process manager already running (a daemon left by an earlier run,
    say): `pid: command line` of each. Beside a measured manager they would share its
    library pages, which lowers its PSS, and take CPU from it."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                words = cmdline.read().decode(errors="replace").split("\0")
        except OSError:
            continue  # gone in between
        command = " ".join(words).strip()
        if command.startswith("procclaw: ") or any(
            word.endswith(("/circusd", "/supervisord")) or word in ("circusd", "supervisord")
            for word in words
        ):
            found.append(f"{entry}: {command[:60]}")
    return found


def descendants(root: int, table: dict[int, tuple[int, str]]) -> list[int]:
    """`root` and every process under it (zombies included: they are still in /proc)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root] if root in table else []
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


class Manager:
    """What the benchmark needs from a manager; subclasses fill in the specifics."""

    name = ""

    def __init__(self, root: Path):
        self.root = root
        # Inherited by the daemon and its jobs: how cleanup finds them, orphans included.
        self.env = {**os.environ, MARKER: str(root)}

    # -- to be provided by each manager --------------------------------------------
    def configure(self, jobs: list[Job]) -> None:
        raise NotImplementedError

    def launch(self) -> None:
        raise NotImplementedError

    def root_pid(self) -> int | None:
        raise NotImplementedError

    def log_file(self, job: str) -> Path:
        raise NotImplementedError

    def status_argv(self, job: str) -> list[str]:
        """The CLI asking for one job's status."""
        raise NotImplementedError

    def status_all(self) -> dict[str, str]:
        """Every job's state, from the manager's own client: job -> state."""
        raise NotImplementedError

    def running_states(self) -> set[str]:
        """The states in `status_all` that mean running."""
        raise NotImplementedError

    def start_all(self) -> None:
        """Ask for every stopped job to start, through the API; returns once it is asked."""
        raise NotImplementedError

    def stop_all(self) -> None:
        raise NotImplementedError

    def start_job(self, job: str) -> None:
        """Start one job defined with autostart=False, through the manager's client."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """Ask the daemon to stop its jobs and exit."""
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------
    def tree(self) -> dict[int, str]:
        """pid -> comm of the daemon and everything under it."""
        pid = self.root_pid()
        if pid is None:
            return {}
        table = process_table()
        return {p: table[p][1] for p in descendants(pid, table)}

    def running(self) -> int:
        """Jobs whose `sleep` has been exec'd under the daemon."""
        return len(self.job_pids())

    def reported_running(self) -> int:
        """Jobs the manager itself reports as running."""
        states = self.running_states()
        return sum(state in states for state in self.status_all().values())

    def job_pids(self) -> set[int]:
        return {pid for pid, comm in self.tree().items() if comm == JOB_COMM}

    def manager_pids(self) -> list[int]:
        """Every process of the manager: the daemon's tree without the jobs."""
        return [pid for pid, comm in self.tree().items() if comm != JOB_COMM]

    def all_pids(self) -> list[int]:
        return list(self.tree())

    def cleanup(self) -> None:
        """Kill by pid every process carrying this run's marker, and the daemon's tree,
        until none is left (a process title may overwrite the environment the marker is
        read from, so the tree is killed too)."""
        deadline = time.monotonic() + 10
        while (procs := self._leftovers()) and time.monotonic() < deadline:
            for proc in procs:
                _send(proc, signal.SIGSTOP)  # frozen first: nothing respawns what we kill
            for proc in self._leftovers():
                _send(proc, signal.SIGKILL)
            time.sleep(0.05)

    def _leftovers(self) -> list[psutil.Process]:
        found = {proc.pid: proc for proc in self._marked()}
        for pid in self.tree():
            if pid not in found:
                try:
                    found[pid] = psutil.Process(pid)
                except psutil.Error:
                    pass  # gone meanwhile
        return list(found.values())

    def _marked(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter():
            try:
                if proc.environ().get(MARKER) == str(self.root):
                    found.append(proc)
            except psutil.Error:
                pass  # gone, a zombie, or not ours to read
        return found


def _send(proc: psutil.Process, signum: int) -> None:
    try:
        proc.send_signal(signum)
    except psutil.Error:
        pass


class ProcClaw(Manager):
    name = "ProcClaw"

    def __init__(self, root: Path):
        super().__init__(root)
        self.env["PROCCLAW_HOME"] = str(root)
        self.home = Home(root)
        self.client = Client(self.home, timeout=60)

    def cleanup(self) -> None:
        """The processes, then the cgroup subtree the daemon made: removing its home
        would leave that behind, empty, under the hierarchy."""
        super().cleanup()
        found = current().job_cgroups(self.root, create=False)
        if isinstance(found, str):
            return
        for directory, _subdirs, _files in sorted(os.walk(found.base), reverse=True):
            try:
                os.rmdir(directory)
            except OSError:
                pass  # still held: nothing of ours to remove there

    def configure(self, jobs: list[Job]) -> None:
        lines = ["jobs:"]
        for job in jobs:
            kind = "continuous" if job.autostart else "manual"
            lines += [f"  {job.name}:", f"    cmd: {job.cmd}", f"    type: {kind}"]
            if job.log:
                lines += ["    log: {max_bytes: 100MB}"]
        self.home.jobs_file.write_text("\n".join(lines + self.extra_jobs()) + "\n")
        # A port of its own: where another daemon holds the default one, the gateway
        # would try to bind again and again while the numbers are taken.
        self.port = free_port()
        settings = [f"daemon:\n  port: {self.port}", *self.extra_settings()]
        self.home.config_file.write_text("\n".join(settings) + "\n")

    def extra_jobs(self) -> list[str]:
        return []

    def extra_settings(self) -> list[str]:
        return []

    def launch(self) -> None:
        run([PROCCLAW, "daemon", "start"], self.env)

    def root_pid(self) -> int | None:
        return PidFile(self.home.pid_file).running_pid()

    def log_file(self, job: str) -> Path:
        return self.home.logs_dir / f"{job}.log"

    def status_argv(self, job: str) -> list[str]:
        return [PROCCLAW, "status", job]

    def status_all(self) -> dict[str, str]:
        return {job["id"]: job["state"] for job in self.client.call("list")}

    def running_states(self) -> set[str]:
        return {"running"}

    def start_all(self) -> None:
        self._as_cli("start")

    def start_job(self, job: str) -> None:
        self.client.call("start", {"job": job})

    def stop_all(self) -> None:
        self._as_cli("stop")

    def _as_cli(self, command: str) -> None:
        """The requests `procclaw start|stop --all` sends, without its process start and
        without its wait for events (the benchmark watches the processes instead).
        Taken from the CLI so that the benchmark follows whatever it sends; imported
        with this module, so that no timed call pays for the import (3 to 4 ms, which
        the first stop-all of every run used to)."""
        jobs = _every_job_for(command, self.client)
        failed = {job: reply for job, reply in _ask(self.client, command, jobs, False)}
        failed = {job: reply["error"] for job, reply in failed.items() if "error" in reply}
        if failed:
            raise RuntimeError(f"procclaw {command}: {failed}")

    def shutdown(self) -> None:
        self.client.call("shutdown")


class ProcClawEveryActor(ProcClaw):
    """ProcClaw with every actor it starts on demand running: one more job, scheduled,
    with a file health check (the scheduler, the health actor), an OpenClaw workspace to
    note events in (the alerter), and one request to the API (the gateway)."""

    name = "ProcClaw, every actor"

    def extra_jobs(self) -> list[str]:
        return [
            "  yearly:",
            "    cmd: 'true'",
            "    type: scheduled",
            '    schedule: "0 0 1 1 *"',
            f"    health_check: {{type: file, path: {self.root}, max_age: 3600}}",
        ]

    def extra_settings(self) -> list[str]:
        workspace = self.root / "workspace"
        workspace.mkdir()
        return [f"openclaw:\n  workspace: {workspace}"]

    def wake_every_actor(self) -> None:
        """Call the API once, then wait until every actor is up."""
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/jobs", timeout=30):
            pass

        def all_up() -> bool:
            actors = self.client.call_endpoint("daemon", "status")["actors"]
            return all(actor["state"] == "up" for actor in actors)

        wait_until(all_up, 30, "every actor up", 0.05)


class _Foreground(Manager):
    """An anchor daemon run in the foreground as our child, so its pid is ours to stop."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.proc: subprocess.Popen | None = None
        self.conf = root / f"{self.name}.ini"

    def daemon_argv(self) -> list[str]:
        raise NotImplementedError

    def launch(self) -> None:
        log = open(self.root / "daemon.out", "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(self.daemon_argv(), stdout=log, stderr=log, env=self.env)
        log.close()

    def root_pid(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None
        return self.proc.pid

    def cleanup(self) -> None:
        super().cleanup()
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Supervisord(_Foreground):
    name = "supervisord"

    def __init__(self, root: Path):
        super().__init__(root)
        self.socket = root / "supervisor.sock"
        self._rpc = None

    def configure(self, jobs: list[Job]) -> None:
        root = self.root
        text = f"""\
[unix_http_server]
file={self.socket}
[supervisord]
nodaemon=true
logfile={root}/supervisord.log
pidfile={root}/supervisord.pid
childlogdir={root}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{self.socket}
"""
        for job in jobs:
            text += f"[program:{job.name}]\ncommand={job.cmd}\nautorestart=true\n"
            if not job.autostart:
                text += "autostart=false\n"
            if job.log:
                text += f"stdout_logfile={self.log_file(job.name)}\nstdout_logfile_maxbytes=0\n"
        self.conf.write_text(text)

    def daemon_argv(self) -> list[str]:
        return [str(VENV / "bin/supervisord"), "-n", "-c", str(self.conf)]

    def log_file(self, job: str) -> Path:
        return self.root / f"{job}.stdout"

    def status_argv(self, job: str) -> list[str]:
        return [str(VENV / "bin/supervisorctl"), "-c", str(self.conf), "status", job]

    @property
    def rpc(self):
        if self._rpc is None:
            self._rpc = supervisor_rpc(self.socket)
        return self._rpc.supervisor

    def status_all(self) -> dict[str, str]:
        return {info["name"]: info["statename"] for info in self.rpc.getAllProcessInfo()}

    def running_states(self) -> set[str]:
        return {"RUNNING"}

    # wait=False: supervisord spawns or signals every process within the call and
    # answers; with wait=True it would also wait out `startsecs` (1 s) before answering.
    def start_all(self) -> None:
        self.rpc.startAllProcesses(False)

    def start_job(self, job: str) -> None:
        self.rpc.startProcess(job, False)

    def stop_all(self) -> None:
        self.rpc.stopAllProcesses(False)

    def shutdown(self) -> None:
        self.rpc.shutdown()
        self.close()

    def close(self) -> None:
        if self._rpc is not None:
            self._rpc("close")()
            self._rpc = None


class Circus(_Foreground):
    name = "Circus"

    def __init__(self, root: Path):
        super().__init__(root)
        self.endpoint = f"ipc://{root}/circus-ctl.sock"
        self._client: CircusClient | None = None

    def configure(self, jobs: list[Job]) -> None:
        # multicast_endpoint empty: no UDP discovery socket. stats_endpoint stays unset on
        # purpose: circus turns statsd back on (a circusd-stats process) when it is set.
        text = f"""\
[circus]
endpoint = {self.endpoint}
pubsub_endpoint = ipc://{self.root}/circus-pub.sock
multicast_endpoint =
statsd = False
httpd = False
"""
        for job in jobs:
            text += f"[watcher:{job.name}]\ncmd = {job.cmd}\nnumprocesses = 1\ncopy_env = True\n"
            if not job.autostart:
                text += "autostart = False\n"
            if job.log:
                text += (
                    "stdout_stream.class = FileStream\n"
                    f"stdout_stream.filename = {self.log_file(job.name)}\n"
                    "stdout_stream.max_bytes = 0\n"
                )
        self.conf.write_text(text)

    def daemon_argv(self) -> list[str]:
        return [str(VENV / "bin/circusd"), str(self.conf)]

    def log_file(self, job: str) -> Path:
        return self.root / f"{job}.stdout"

    def status_argv(self, job: str) -> list[str]:
        return [str(VENV / "bin/circusctl"), "--endpoint", self.endpoint, "status", job]

    @property
    def client(self) -> CircusClient:
        if self._client is None:
            self._client = CircusClient(self.endpoint)
        return self._client

    def status_all(self) -> dict[str, str]:
        return self.client.call("status")["statuses"]

    def running_states(self) -> set[str]:
        return {"active"}

    # Both answer once every watcher got there (circus waits on its futures).
    def start_all(self) -> None:
        self.client.call("start")

    def start_job(self, job: str) -> None:
        self.client.call("start", name=job)

    def stop_all(self) -> None:
        self.client.call("stop")

    def shutdown(self) -> None:
        self.client.cast("quit")

    def cleanup(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        super().cleanup()

    def udp_sockets(self) -> list:
        """UDP sockets held by circusd: there must be none (no multicast discovery)."""
        pid = self.root_pid()
        return psutil.Process(pid).net_connections(kind="udp") if pid else []


MANAGERS = (ProcClaw, Supervisord, Circus)
