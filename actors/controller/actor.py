"""The controller actor: the applied config, the job registry and the state database.

Binds ROUTER `run/controller.sock` and answers the CONTROLLER_COMMANDS of
procclaw/protocol.py: `ping`, `list` and `status` (from what the supervisors last
reported, asking none), `config`, `reload`, `start`, `stop`, `restart` (and
`start_many`, `stop_many`, `restart_many`: one request per supervisor),
`runs_summary`, `api_settings` (for the gateway), and `report` (batches from
supervisors, recorded in one transaction before they are acknowledged; and from the
health actor, `kind: health`, each job's health verdicts); for scheduled jobs
`scheduled` and `fire` (from the scheduler); `pause`, `resume` of any job
(actors/controller/job_pauses.py); `add`, `remove`, `enable`, `disable` of a job
at run time (actors/controller/job_edits.py). A reload applies only the difference
(actors/controller/config_reload.py). Owns `procclaw.db` and writes
`logs/daemon.audit.log`. Publishes `config.reloaded`, and `job.<id>.waiting|failed` for
jobs held back by their dependencies (actors/controller/dependency_gate.py). An unhealthy
continuous job is handed back to its supervisor to be restarted through its retry
policy.
At daemon start it re-adopts the jobs the last daemon left running and starts the
enabled continuous jobs that are not paused.

It tells root (`need`) which on-demand actors the applied config needs, and the API's
address, at start and after every change of the config (procclaw/rules/needed_actors.py).
A `process` health check needs no health actor: a run of such a job is healthy from
its `running` report until the report that ends it (its supervisor publishes that
`job.<id>.health` after `job.<id>.running`), and the controller records it so.

The config it runs with is the one last applied, kept in the database: a controller
restarted after a crash picks up that one, not whatever the files say now, so editing
a file changes nothing until `reload`. Only at daemon start (a new daemon id) are the
files read; if they are broken then, the last applied config is kept
(actors/controller/applied_config.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from actors.controller.applied_config import AppliedConfig
from actors.controller.config_reload import ConfigReload
from actors.controller.dependency_gate import DependencyGate
from actors.controller.job_control import JobControl, Reply
from actors.controller.job_edits import JobEdits
from actors.controller.job_health import JobHealth
from actors.controller.job_pauses import JobPauses
from actors.controller.job_placer import JobPlacer
from actors.controller.job_registry import JobRegistry
from actors.controller.root_needs import RootNeeds
from actors.controller.run_stats import run_history, runs_summary
from actors.controller.schedule_book import ScheduleBook
from actors.controller.usage_gathering import gather_usage
from actors.runtime.actor import Actor, ActorContext
from actors.runtime.async_calls import NOT_ANSWERING, AsyncCalls
from actors.runtime.command_server import Deferred, each_answer
from procclaw import commands, protocol
from procclaw.audit import AuditLog
from procclaw.config import Config, ConfigError, JobConfig, parse_config
from procclaw.config.job_wire import JOB_CONFIG_KEYS, job_to_wire
from procclaw.cpu_limits import local_refusal
from procclaw.job_edits import EDITS
from procclaw.logfiles import TAIL_LINE_BYTES, last_lines_text
from procclaw.protocol import CommandError, ErrorCode, ProtocolError, Request
from procclaw.reports import HealthReport, report_from_wire
from procclaw.secrets.job_secrets import STATUS_TIMEOUT, JobSecrets
from procclaw.states import JobState
from procclaw.store import Store
from procclaw.suggest import did_you_mean

log = logging.getLogger("procclaw.controller")

# Root answers `held` from memory; a restarted controller asks again (after
# RECOVER_RETRY) when it has no answer in RECOVER_TIMEOUT.
RECOVER_TIMEOUT = 5.0
RECOVER_RETRY = 1.0


class Controller(Actor):
    def __init__(self, ctx: ActorContext):
        super().__init__(ctx)
        self.store: Store | None = None
        self.audit: AuditLog | None = None
        self.config: Config = parse_config(None, None)

    def setup(self) -> None:
        self.store = Store(self.home.db_file)
        self.audit = AuditLog(self.home.audit_log)
        self.registry = JobRegistry(self.store, self.publish)
        self.calls = AsyncCalls(self.zmq, self.loop, self.home)
        self.needs = RootNeeds(self.loop, self.calls)
        self.placer = JobPlacer(self.ctx.daemon_id, self.loop, self.calls)
        self.jobs = JobControl(self.registry, self.calls, self.placer, self.loop)
        self.health = JobHealth()
        self.gate = DependencyGate(self.loop, self.registry, self.health, self.jobs)
        self.jobs.gate = self.gate
        self.reloads = ConfigReload(self.jobs, self.store)
        self.schedules = ScheduleBook(self.store, self.jobs, self.ctx.daemon_id)
        self.pauses = JobPauses(self.store, self.jobs, self.publish)
        # Root made the cgroups before this actor started; they do not change after.
        cpu_refusal = local_refusal(self.home.root, daemon_started=True)
        self.applied = AppliedConfig(self.home, self.store, self.ctx.daemon_id, cpu_refusal)
        self.edits = JobEdits(
            self.home, self.applied.record, self._take, lambda: self.config, cpu_refusal
        )
        daemon_start = self.applied.first_of_this_daemon()
        self.config = self.applied.initial()
        self._share_config()
        self.pauses.forget_removed(self.config)
        if daemon_start:
            # Before serving anyone: nobody may see the last daemon's stale job states.
            with self.store.transaction():
                self.reloads.forget_owed()
                self.jobs.reconcile(self.config)
        else:
            self._recover()
        self.health.judge_process_checks(self.config, self.registry.facts)
        self.needs.tell(self.config)
        self.serve(
            self.home.endpoint("controller"),
            {
                "ping": lambda _req: {
                    "pid": os.getpid(),
                    "jobs": len(self.config.jobs),
                    "database": self.store.problem if self.store else None,
                    "log_troubles": self.registry.log_troubles(),
                },
                "list": self._list,
                "status": self._status,
                "config": self._config,
                "reload": self._audited(self._reload),
                "start": self._audited(lambda req: self.jobs.start(self._job(req), req.caller)),
                "stop": self._audited(self._stop),
                "start_many": self._many("start", self._start_many),
                "stop_many": self._many("stop", self._stop_many),
                "restart_many": self._many(
                    "restart", lambda jobs, req: self.jobs.restart_many(jobs, req.caller)
                ),
                "restart": self._audited(lambda req: self.jobs.restart(self._job(req), req.caller)),
                "report": self._report,
                "runs_summary": lambda _req: runs_summary(self.store.db),
                "runs": lambda req: run_history(self.store, self._job(req).id, req.args.limit),
                "api_settings": self._api_settings,
                "scheduled": lambda _req: self.schedules.scheduled(self.config),
                "fire": lambda req: self.schedules.fire(self.config, req.args.fires),
                "pause": self._audited(lambda req: self.pauses.pause(self._job(req))),
                "resume": self._audited(lambda req: self.pauses.resume(self._job(req), req.caller)),
                "usage": lambda req: gather_usage(self.calls, self.registry, self._listed(req)),
                **{action: self._audited(self.edits.handler(action)) for action in EDITS},
            },
            commands.CONTROLLER_ARGS,
        )

    def _recover(self) -> None:
        """Restarted: carry on with what the controller before us was asked to do."""
        assert self.store is not None
        with self.store.transaction():
            self.gate.resume()
            self.reloads.resume(self.config)
        self._ask_what_is_held()

    def _ask_what_is_held(self) -> None:
        """Root's word on what the supervisors hold, asked until it answers: a job asked
        for but never placed is placed only then."""
        self.calls.call(
            "daemon", "held", {}, self._place_the_unheld, self._held_unheard, RECOVER_TIMEOUT
        )

    def _held_unheard(self, code: str, message: str) -> None:
        if code not in (NOT_ANSWERING, ErrorCode.UNAVAILABLE):  # root refused: for good
            log.error("cannot learn what the supervisors hold: %s", message)
            return
        log.warning("cannot learn what the supervisors hold: %s; asking again", message)
        self.loop.call_later(RECOVER_RETRY, self._ask_what_is_held)

    def _place_the_unheld(self, held: dict[str, Any]) -> None:
        assert self.store is not None
        with self.store.transaction():
            self.jobs.recover(held["supervisors"])

    def teardown(self) -> None:
        self.calls.close()
        if self.store:
            self.store.close()
        if self.audit:
            self.audit.close()

    # ---- commands ----------------------------------------------------------------------

    def _audited(self, handler):
        """Wrap a state-changing command so that every call leaves one audit line."""

        def audited(request: Request) -> Any:
            assert self.audit is not None
            audit = self.audit
            job = getattr(request.args, "job", None)

            def record(_result: Any, error: CommandError | None) -> None:
                outcome = f"error: {error.message}" if error is not None else "ok"
                audit.record(request.cmd, job, request.caller, outcome)

            try:
                result = handler(request)
            except CommandError as exc:
                record(None, exc)
                raise
            if isinstance(result, Deferred):
                result.then(record)
            else:
                record(result, None)
            return result

        return audited

    def _share_config(self) -> None:
        """Hand the applied config to the parts that start jobs in dependency order."""
        self.jobs.config = self.gate.config = self.config
        self.placer.configure(self.config)

    def _with_health(self, summary: dict[str, Any]) -> dict[str, Any]:
        health = self.health.label(summary["id"], summary["state"], summary.get("run_id"))
        return {**summary, "health": health}

    def _listed(self, request: Request) -> list[JobConfig]:
        """Every job, or those `jobs` (ids) names, in config order."""
        wanted = request.args.jobs
        if wanted is None:
            return list(self.config.jobs)
        wanted_ids = set(wanted)
        return [job for job in self.config.jobs if job.id in wanted_ids]

    def _list(self, request: Request) -> list[dict[str, Any]]:
        """Every job's summary; `jobs` (ids) narrows it to those, in config order, and
        `fields` to those keys of each."""
        summaries = [
            self._with_health(
                {
                    **self.registry.summary(job),
                    **self.schedules.summary(job, count=1),
                    **self.pauses.summary(job),
                }
            )
            for job in self._listed(request)
        ]
        wanted = request.args.fields
        if wanted is None:
            return summaries
        for field in wanted:
            if field not in LISTED_FIELDS:
                raise CommandError(ErrorCode.BAD_REQUEST, f"list: a job has no {field!r}")
        keys = ("id", *wanted)
        return [_only(summary, keys) for summary in summaries]

    def _status(self, request: Request) -> dict[str, Any]:
        job = self._job(request)
        assert self.store is not None
        facts = self.registry.facts(job.id)
        runs = self.store.runs(job.id, limit=1)
        last_run = asdict(runs[0]) if runs else None
        logs = {"stdout": self.home.job_log(job.id), "stderr": self.home.job_log(job.id, "stderr")}
        secrets = JobSecrets(self.home, job, STATUS_TIMEOUT)
        return {
            **self._with_health(self.registry.summary(job, facts)),
            "health_detail": self.health.details(job.id),
            "status_text": facts.status_text,
            **self.schedules.summary(job),
            **self.pauses.summary(job),
            "config": job.to_dict(),
            "last_run": last_run,
            "logs": {stream: str(path) for stream, path in logs.items()},
            "database": self.store.problem if self.store else None,
            # The last lines of each stream, secrets masked: stdout's and stderr's.
            **{
                key: secrets.mask_lines(last_lines_text(logs[stream], 10, TAIL_LINE_BYTES))
                for key, stream in (("log_tail", "stdout"), ("error_tail", "stderr"))
            },
        }

    def _many(self, what: str, act: Callable[[list[JobConfig], Request], Deferred]):
        """A command for several jobs (`procclaw start|stop|restart a b c`, `--all`): each
        supervisor is asked once, and each job answered (its facts, or an `error`)."""

        def handle(request: Request) -> Deferred:
            assert self.audit is not None
            audit = self.audit
            jobs, unknown = [], {}
            for name in dict.fromkeys(request.args.jobs):
                try:
                    jobs.append(self._job_named(name))
                except CommandError as exc:
                    unknown[name] = {"error": exc.message}
            done = Deferred()

            def answered(answers: Any, _error: CommandError | None) -> None:
                results = {**unknown, **(answers or {})}
                audit.record_many(
                    what,
                    request.caller,
                    {
                        job_id: f"error: {result['error']}" if "error" in result else "ok"
                        for job_id, result in results.items()
                    },
                )
                done.resolve(results)

            act(jobs, request).then(answered)
            return done

        return handle

    def _stop(self, request: Request) -> Reply:
        job = self._job(request)
        self.reloads.owe_no_restart(job.id)
        return self.jobs.stop(job, request.args.force)

    def _stop_many(self, jobs: list[JobConfig], request: Request) -> Deferred:
        for job in jobs:
            self.reloads.owe_no_restart(job.id)
        return self.jobs.stop_many(jobs, request.args.force)

    def _start_many(self, jobs: list[JobConfig], request: Request) -> Deferred:
        """Start each job (those that start now are placed in one batch, and recorded in
        one transaction)."""
        assert self.store is not None
        results: dict[str, Any] = {}
        with self.store.transaction():
            for job in jobs:
                try:
                    results[job.id] = self.jobs.start(job, request.caller)
                except CommandError as exc:
                    results[job.id] = {"error": exc.message}
        return each_answer(results, lambda _job_id, answer: answer)

    def _report(self, request: Request) -> dict[str, Any]:
        """A batch of reports from a supervisor (job states and runs) or from the health
        actor (verdicts), recorded in one transaction before it is acknowledged."""
        try:
            reports = [report_from_wire(report) for report in request.args.reports]
        except ProtocolError as exc:
            raise CommandError(exc.code, exc.message) from None
        assert self.store is not None
        changed = []
        with self.store.transaction():
            for report in reports:
                if isinstance(report, HealthReport):
                    self._record_health(report)
                else:
                    self.registry.record(report)
                    changed.append(report.job)
        for job_id in dict.fromkeys(changed):
            self.health.judge_process_check(self.config.job(job_id), self.registry.facts(job_id))
            self.jobs.reported(job_id)
            self.gate.on_change(job_id)
            self.reloads.job_reported(job_id, self.config)
        return {}

    def _record_health(self, report: HealthReport) -> None:
        """A verdict from the health actor: dependents may go on; a sick service restarts."""
        job_id = report.job
        if not self.health.record(report):
            return
        self.gate.on_change(job_id)
        job = self.config.job(job_id)
        facts = self.registry.facts(job_id)
        if (
            job is not None
            and job.type == "continuous"
            and not report.healthy
            and facts.state == JobState.RUNNING
            and facts.run_id == report.run_id
        ):
            log.warning("job %s is unhealthy (%s): restarting it", job_id, report.reason)
            self.jobs.restart_unhealthy(job, report.reason or "unhealthy")

    def _config(self, request: Request) -> dict[str, Any]:
        parts = request.args.parts
        if parts is None:
            return {
                "settings": self.config.settings.to_dict(),
                "jobs": [job.to_dict() for job in self.config.jobs],
            }
        for part in parts:
            if part not in JOB_CONFIG_KEYS:
                raise CommandError(ErrorCode.BAD_REQUEST, f"config: a job has no {part!r}")
        keys = ("id", *parts)
        return {"jobs": [_only(job_to_wire(job), keys) for job in self.config.jobs]}

    def _reload(self, _request: Request) -> dict[str, Any]:
        try:
            config = self.applied.from_files(before=self.config)
        except ConfigError as exc:
            raise CommandError(ErrorCode.INVALID_CONFIG, str(exc)) from None
        return self._take(config)

    def _take(self, config: Config, asked_by: dict[str, str] | None = None) -> dict[str, Any]:
        """Run with `config` from now on, acting only on what differs (a reload);
        `asked_by` as in ConfigReload.apply."""
        assert self.store is not None
        previous, self.config = self.config, config
        self._share_config()
        self.pauses.forget_removed(config)
        with self.store.transaction():  # what a reload records, in one commit
            change = self.reloads.apply(previous, config, asked_by)
        self.health.judge_process_checks(self.config, self.registry.facts)
        self.needs.tell(config)
        self.publish(protocol.CONFIG_RELOADED, change)
        return change.to_wire()

    def _api_settings(self, _request: Request) -> dict[str, Any]:
        """Where the gateway listens and how it checks tokens; a token stays a reference."""
        daemon, auth = self.config.settings.daemon, self.config.settings.api.auth
        return {
            "host": daemon.host,
            "port": daemon.port,
            "auth": {
                "enabled": auth.enabled,
                "token": auth.token,
                "token_file": auth.token_file,
                "metrics": auth.metrics,
            },
        }

    def _job(self, request: Request):
        return self._job_named(request.args.job)

    def _job_named(self, job_id: str):
        job = self.config.job(job_id)
        if job is None:
            hint = did_you_mean(job_id, self.config.job_ids)
            raise CommandError(ErrorCode.NO_SUCH_JOB, f"no job '{job_id}'{hint}")
        return job


# Every key a job's summary in `list` may have (a scheduled job's alone: `skipped`,
# `timezone`); tests/test_controller.py checks it against what `list` sends.
LISTED_FIELDS = frozenset(
    {
        *("id", "name", "type", "state", "pid", "run_id", "cause", "stops_by", "cgroup"),
        *("uptime", "restarts", "last_exit", "reason", "tags", "enabled", "supervisor"),
        *("sup_pid", "log_trouble", "heartbeat_at", "heartbeat_late", "health"),
        *("next_runs", "skipped", "timezone", "paused", "paused_since"),
    }
)


def _only(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Those of `keys` that `data` has: an actor that follows every job asks for what it
    reads, not hundreds of whole configs or summaries."""
    return {key: data[key] for key in keys if key in data}
