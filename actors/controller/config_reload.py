"""Applying a reloaded config to the jobs: only what changed is touched.

A job that is new is started if it is an enabled continuous job, not paused (as at
daemon start);
a job gone from the config is stopped; a job whose config changed is restarted with
the new config if it was live (stopped by its supervisor, then started afresh once at
rest, since a supervisor runs the config it was born with), unless it was enabled and is
disabled now: then it is stopped (`procclaw disable`). A live job whose only change is
that it is enabled now is left running. Every other job is left
exactly as it is, same process, same pid.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import yaml

from actors.controller.job_control import JobControl
from actors.runtime.command_server import log_failure
from procclaw.api_token import TokenUnreadable, read_token
from procclaw.bus_events import ConfigReloaded
from procclaw.config import Config, ConfigError, Problem
from procclaw.home import Home
from procclaw.protocol import CommandError
from procclaw.states import RESTING_STATES
from procclaw.store import Store

log = logging.getLogger("procclaw.controller")


def refuse_emptying(jobs_text: str | None, jobs_file: str, old: Config, new: Config) -> None:
    """ConfigError when a missing or empty jobs file would remove jobs (the drop-ins of
    jobs.d/ may still hold some: they do not make an emptied jobs.yaml any likelier
    a wish).

    `jobs: {}` says "no jobs" on purpose and is let through.
    """
    if jobs_text is not None and yaml.safe_load(jobs_text):
        return
    removed = [job.id for job in old.jobs if new.job(job.id) is None]
    if not removed:
        return
    what = "is missing" if jobs_text is None else "is empty"
    count = f"all {len(removed)}" if len(removed) == len(old.jobs) else str(len(removed))
    raise ConfigError(
        (
            Problem(
                jobs_file,
                None,
                "",
                f"{what}: a reload would stop and remove {count} jobs;"
                " write `jobs: {}` to run none",
            ),
        )
    )


def refuse_unreadable_token(home: Home, settings_file: str, old: Config, new: Config) -> None:
    """ConfigError when the reload changes the API's auth to a token that cannot be read.

    Applied, it would leave an API that refuses every request. A token file is read
    at every reload (its contents may have changed); a secret only when the auth
    settings changed: a keyring locked since the start must not block an unrelated
    reload.
    """
    auth = new.settings.api.auth
    if not auth.enabled or (auth == old.settings.api.auth and not auth.token_file):
        return
    try:
        read_token(home, auth.token, auth.token_file)
    except TokenUnreadable as exc:
        where = "api.auth.token_file" if auth.token_file else "api.auth.token"
        raise ConfigError((Problem(settings_file, None, where, str(exc)),)) from None


def config_difference(old: Config, new: Config) -> dict[str, list[str]]:
    """Which jobs `new` adds, removes, changes and keeps as they are, by id."""
    before = {job.id: job for job in old.jobs}
    after = {job.id: job for job in new.jobs}
    both = set(before) & set(after)
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(job for job in both if before[job] != after[job]),
        "unchanged": sorted(job for job in both if before[job] == after[job]),
    }


class ConfigReload:
    """Turns a config difference into starts and stops, and finishes deferred restarts."""

    def __init__(self, jobs: JobControl, store: Store):
        self._jobs = jobs
        self._store = store
        # Changed jobs being stopped, to be started with their new config once at rest;
        # kept in the store too, for the controller after us.
        self._restart_when_at_rest: set[str] = store.owed_restarts()
        jobs.reload_restarting = self._restart_when_at_rest.__contains__

    def resume(self, config: Config) -> None:
        """Restarted: start what the controller before us owed a restart and is at rest
        (the others start when their supervisors report them at rest)."""
        for job_id in sorted(self._restart_when_at_rest):
            self.job_reported(job_id, config)

    def forget_owed(self) -> None:
        """At daemon start: the last daemon stopped its jobs, and this one starts them by
        its own rules."""
        for job_id in list(self._restart_when_at_rest):
            self._settle(job_id)

    def _owe(self, job_id: str) -> None:
        self._restart_when_at_rest.add(job_id)
        self._store.save_owed_restart(job_id, True)

    def _settle(self, job_id: str) -> None:
        if job_id in self._restart_when_at_rest:
            self._restart_when_at_rest.discard(job_id)
            self._store.save_owed_restart(job_id, False)

    def apply(
        self, old: Config, new: Config, asked_by: dict[str, str] | None = None
    ) -> ConfigReloaded:
        """Act on the difference; the reply says what changed and what was done.

        `asked_by` names who asked for a job's change (`cli` or `api`, for `procclaw add`
        and the like): a run it starts says so; any other is started by the reload."""
        cause = (asked_by or {}).get
        change: dict[str, Any] = config_difference(old, new)
        actions: dict[str, str] = {}
        errors: dict[str, str] = {}
        for job_id in change["removed"]:
            self._settle(job_id)
            job = old.job(job_id)
            if job is not None and self._jobs.registry.is_live(job_id):
                self._try(job_id, lambda j=job: self._jobs.stop(j, force=False), errors)
                actions[job_id] = "stopped"
        for job_id in change["changed"]:
            old_job, new_job = old.job(job_id), new.job(job_id)
            assert old_job is not None and new_job is not None
            live = self._jobs.registry.is_live(job_id)
            if live and old_job.enabled and not new_job.enabled:
                self._settle(job_id)
                self._try(job_id, lambda j=old_job: self._jobs.stop(j, force=False), errors)
                actions[job_id] = "stopped"
            elif live and replace(old_job, enabled=new_job.enabled) == new_job:
                continue  # enabled, and running already
            elif live:
                self._owe(job_id)
                self._try(job_id, lambda j=old_job: self._jobs.stop(j, force=False), errors)
                actions[job_id] = "restarted"
                self.job_reported(job_id, new)  # it may have been at rest already
            elif self._jobs.starts_by_itself(new_job):
                why = cause(job_id, "reload")
                self._try(job_id, lambda j=new_job, w=why: self._jobs.start(j, w), errors)
                actions[job_id] = "started"
        for job_id in change["added"]:
            job = new.job(job_id)
            live = self._jobs.registry.is_live(job_id)
            if job is not None and self._jobs.starts_by_itself(job) and not live:
                why = cause(job_id, "reload")
                self._try(job_id, lambda j=job, w=why: self._jobs.start(j, w), errors)
                actions[job_id] = "started"
        return ConfigReloaded(**change, actions=actions, errors=errors)

    def owe_no_restart(self, job_id: str) -> None:
        """A stop asked for while a changed job is stopped for its restart wins: the job
        stays down."""
        self._settle(job_id)

    def job_reported(self, job_id: str, config: Config) -> None:
        """After a supervisor's report: start a changed job once its old run is at rest."""
        if job_id not in self._restart_when_at_rest:
            return
        if self._jobs.registry.state(job_id) not in RESTING_STATES:
            return
        self._settle(job_id)
        job = config.job(job_id)
        if job is None or self._jobs.paused(job_id):
            return  # a paused job stays down: `resume` starts it with its new config
        try:
            log_failure(
                self._jobs.start(job, "reload"), f"job {job_id} not restarted with its new config"
            )
        except CommandError as exc:
            log.error("job %s not restarted with its new config: %s", job_id, exc.message)

    @staticmethod
    def _try(job_id: str, action, errors: dict[str, str]) -> None:
        try:
            log_failure(action(), f"reload: job {job_id}")
        except CommandError as exc:
            errors[job_id] = exc.message
            log.error("reload: job %s: %s", job_id, exc.message)
