"""The supervisor actor: holds many jobs, their processes, restarts and log files.

Root keeps a small pool of these (one per CPU core, at least two) and one more for each
job with `isolate: true`, which exits once its job is at rest. The controller places a
job in one through root, which creates the job's pipes, keeps copies of them, and
hands the job over on this supervisor's private channel (actors/runtime/supervisor_channel.py):
a `take` makes it hold the job (actors/supervisor/job_supervision.py) until the job is at rest
and every report about it is acknowledged; then it lets the job go.

Binds ROUTER `run/<name>.sock` and answers SUPERVISOR_COMMANDS, each naming its `job`
(`stop` and `restart` may name several: `jobs`): `state`, `start`, `stop {force}`, `restart`,
`unhealthy {reason}`, `queue`, and from root `retire {jobs}` (stop for good).
Reports its jobs' facts and runs to the controller, batched (actors/runtime/report_queue.py),
and publishes each job's events once the report behind them is on record. Every
change of a job's facts reaches root before anything follows from it
(actors/supervisor/word_to_root.py), so that if this supervisor dies, its
replacement gets every job back and adopts the running ones by pid and start time:
none is restarted, and no line of output is lost. If root dies, it carries on alone
and the next daemon adopts it. On SIGTERM, or a `stop` on its channel at daemon stop,
it stops its jobs gracefully, keeps them down, and exits once all are at rest and
reported.
"""

from __future__ import annotations

import logging
import os
import socket
from contextlib import nullcontext
from typing import Any

from actors.runtime import process_title, supervisor_channel
from actors.runtime.actor import Actor, ActorContext
from actors.runtime.async_calls import AsyncCalls
from actors.runtime.blocking_calls import BlockingCalls
from actors.runtime.job_process import process_start_time
from actors.runtime.loop import close_quietly
from actors.runtime.report_queue import ReportQueue
from actors.supervisor import job_commands
from actors.supervisor.job_supervision import JobSupervision
from actors.supervisor.run_cgroups import RunCgroups
from actors.supervisor.run_exits import ChildReaper
from actors.supervisor.supervision_host import JobPipes, SupervisionHost
from actors.supervisor.usage_sampler import UsageSampler
from actors.supervisor.word_to_root import WordToRoot
from procclaw import commands
from procclaw.commands import RetireArgs, TakeArgs
from procclaw.config.job_wire import WireError, job_from_wire, job_to_wire
from procclaw.home import Home
from procclaw.job_facts import JobFacts
from procclaw.placement import Placement
from procclaw.platform import current
from procclaw.protocol import CommandError, ErrorCode, ProtocolError, Request
from procclaw.wire_record import WireRecord

log = logging.getLogger("procclaw.supervisor")

# Threads reading secrets for spawns (each read is bounded by the keyring's timeout).
SECRET_READERS = 2


def isolated_supervisor_name(job_id: str) -> str:
    """The supervisor of a job with `isolate: true`: its own, named for it."""
    return f"job-{job_id}"


class Supervisor(Actor):
    # Two pipe ends and a log file per stream of each job, a pidfd, sockets: a few
    # hundred jobs.
    DESCRIPTORS = 4096

    @classmethod
    def first_in_process(cls, home: Home, name: str) -> None:
        """Runs born in their cgroups are cloned by a helper with one thread, forked
        first of all: it then shares nearly all its memory with us and the zygote
        (procclaw/platform/linux_spawner.py). Let go below if there are no cgroups."""
        current().start_spawner(name)

    def __init__(self, ctx: ActorContext):
        super().__init__(ctx)
        self.cgroups = RunCgroups(self.home.root)
        if self.cgroups.tree is None:
            current().stop_spawner()
        self._channel = socket.socket(fileno=ctx.fds[0])
        self._isolated = bool(ctx.args.get("isolated"))
        self.jobs: dict[str, JobSupervision] = {}
        self._exiting = False
        self._orphaned = False
        self._retitle_due = False
        self._keyed_by_adopter = False  # a new daemon's bus key taken since our check-in
        self._sup_start = process_start_time(os.getpid()) or ""
        self.word = WordToRoot(lambda facts: self._tell_root("heartbeat", facts))

    # ---- actor lifecycle ---------------------------------------------------------------

    def setup(self) -> None:
        current().become_subreaper()  # what the jobs leave behind becomes ours to find and reap
        os.set_inheritable(self._channel.fileno(), False)
        self._channel.setblocking(False)
        self.reaper = ChildReaper(self.loop)
        self.usage = UsageSampler(self.cgroups.usage)
        self.blocking = BlockingCalls(self.loop, SECRET_READERS, "secrets")
        self.reports = ReportQueue(
            self.zmq, self.loop, self.home.endpoint("controller"), self.publish
        )
        self.reports.on_delivered = self._let_go_finished
        self.host = SupervisionHost(
            loop=self.loop,
            home=self.home,
            calls=AsyncCalls(self.zmq, self.loop, self.home),
            reaper=self.reaper,
            job_umask=self.ctx.job_umask,
            supervisor=self.name,
            sup_start=self._sup_start,
            report=self.reports.send,
            tell_root=self._tell_root_about,
            once_told=self.word.then,
            blocking=self.blocking,
            finished=self._finished,
            cgroups=self.cgroups,
        )
        self.serve(
            self.home.endpoint(self.name),
            {
                "state": self._for_job(job_commands.state, at_rest_too=True),
                "start": self._for_job(job_commands.start),
                "stop": self._one_or_many(job_commands.stop, told_together=True),
                "restart": self._one_or_many(job_commands.restart),
                "unhealthy": self._for_job(job_commands.unhealthy),
                "queue": self._for_job(job_commands.queue),
                "retire": self._retire_command,
                "bus_key": self._bus_key_command,
                "usage": self._usage_command,
            },
            commands.SUPERVISOR_ARGS,
        )
        self.loop.add_reader(self._channel.fileno(), self._on_channel)

    def teardown(self) -> None:
        self.blocking.close()
        for held in self.jobs.values():
            held.close()
        self.reports.close()
        self.host.calls.close()
        self._channel.close()

    def heartbeat_facts(self) -> dict[str, Any]:
        """Nothing new: root hears of each job's facts as they change (`_tell_root_about`),
        and a heartbeat of every job's would pass a message's size at a few hundred."""
        return {"jobs": {}, "partial": True}

    def on_terminate(self) -> None:
        """Daemon shutdown: stop every job gracefully, then exit."""
        self._exiting = True
        with self.word.gathered():
            for held in list(self.jobs.values()):
                held.shut_down()
        self._exit_if_done()

    def on_root_gone(self) -> None:
        """Root died: keep the jobs running and logged; the next daemon adopts us."""
        log.warning("%s: root is gone; carrying on until a new daemon adopts us", self.name)
        self.loop.remove_reader(self.ctx.lifeline_fd)
        self.loop.remove_reader(self._channel.fileno())
        self._orphaned = True
        # Checking in the moment a new daemon listens, not at the next heartbeat, 30 s
        # away, gives that daemon back control of our jobs at once.
        self.when_root_listens(self._check_in)

    def _usage_command(self, request: Request) -> dict[str, Any]:
        """CPU and memory of the running jobs asked for (`jobs`), each job's whole tree
        (or its cgroup)."""
        self.usage.forget(set(self.jobs))
        runs = {
            job_id: held.process
            for job_id in request.args.jobs
            if (held := self.jobs.get(job_id)) is not None and held.process is not None
        }
        return {job: usage.to_wire() for job, usage in self.usage.usage(runs).items()}

    def _bus_key_command(self, request: Request) -> dict[str, Any]:
        """The key of the daemon that adopts us: taken once, and only while orphaned, so
        that nothing else can swap it while a daemon keeps us."""
        if not self._orphaned or self._keyed_by_adopter:
            raise CommandError(ErrorCode.CONFLICT, "this supervisor's bus key is set")
        try:
            self.bus_key = bytes.fromhex(request.args.key)
        except ValueError:
            raise CommandError(ErrorCode.BAD_REQUEST, "the bus key is not hex") from None
        self._keyed_by_adopter = True
        return {}

    def _check_in(self) -> None:
        """Tell a new root every job we hold, a few at a time."""
        self._keyed_by_adopter = False  # this root's key is the one to take
        self._tell_root("heartbeat")  # adopted first, then told
        with self.word.gathered():
            for held in self.jobs.values():
                self.word.job(held.job.id, self._root_facts(held))

    # ---- what root hands us ------------------------------------------------------------

    def _on_channel(self) -> None:
        for message, fds in supervisor_channel.receive(self._channel):
            order = _from_root(message)
            pipes = supervisor_channel.PIPE_FDS
            if isinstance(order, TakeArgs) and len(fds) == len(order.jobs) * pipes:
                for index, take in enumerate(order.jobs):
                    self._take(take, JobPipes(*fds[index * pipes : (index + 1) * pipes]))
            elif isinstance(order, RetireArgs) and not fds:
                self._retire(order.jobs)
            else:
                log.error("%s: malformed message from root: %r", self.name, message.get("cmd"))
                for fd in fds:
                    close_quietly(fd)

    def _take(self, take: Any, pipes: JobPipes) -> None:
        try:
            placement = Placement.from_wire(take)
            job = job_from_wire(placement.config)
        except (ProtocolError, WireError) as exc:
            log.error("%s: cannot take a job: %s", self.name, exc)
            for fd in pipes.all():
                close_quietly(fd)
            return
        job_id = placement.job
        held = self.jobs.get(job_id)
        if held is not None:
            if not held.done:
                # Started again as it left rest (a restart's stop just ended): the same
                # pipes, one run; it carries on as the newer placement.
                for fd in pipes.all():
                    close_quietly(fd)
                held.placed_again(placement)
                return
            held.close()  # at rest, its last reports on their way: the new one takes over
        self.jobs[job_id] = JobSupervision(self.host, job, pipes, placement)
        self.jobs[job_id].begin()
        self._retitle()

    def _retitle(self) -> None:
        """Name the process by the jobs it holds once this turn of the loop is over: a
        take or a stop of many jobs renames it once, not once per job."""
        if not self._retitle_due:
            self._retitle_due = True
            self.loop.call_later(0, self._name_by_jobs)

    def _name_by_jobs(self) -> None:
        self._retitle_due = False
        process_title.name_actor("supervisor", self.name, self.jobs)

    # ---- telling root and the controller -----------------------------------------------

    def _root_facts(self, held: JobSupervision, now: JobFacts | None = None) -> dict[str, Any]:
        facts = held.root_facts(now).to_wire()
        if self._orphaned:  # a new root knows nothing of us: what it needs to replace us
            facts["placement"] = held.placement.with_config(job_to_wire(held.job)).to_wire()
        return facts

    def _tell_root_about(self, job_id: str, now: JobFacts | None = None) -> None:
        held = self.jobs.get(job_id)
        if held is not None:
            self.word.job(job_id, self._root_facts(held, now))

    def _finished(self, job_id: str) -> None:
        if not self.reports.holds(job_id):
            self._let_go(job_id)

    def _let_go_finished(self) -> None:
        for job_id, held in list(self.jobs.items()):
            if held.done and not self.reports.holds(job_id):
                self._let_go(job_id)

    def _let_go(self, job_id: str) -> None:
        held = self.jobs.pop(job_id)
        held.close()
        self._retitle()
        self.word.gone(job_id, held.generation)
        self._exit_if_done()

    def _exit_if_done(self) -> None:
        if (self._exiting or self._isolated) and not self.jobs and self.reports.empty:
            self.loop.stop()

    # ---- commands ----------------------------------------------------------------------

    def _retire_command(self, request: Request) -> dict[str, Any]:
        """From root at daemon stop, when it has no channel to us (we were adopted)."""
        self._retire(request.args.jobs)
        return {}

    def _retire(self, job_ids: list[str]) -> None:
        """Stop these jobs for good: the daemon is stopping."""
        with self.word.gathered():
            for job_id in job_ids:
                held = self.jobs.get(job_id)
                if held is not None:
                    held.shut_down()

    def _held(self, request: Request, at_rest_too: bool = False) -> JobSupervision:
        job_id = request.args.job
        held = self.jobs.get(job_id) if job_id is not None else None
        if held is None or (held.done and not at_rest_too):
            raise CommandError(ErrorCode.CONFLICT, f"job '{job_id}' is not running")
        return held

    def _for_job(self, command, at_rest_too: bool = False):
        return lambda request: command(self._held(request, at_rest_too), request.args)

    def _one_or_many(self, command, told_together: bool = False):
        """`cmd {job}`, or `cmd {jobs: [...]}`: many jobs in one request, each answered
        (None for a job we do not hold). A job come to rest whose last report is still on
        its way is held yet: a stop leaves it so, a restart starts it. `told_together`:
        what root must hear of the jobs goes in few messages (only for a command that
        starts no run, so that no new run's pid waits for the others)."""

        def handle(request: Request) -> Any:
            names = request.args.jobs
            if names is None:
                return command(self._held(request, at_rest_too=True), request.args)
            answers = {}
            with self.word.gathered() if told_together else nullcontext():
                for job_id in names:
                    held = self.jobs.get(job_id)
                    if held is None:
                        answers[job_id] = None
                        continue
                    try:
                        answers[job_id] = command(held, request.args)
                    except CommandError:
                        answers[job_id] = held.facts().to_wire()
            return answers

        return handle


def _from_root(message: dict[str, Any]) -> WireRecord | None:
    """A channel message as its record, or None if it is none of ours."""
    args = {key: value for key, value in message.items() if key not in ("v", "cmd")}
    try:
        return commands.command_args(commands.CHANNEL_ARGS, str(message.get("cmd")), args)
    except (KeyError, ProtocolError):
        return None
