"""One small adapter per process manager, so the benchmark drives all three the same way.

Each adapter owns a throwaway directory: it writes the manager's configuration for a
list of `Job`s there, launches the daemon, counts its running jobs, names the CLI
commands the benchmark times, and kills whatever is left by pid when asked.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from procclaw.client import Client
from procclaw.home import Home
from procclaw.pidfile import PidFile

VENV = Path("/tmp/pcbench-venv")
PROCCLAW = shutil.which("procclaw") or "procclaw"
SLEEP = shutil.which("sleep") or "/bin/sleep"
MARKER = "PCBENCH_ROOT"


@dataclass(frozen=True)
class Job:
    """A continuous job; `log` asks the manager to keep its stdout in one unrotated file."""

    name: str
    cmd: str
    log: bool = False


def sleepers(count: int) -> list[Job]:
    return [Job(f"j{i}", f"{SLEEP} 3600") for i in range(count)]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.002) -> float:
    """Poll `predicate` until true; the monotonic time it became true. Raises on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {timeout:g} s")
        time.sleep(interval)
    return time.monotonic()


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)


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
        raise NotImplementedError

    def shutdown_argv(self) -> list[str]:
        raise NotImplementedError

    def stop_all_argv(self) -> list[str] | None:
        return None

    def start_all_argv(self) -> list[str] | None:
        return None

    # -- shared ----------------------------------------------------------------------
    def running(self) -> int:
        return len(self.job_pids())

    def tree(self) -> list[psutil.Process]:
        pid = self.root_pid()
        if pid is None:
            return []
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def job_pids(self) -> set[int]:
        """The `sleep` processes: the jobs, as opposed to the manager's own processes."""
        return {p.pid for p in self.tree() if _name(p) == "sleep"}

    def manager_pids(self) -> list[int]:
        return [p.pid for p in self.tree() if _name(p) != "sleep"]

    def all_pids(self) -> list[int]:
        return [p.pid for p in self.tree()]

    def cleanup(self) -> None:
        """Kill by pid every process carrying this run's marker, until none is left."""
        deadline = time.monotonic() + 10
        while (procs := self._marked()) and time.monotonic() < deadline:
            for proc in procs:
                _send(proc, signal.SIGSTOP)  # frozen first: nothing respawns what we kill
            for proc in self._marked():
                _send(proc, signal.SIGKILL)
            time.sleep(0.05)

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


def _name(proc: psutil.Process) -> str:
    try:
        return proc.name()
    except psutil.Error:
        return ""


class ProcClaw(Manager):
    name = "ProcClaw"

    def __init__(self, root: Path):
        super().__init__(root)
        self.env["PROCCLAW_HOME"] = str(root)
        self.home = Home(root)
        self.client = Client(self.home)

    def configure(self, jobs: list[Job]) -> None:
        lines = ["jobs:"]
        for job in jobs:
            lines += [f"  {job.name}:", f"    cmd: {job.cmd}", "    type: continuous"]
            if job.log:
                lines += ["    log: {max_bytes: 100MB}"]
        self.home.jobs_file.write_text("\n".join(lines) + "\n")

    def launch(self) -> None:
        run([PROCCLAW, "daemon", "start"], self.env)

    def root_pid(self) -> int | None:
        return PidFile(self.home.pid_file).running_pid()

    def running(self) -> int:
        return sum(job["state"] == "running" for job in self.client.call("list"))

    def log_file(self, job: str) -> Path:
        return self.home.logs_dir / f"{job}.log"

    def status_argv(self, job: str) -> list[str]:
        return [PROCCLAW, "status", job]

    def shutdown_argv(self) -> list[str]:
        return [PROCCLAW, "daemon", "stop"]

    def stop_all_argv(self) -> list[str]:
        return [PROCCLAW, "stop", "--all"]

    def start_all_argv(self) -> list[str]:
        return [PROCCLAW, "start", "--all"]

    def supervisors(self) -> list[psutil.Process]:
        return [p for p in self.tree() if _name(p).startswith("pc-job-")]


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

    def configure(self, jobs: list[Job]) -> None:
        root = self.root
        text = f"""\
[unix_http_server]
file={root}/supervisor.sock
[supervisord]
nodaemon=true
logfile={root}/supervisord.log
pidfile={root}/supervisord.pid
childlogdir={root}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{root}/supervisor.sock
"""
        for job in jobs:
            text += f"[program:{job.name}]\ncommand={job.cmd}\nautorestart=true\n"
            if job.log:
                text += f"stdout_logfile={self.log_file(job.name)}\nstdout_logfile_maxbytes=0\n"
        self.conf.write_text(text)

    def daemon_argv(self) -> list[str]:
        return [str(VENV / "bin/supervisord"), "-n", "-c", str(self.conf)]

    def log_file(self, job: str) -> Path:
        return self.root / f"{job}.stdout"

    def _ctl(self, *args: str) -> list[str]:
        return [str(VENV / "bin/supervisorctl"), "-c", str(self.conf), *args]

    def status_argv(self, job: str) -> list[str]:
        return self._ctl("status", job)

    def shutdown_argv(self) -> list[str]:
        return self._ctl("shutdown")

    def stop_all_argv(self) -> list[str]:
        return self._ctl("stop", "all")

    def start_all_argv(self) -> list[str]:
        return self._ctl("start", "all")


class Circus(_Foreground):
    name = "Circus"

    def __init__(self, root: Path):
        super().__init__(root)
        self.endpoint = f"ipc://{root}/circus-ctl.sock"

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

    def _ctl(self, *args: str) -> list[str]:
        return [str(VENV / "bin/circusctl"), "--endpoint", self.endpoint, *args]

    def status_argv(self, job: str) -> list[str]:
        return self._ctl("status", job)

    def shutdown_argv(self) -> list[str]:
        return self._ctl("quit")

    def stop_all_argv(self) -> list[str]:
        return self._ctl("stop")

    def start_all_argv(self) -> list[str]:
        return self._ctl("start")

    def udp_sockets(self) -> list:
        """UDP sockets held by circusd: there must be none (no multicast discovery)."""
        pid = self.root_pid()
        return psutil.Process(pid).net_connections(kind="udp") if pid else []


MANAGERS = (ProcClaw, Supervisord, Circus)
