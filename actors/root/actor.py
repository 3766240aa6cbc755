"""Root: the daemon process. It owns the other actors' lives and nothing else.

`python -m actors.root.actor [--notify-fd N] [--log-level L]`, started by
`procclaw daemon start`. Root:
- holds the single-instance lock (`procclaw.pid`) and is the child subreaper, so every
  orphaned descendant (an actor, or a job whose supervisor died) re-parents to it;
- makes the daemon's cgroup subtree, where the machine offers a writable cgroup v2
  (procclaw/platform/linux_cgroups.py), before anything else is forked, and says in `status`
  what it found; supervisors make each run's cgroup in it;
- starts the zygote and, through it, the core actors (actors/runtime/registry.py);
- runs the bus: PULL `run/bus-in.sock` -> XPUB `run/bus.sock`;
- reads `hello` / `heartbeat` / `bye` from actors on PULL `run/actors.sock`, restarts
  an actor that dies or stops answering (with backoff), and publishes
  `actor.<name>.down` / `actor.<name>.up`;
- answers ROUTER `run/daemon.sock`: `ping`, `status`, `probe`, `shutdown`, and from
  the controller `supervise`, `held` and `need`: the scheduler, health actor and
  alerter start only once the applied config needs them
  (procclaw/rules/needed_actors.py), and then stay until the daemon stops; the
  gateway only once a first client connects to the API's address, which root holds
  meanwhile (actors/root/gateway_activation.py);
- on SIGHUP: asks the controller to reload the config (actors/root/reload_signal.py);
- on SIGTERM, SIGINT or `shutdown`: stops supervisors first (they stop their jobs
  gracefully), then the core actors in reverse order, then the zygote, and exits 0.
It parses no user config: nothing in a config file can crash it.
"""

from __future__ import annotations

import logging
import os
import resource
import select
import signal
import socket
import sys
import time
from typing import Any

import zmq

from actors.root.actor_keeper import STOP_TIMEOUT, ActorKeeper
from actors.root.actor_table import ActorSlot
from actors.root.bus import Bus
from actors.root.gateway_activation import GatewayActivation
from actors.root.reload_signal import ReloadSignal
from actors.runtime import process_title, registry
from actors.runtime import zygote as zygote_image
from actors.runtime.actor import configure_logging
from actors.runtime.command_server import CommandServer
from actors.runtime.descriptor_room import make_room_for_descriptors
from actors.runtime.loop import EventLoop, close_quietly
from actors.runtime.messages import pending_messages
from procclaw import bus_events, bus_seal, commands, protocol
from procclaw.home import Home
from procclaw.pidfile import AlreadyRunning, PidFile
from procclaw.platform import current
from procclaw.platform.linux_cgroups import CgroupTree
from procclaw.protocol import CommandError, ErrorCode, Request
from procclaw.rules.needed_actors import ON_DEMAND_ACTORS, WHEN_NEEDED
from procclaw.wire_record import WireRecord

# How long root, launched by `daemon start`, waits for it to finish checking the config.
GO_TIMEOUT = 60.0
# Root keeps both ends of each job's two pipes: room for some two thousand jobs.
ROOT_DESCRIPTORS = 8192
# The sockets root binds; anything else in run/ may belong to a surviving supervisor.
ROOT_SOCKETS = ("daemon", "actors", "bus-in", "bus", *registry.CORE_ACTORS)
# The core actors root starts only when they are needed: the gateway at its first client.
STARTED_ON_DEMAND = (*ON_DEMAND_ACTORS, "gateway")

log = logging.getLogger("procclaw.root")


class Root:
    def __init__(
        self,
        home: Home,
        log_level: str,
        notify_fd: int | None,
        lifeline: tuple[int, int],
        zygote: tuple[int, socket.socket],
        job_umask: int,
        bus_key: str,
    ):
        self.home = home
        self.started_at = time.time()
        self.cgroups: CgroupTree | str = "not looked for"  # main() sets what it found
        self.loop = EventLoop()
        self.zmq = zmq.Context()
        self.events = protocol.EventSource("root")
        self._notify_fd = notify_fd
        self._stop_phase: str | None = None
        self._lifeline_r, self._lifeline_w = lifeline
        # Whether the controller has said which on-demand actors its config needs:
        # `daemon start` returns only once they are up too.
        self._needs_known = False

        self.bus = Bus(self.zmq, self.loop, home, bytes.fromhex(bus_key))
        daemon_id = f"{os.getpid()}-{time.time_ns()}"
        self.actors = ActorKeeper(
            self.loop,
            home,
            daemon_id,
            log_level,
            self._lifeline_r,
            self._publish,
            self.zmq,
            zygote=zygote,
            job_umask=job_umask,
            bus_key=bus_key,
        )
        self.actors.on_up = self._notify_ready_if_all_up
        self.gateway = GatewayActivation(self.loop, self._start_gateway)
        self.actors.on_gone = self._continue_stopping
        self.actors.on_zygote_gone = self.loop.stop
        self._inbox = self.zmq.socket(zmq.PULL)
        self._inbox.setsockopt(zmq.LINGER, 0)
        self._inbox.bind(home.endpoint("actors"))
        self.loop.add_reader(self._inbox, self._on_actor_messages)
        self._commands = CommandServer(
            self.zmq,
            self.loop,
            home.endpoint("daemon"),
            {
                "ping": lambda _req: {"pid": os.getpid()},
                "status": self._status,
                "probe": self._probe,
                "shutdown": self._shutdown_command,
                "supervise": self._supervise,
                "held": lambda _req: {"supervisors": self.actors.pool.holds()},
                "reaped": self._reaped,
                "need": self._need,
            },
            commands.ROOT_ARGS,
        )
        self.loop.on_signal(signal.SIGCHLD, lambda _s: self._on_child_exit())
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.loop.on_signal(signum, lambda s: self.shutdown(signal.Signals(s).name))
        self._reload = ReloadSignal(self.zmq, self.loop, home)
        self.loop.on_signal(signal.SIGHUP, lambda _s: self._reload.forward())

    def run(self) -> int:
        self._on_child_exit()  # a zygote that died before our SIGCHLD handler was set
        self.actors.start()
        for kind in registry.CORE_ACTORS:
            if kind not in STARTED_ON_DEMAND:
                self.actors.add(kind, kind)
        log.info("daemon started (pid %d, home %s)", os.getpid(), self.home.root)
        self.loop.run()
        self._close()
        log.info("daemon stopped")
        return 0

    def _publish(self, topic: str, record: WireRecord) -> None:
        self.bus.publish(self.events.frames(topic, bus_events.checked(topic, record)))

    def _on_child_exit(self) -> None:
        # A dead actor's last heartbeat may still wait in the inbox: its facts, not the
        # ones before, are where its replacement must carry on from.
        self._on_actor_messages()
        self.actors.reap_children()

    def _on_actor_messages(self) -> None:
        for message in pending_messages(self._inbox):
            self.actors.on_message(message)

    def _notify_ready_if_all_up(self, _slot: ActorSlot | None) -> None:
        """Tell the `daemon start` that launched us, once every core actor the config
        needs has said hello."""
        if self._notify_fd is None or not self._needs_known:
            return
        slots = self.actors.slots
        if all(slots[kind].ever_up for kind in registry.CORE_ACTORS if kind in slots):
            try:
                os.write(self._notify_fd, b"ready\n")
            except OSError:
                pass  # the CLI that waited has gone; nothing to tell
            close_quietly(self._notify_fd)
            self._notify_fd = None

    # ---- commands ----------------------------------------------------------------------

    def _status(self, _request: Request) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "home": str(self.home.root),
            "started_at": self.started_at,
            "stopping": self.actors.stopping,
            "zygote_pid": self.actors.zygote.pid,
            "platform": current().name,
            "cgroups": (
                {"version": None, "why": self.cgroups}
                if isinstance(self.cgroups, str)
                else self.cgroups.describe()
            ),
            "actors": [
                *self.actors.describe(),
                *(
                    {"name": kind, "kind": kind, "pid": None, "state": "off", "restarts": 0}
                    | {"up_since": None, "note": self._when_started(kind)}
                    for kind in STARTED_ON_DEMAND
                    if kind not in self.actors.slots
                ),
            ],
        }

    def _when_started(self, kind: str) -> str:
        if kind == "gateway":
            return self.gateway.note() or "starts with the first request to the API"
        return WHEN_NEEDED[kind]

    def _supervise(self, request: Request) -> dict[str, Any]:
        if self.actors.stopping:
            raise CommandError(ErrorCode.UNAVAILABLE, "the daemon is stopping")
        return self.actors.pool.place(request.args.placements)

    def _need(self, request: Request) -> dict[str, Any]:
        """Start the on-demand actors the controller's config needs and are not up yet,
        and hold the API's address for the gateway."""
        if not self.actors.stopping:
            # Told at daemon start, or by a reload since (the scheduler tells them apart).
            args = {"after_daemon_start": self._needs_known}
            for kind in request.args.actors:
                if kind in ON_DEMAND_ACTORS and kind not in self.actors.slots:
                    log.info("starting the %s: the config needs it", kind)
                    self.actors.add(kind, kind, args)
            self.gateway.listen(request.args.api_host, request.args.api_port)
        self._needs_known = True
        self._notify_ready_if_all_up(None)
        return {}

    def _start_gateway(self, args: dict[str, Any], fds: tuple[int, ...]) -> None:
        if self.actors.stopping:
            for fd in fds:
                os.close(fd)
            return
        self.actors.add("gateway", "gateway", args, fds)

    def _reaped(self, request: Request) -> dict[str, Any]:
        return {"status": self.actors.exit_status(request.args.pid)}

    def _probe(self, request: Request) -> dict[str, Any]:
        token = request.args.token
        self._publish(protocol.probe_topic(token), bus_events.Probe())
        return {"token": token}

    def _shutdown_command(self, _request: Request) -> dict[str, Any]:
        self.loop.call_later(0, lambda: self.shutdown("shutdown command"))
        return {"pid": os.getpid()}

    # ---- shutdown ----------------------------------------------------------------------

    def shutdown(self, reason: str) -> None:
        if self.actors.stopping:
            return
        log.info("stopping (%s)", reason)
        self.gateway.close()
        self.actors.begin_stopping()
        self._continue_stopping()

    def _continue_stopping(self) -> None:
        """Advance through the phases: supervisors, core actors, zygote, exit.

        Supervisors go first: they stop their jobs gracefully, all at once except that
        a job is stopped only after the jobs depending on it (`stop_after`, given by the
        controller when it placed the job), and exit. The core actors follow, all at once
        but the controller, which the others may still ask something: it goes last. Then
        the zygote.
        """
        slots = self.actors.slots
        if any(slot.kind == "supervisor" for slot in slots.values()):
            self._stop_phase = "supervisors"
            self.actors.pool.begin_stopping()
            return
        left = [kind for kind in registry.CORE_ACTORS if kind in slots]
        if left:
            wave = [kind for kind in left if kind != "controller"] or left
            self._stop_phase = "core actors"
            for kind in wave:
                self.actors.terminate(slots[kind], deadline=STOP_TIMEOUT)
            return
        if self._stop_phase == "zygote":
            return
        self._stop_phase = "zygote"
        zygote_pid = self.actors.zygote.pid
        if zygote_pid is None:
            self.loop.stop()
            return
        self.actors.zygote.stop()  # it reads EOF and exits; its SIGCHLD ends the loop
        self.loop.call_later(STOP_TIMEOUT, lambda: _kill(zygote_pid, signal.SIGKILL))

    def _close(self) -> None:
        self.gateway.close()
        self.actors.pool.close()
        self.bus.close()
        self._inbox.close(0)
        self._commands.close()
        self._reload.close()
        self.loop.close()
        self.zmq.destroy(linger=0)
        close_quietly(self._lifeline_w)
        close_quietly(self._lifeline_r)
        for name in ROOT_SOCKETS:
            self.home.socket_file(name).unlink(missing_ok=True)


def allow_every_descriptor() -> None:
    """Raise our descriptor limit to the most we may: root and the supervisors keep four
    pipe ends per live job, past the usual 1,024 at a few hundred jobs. Actors and
    jobs inherit it, as supervisord's children inherit its `minfds`."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass  # an infinite hard limit some systems refuse as a soft one: keep ours


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it exited meanwhile


def _wait_for_go(go_fd: int) -> str | None:
    """The log level `daemon start` sends once the config checked out; None if it
    closed the pipe instead (or never answered)."""
    line = b""
    deadline = time.monotonic() + GO_TIMEOUT
    try:
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            readable, _, _ = select.select([go_fd], [], [], max(0.0, left))
            chunk = os.read(go_fd, 64) if readable else b""
            if not chunk:
                return None  # closed, or nothing said in time
            line += chunk
    finally:
        os.close(go_fd)
    return line.decode().strip() or None


def main(argv: list[str]) -> int:
    notify_fd = int(argv[argv.index("--notify-fd") + 1]) if "--notify-fd" in argv else None
    log_level = argv[argv.index("--log-level") + 1] if "--log-level" in argv else "INFO"
    zygote_image.preload()  # imports alone: nothing is touched before the go below
    if "--go-fd" in argv:
        told = _wait_for_go(int(argv[argv.index("--go-fd") + 1]))
        if told is None:
            return 0  # the `daemon start` that launched us refused to start
        log_level = told
    # Every file the daemon creates is private to the user (the config may hold a token,
    # a log what a job printed); its jobs get the umask it was started with.
    job_umask = os.umask(0o077)
    home = Home.from_env()
    tightened = home.prepare()
    if tightened:
        print(f"procclaw: {home.describe_tightened(tightened)}", file=sys.stderr)
    pidfile = PidFile(home.pid_file)
    try:
        pidfile.acquire()
    except AlreadyRunning as exc:
        print(f"procclaw: {exc}", file=sys.stderr)
        return 1
    try:
        process_title.name_root(home.root)
        allow_every_descriptor()
        make_room_for_descriptors(ROOT_DESCRIPTORS)  # before ZeroMQ's threads
        configure_logging("root", log_level)
        for name in ROOT_SOCKETS:
            home.socket_file(name).unlink(missing_ok=True)  # we hold the lock: they are stale
        try:
            bus_key = bus_seal.daemon_key(os.environ)  # kept in memory only: see bus_seal
        except ValueError as exc:
            print(f"procclaw: {exc}", file=sys.stderr)
            return 1
        # Only root holds the write end; every actor watches the read end for EOF.
        lifeline = os.pipe()
        # Before the zygote: where the daemon must move into a cgroup leaf of its own,
        # every actor is born there.
        cgroups = current().job_cgroups(home.root, create=True)
        forked = zygote_image.fork_from_root(lifeline[0])  # before any thread or socket of ours
        zygote_image.collect_again()
        root = Root(home, log_level, notify_fd, lifeline, forked, job_umask, bus_key)
        root.cgroups = cgroups
        status = root.run()
        if not isinstance(cgroups, str):
            cgroups.release()  # what jobs left running keep stays, for the next daemon
        return status
    finally:
        pidfile.release()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
