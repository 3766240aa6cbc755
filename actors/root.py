"""Root: the daemon process. It owns the other actors' lives and nothing else.

`python -m actors.root [--notify-fd N] [--log-level L]`, started by
`procclaw daemon start`. Root:
- holds the single-instance lock (`procclaw.pid`) and is the child subreaper, so every
  orphaned descendant (an actor, or a job whose supervisor died) re-parents to it;
- starts the zygote and, through it, the core actors (actors/registry.py);
- runs the bus: PULL `run/bus-in.sock` -> XPUB `run/bus.sock`;
- reads `hello` / `heartbeat` / `bye` from actors on PULL `run/actors.sock`, restarts
  an actor that dies or stops answering (with backoff), and publishes
  `actor.<name>.down` / `actor.<name>.up`;
- answers ROUTER `run/daemon.sock`: `ping`, `status`, `probe`, `shutdown`;
- on SIGTERM, SIGINT or `shutdown`: stops supervisors first (they stop their jobs
  gracefully), then the core actors in reverse order, then the zygote, and exits 0.
It parses no user config: nothing in a config file can crash it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import uuid
from typing import Any

import zmq

from actors import registry
from actors.actor_table import ActorSlot, SlotState
from actors.bus import Bus
from actors.command_server import CommandServer
from actors.loop import EventLoop, close_quietly
from actors.prctl import set_child_subreaper, set_process_name
from actors.runtime import HEARTBEAT_INTERVAL, configure_logging
from actors.zygote_link import ZygoteLink
from procclaw import protocol
from procclaw.home import Home
from procclaw.pidfile import AlreadyRunning, PidFile
from procclaw.protocol import CommandError, ErrorCode, Request

# Core actors that ignore SIGTERM this long are killed.
CORE_STOP_TIMEOUT = 10.0
# Remember this many exit statuses of children we could not match yet.
UNMATCHED_EXITS = 1024

log = logging.getLogger("procclaw.root")


class Root:
    def __init__(self, home: Home, log_level: str, notify_fd: int | None):
        self.home = home
        self.log_level = log_level
        self.daemon_id = f"{os.getpid()}-{time.time_ns()}"
        self.started_at = time.time()
        self.loop = EventLoop()
        self.zmq = zmq.Context()
        self.events = protocol.EventSource("root")
        self._notify_fd = notify_fd
        # Only root holds the write end; every actor watches the read end for EOF.
        self._lifeline_r, self._lifeline_w = os.pipe()
        self.slots: dict[str, ActorSlot] = {}
        self._by_pid: dict[int, ActorSlot] = {}
        self._unmatched_exits: dict[int, int] = {}
        self._early_hellos: set[int] = set()
        self.stopping = False
        self._stop_phase: str | None = None
        self._zygote_restarts = 0

        self.bus = Bus(self.zmq, self.loop, home)
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
                "reaped": self._reaped,
            },
            protocol.ROOT_COMMANDS,
        )
        self.zygote = ZygoteLink(self.loop, self._lifeline_r, self._on_spawned)
        self.loop.on_signal(signal.SIGCHLD, lambda _s: self._reap_children())
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self.loop.on_signal(signum, self._on_stop_signal)

    # ---- running -----------------------------------------------------------------------

    def run(self) -> int:
        self.zygote.start()
        for kind in registry.CORE_ACTORS:
            self.add_actor(kind, kind)
        self.loop.call_later(HEARTBEAT_INTERVAL, self._watchdog)
        log.info("daemon started (pid %d, home %s)", os.getpid(), self.home.root)
        self.loop.run()
        self._close()
        log.info("daemon stopped")
        return 0

    def add_actor(self, name: str, kind: str, args: dict[str, Any] | None = None) -> ActorSlot:
        slot = ActorSlot(name=name, kind=kind, args=args or {})
        self.slots[name] = slot
        self._spawn(slot)
        return slot

    def _spawn(self, slot: ActorSlot) -> None:
        slot.state = SlotState.SPAWNING
        slot.pid = None
        slot.timer = None
        slot.spawned_at = time.monotonic()
        spec = {
            "token": f"{slot.name}/{uuid.uuid4().hex}",
            "kind": slot.kind,
            "name": slot.name,
            "home": str(self.home.root),
            "daemon_id": self.daemon_id,
            "log_level": self.log_level,
            "args": slot.args,
        }
        self.zygote.spawn(spec, slot.fds)

    def _on_spawned(self, reply: dict[str, Any]) -> None:
        name = str(reply.get("token", "")).partition("/")[0]
        slot = self.slots.get(name)
        if slot is None or slot.state != SlotState.SPAWNING:
            if reply.get("pid"):
                _kill(reply["pid"], signal.SIGKILL)  # nobody wants it any more
            return
        if "error" in reply:
            log.error("could not start actor %s: %s", name, reply["error"])
            self._schedule_restart(slot)
            return
        pid = int(reply["pid"])
        slot.pid = pid
        slot.state = SlotState.STARTING
        slot.last_seen = time.monotonic()
        self._by_pid[pid] = slot
        if pid in self._unmatched_exits:
            self._actor_exited(slot, self._unmatched_exits.pop(pid))
            return
        if pid in self._early_hellos:
            self._early_hellos.discard(pid)
            self._actor_up(slot)
        if self.stopping:
            self._terminate(slot)

    # ---- messages from actors ----------------------------------------------------------

    def _on_actor_messages(self) -> None:
        while True:
            try:
                data = self._inbox.recv(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                message = protocol.decode(data)
                pid = int(message["pid"])
                what = message["cmd"]
            except (protocol.ProtocolError, KeyError, TypeError, ValueError):
                continue
            slot = self._by_pid.get(pid)
            if slot is None:
                if what == "hello":
                    self._early_hellos.add(pid)  # the zygote's reply is still on its way
                elif what == "heartbeat":
                    self._adopt_orphan(str(message.get("name", "")), pid)
                continue
            slot.last_seen = time.monotonic()
            if isinstance(message.get("facts"), dict):
                slot.facts = message["facts"]
            if what == "hello" and slot.state == SlotState.STARTING:
                self._actor_up(slot)

    def _actor_up(self, slot: ActorSlot) -> None:
        slot.state = SlotState.UP
        slot.up_since = time.time()
        slot.last_seen = time.monotonic()
        slot.ever_up = True
        self.bus.publish(self.events.frames(protocol.actor_topic(slot.name, "up"), _facts(slot)))
        log.info("actor %s up (pid %d)", slot.name, slot.pid)
        self._notify_ready_if_all_up()

    def _notify_ready_if_all_up(self) -> None:
        if self._notify_fd is None:
            return
        if all(self.slots[k].ever_up for k in registry.CORE_ACTORS if k in self.slots):
            try:
                os.write(self._notify_fd, b"ready\n")
            except OSError:
                pass  # the CLI that waited has gone; nothing to tell
            close_quietly(self._notify_fd)
            self._notify_fd = None

    # ---- deaths ------------------------------------------------------------------------

    def _reap_children(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.zygote.exited(pid):
                self._zygote_exited()
                continue
            slot = self._by_pid.get(pid)
            if slot is not None:
                self._actor_exited(slot, status)
            else:
                if len(self._unmatched_exits) >= UNMATCHED_EXITS:
                    self._unmatched_exits.pop(next(iter(self._unmatched_exits)))
                self._unmatched_exits[pid] = status

    def _actor_exited(self, slot: ActorSlot, status: int) -> None:
        assert slot.pid is not None
        self._by_pid.pop(slot.pid, None)
        how = _describe_status(status)
        data = {**_facts(slot), "status": how}
        self.bus.publish(self.events.frames(protocol.actor_topic(slot.name, "down"), data))
        slot.pid = None
        finished = slot.kind == "supervisor" and status == 0  # its job is at rest
        if self.stopping or finished:
            log.info("actor %s stopped (%s)", slot.name, how)
            self._forget(slot)
            if self.stopping:
                self._continue_stopping()
            elif slot.queued is not None:
                self._start_supervisor(slot.name, slot.queued)
            return
        log.warning("actor %s died (%s)", slot.name, how)
        if slot.kind == "supervisor":
            # The replacement adopts the job still running rather than starting another.
            slot.args = {**slot.args, "resume": slot.facts if slot.facts.get("job_pid") else {}}
        self._schedule_restart(slot)

    def _forget(self, slot: ActorSlot) -> None:
        del self.slots[slot.name]
        for fd in slot.fds:
            close_quietly(fd)
        if slot.pidfd is not None:
            self.loop.remove_reader(slot.pidfd)
            close_quietly(slot.pidfd)

    def _schedule_restart(self, slot: ActorSlot) -> None:
        delay = slot.restart_delay()
        slot.state = SlotState.BACKOFF
        slot.restarts += 1
        slot.timer = self.loop.call_later(delay, lambda: self._spawn(slot))

    def _zygote_exited(self) -> None:
        if self.stopping:
            if self._stop_phase == "zygote":
                self.loop.stop()
            return
        self._zygote_restarts += 1
        delay = min(5.0, 0.1 * (self._zygote_restarts - 1))
        log.warning("zygote died; restarting it in %.1f s", delay)
        self.loop.call_later(delay, self.zygote.restart)

    def _watchdog(self) -> None:
        now = time.monotonic()
        for slot in list(self.slots.values()):
            if slot.pid is not None and slot.is_overdue(now):
                log.warning("actor %s (pid %d) stopped answering; killing it", slot.name, slot.pid)
                _kill(slot.pid, signal.SIGKILL)
                slot.last_seen = now  # one kill per silence; its SIGCHLD does the rest
        self.loop.call_later(HEARTBEAT_INTERVAL, self._watchdog)

    # ---- commands ----------------------------------------------------------------------

    def _status(self, _request: Request) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "home": str(self.home.root),
            "started_at": self.started_at,
            "stopping": self.stopping,
            "zygote_pid": self.zygote.pid,
            "actors": [slot.describe() for slot in self.slots.values()],
        }

    def _supervise(self, request: Request) -> dict[str, Any]:
        """Start a supervisor for a job, with fresh output pipes that root keeps."""
        job_id = str(request.args.get("job", ""))
        name = f"job-{job_id}"
        if self.stopping:
            raise CommandError(ErrorCode.UNAVAILABLE, "the daemon is stopping")
        keys = ("job_config", "restarts", "last_exit", "resume")
        args = {key: request.args[key] for key in keys if key in request.args}
        existing = self.slots.get(name)
        if existing is not None:
            # The controller only asks for a job at rest: this supervisor is finishing
            # (its last reports are in); the new one starts the moment it has exited.
            existing.queued = args
            return {"name": name, "queued": True}
        self._start_supervisor(name, args)
        return {"name": name}

    def _start_supervisor(self, name: str, args: dict[str, Any]) -> None:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        slot = ActorSlot(name=name, kind="supervisor", args=args, fds=(out_r, out_w, err_r, err_w))
        self.slots[name] = slot
        self._spawn(slot)

    def _reaped(self, request: Request) -> dict[str, Any]:
        """The exit status of a job that re-parented to root, once it has exited."""
        self._reap_children()
        pid = request.args.get("pid")
        return {"status": self._unmatched_exits.pop(pid, None) if isinstance(pid, int) else None}

    def _adopt_orphan(self, name: str, pid: int) -> None:
        """A supervisor left by a daemon that died checks in: watch it until it ends."""
        if not name.startswith("job-") or name in self.slots:
            return
        try:
            pidfd = os.pidfd_open(pid)
        except (ProcessLookupError, OSError):
            return
        slot = ActorSlot(name=name, kind="supervisor", pid=pid, state=SlotState.UP, pidfd=pidfd)
        slot.last_seen = time.monotonic()
        slot.up_since = time.time()
        self.slots[name] = slot
        self._by_pid[pid] = slot
        self.loop.add_reader(pidfd, lambda: self._orphan_exited(slot))
        log.info("adopted supervisor %s (pid %d) left by the previous daemon", name, pid)
        self.bus.publish(self.events.frames(protocol.actor_topic(name, "up"), _facts(slot)))

    def _orphan_exited(self, slot: ActorSlot) -> None:
        # Not our child: init reaps it, and its exit status is not ours to know.
        self.loop.remove_reader(slot.pidfd)
        self._actor_exited(slot, 0)

    def _probe(self, request: Request) -> dict[str, Any]:
        token = str(request.args.get("token", ""))
        self.bus.publish(self.events.frames(protocol.probe_topic(token)))
        return {"token": token}

    def _shutdown_command(self, _request: Request) -> dict[str, Any]:
        self.loop.call_later(0, lambda: self.shutdown("shutdown command"))
        return {"pid": os.getpid()}

    # ---- shutdown ----------------------------------------------------------------------

    def _on_stop_signal(self, signum: int) -> None:
        self.shutdown(signal.Signals(signum).name)

    def shutdown(self, reason: str) -> None:
        if self.stopping:
            return
        log.info("stopping (%s)", reason)
        self.stopping = True
        for slot in self.slots.values():
            if slot.timer is not None:
                slot.timer.cancel()
        self._continue_stopping()

    def _continue_stopping(self) -> None:
        """Advance through the phases: supervisors, core actors, zygote, exit."""
        for slot in [s for s in self.slots.values() if s.pid is None]:
            if slot.state != SlotState.SPAWNING:
                del self.slots[slot.name]  # in backoff: nothing to stop
        supervisors = [s for s in self.slots.values() if s.kind not in registry.CORE_ACTORS]
        if supervisors:
            self._stop_phase = "supervisors"
            for slot in supervisors:
                self._terminate(slot)
            return
        for kind in reversed(registry.CORE_ACTORS):
            slot = self.slots.get(kind)
            if slot is not None:
                self._stop_phase = kind
                self._terminate(slot)
                return
        if self._stop_phase != "zygote":
            self._stop_phase = "zygote"
            if self.zygote.pid is None:
                self.loop.stop()
                return
            self.zygote.stop()
            zygote_pid = self.zygote.pid
            self.loop.call_later(CORE_STOP_TIMEOUT, lambda: _kill(zygote_pid, signal.SIGKILL))

    def _terminate(self, slot: ActorSlot) -> None:
        if slot.pid is None or slot.state == SlotState.STOPPING:
            return
        slot.state = SlotState.STOPPING
        _kill(slot.pid, signal.SIGTERM)
        if slot.kind in registry.CORE_ACTORS:
            pid = slot.pid
            self.loop.call_later(CORE_STOP_TIMEOUT, lambda: _kill_if_same(slot, pid))

    def _close(self) -> None:
        self.bus.close()
        self._inbox.close(0)
        self._commands.close()
        self.loop.close()
        self.zmq.destroy(linger=0)
        close_quietly(self._lifeline_w)
        close_quietly(self._lifeline_r)
        for name in ("daemon", "actors", "bus-in", "bus", *registry.CORE_ACTORS):
            self.home.socket_file(name).unlink(missing_ok=True)


def _facts(slot: ActorSlot) -> dict[str, Any]:
    return {"name": slot.name, "kind": slot.kind, "pid": slot.pid, "restarts": slot.restarts}


def _describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it exited meanwhile: that is what we wanted


def _kill_if_same(slot: ActorSlot, pid: int) -> None:
    if slot.pid == pid:
        _kill(pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    notify_fd = int(argv[argv.index("--notify-fd") + 1]) if "--notify-fd" in argv else None
    log_level = argv[argv.index("--log-level") + 1] if "--log-level" in argv else "INFO"
    home = Home.from_env()
    home.prepare()
    pidfile = PidFile(home.pid_file)
    try:
        pidfile.acquire()
    except AlreadyRunning as exc:
        print(f"procclaw: {exc}", file=sys.stderr)
        return 1
    try:
        set_process_name("procclaw-root")
        set_child_subreaper()
        configure_logging("root", log_level)
        for name in ("daemon", "actors", "bus-in", "bus", *registry.CORE_ACTORS):
            # We hold the lock: whoever made these is dead. Job sockets may belong to
            # supervisors that outlived their daemon; they are adopted, not removed.
            home.socket_file(name).unlink(missing_ok=True)
        return Root(home, log_level, notify_fd).run()
    finally:
        pidfile.release()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
