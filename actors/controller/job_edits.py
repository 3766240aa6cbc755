"""The controller's `add`, `remove`, `enable` and `disable`: a job changed at run time.

Each is a reload with one file of jobs.d/ changed (procclaw/job_edits.py plans it):
the files are read as they are now, the change is put on top, and the whole config is
validated before anything is written. A refused change writes nothing and touches no
job. An accepted one is written (atomically, mode 0600), recorded as the applied config
(so a restarted controller or daemon keeps it), and applied as a reload difference by
the controller, which also publishes `config.reloaded`. Edits of the files that were
waiting for a reload are applied with it, as `reload` would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors.controller.config_reload import refuse_emptying
from procclaw.commands import JobEditArgs
from procclaw.config import Config, ConfigError
from procclaw.home import Home
from procclaw.job_edits import ConfigTexts, EditRefused, carry_out, plan_edit
from procclaw.protocol import CommandError, ErrorCode, Request


class JobEdits:
    """Plans, writes and records one change; `take` applies the config it makes."""

    def __init__(
        self,
        home: Home,
        record: Callable[[ConfigTexts], None],
        take: Callable[[Config, dict[str, str]], dict[str, Any]],
        applied: Callable[[], Config],
        cpu_refusal: str | None,
    ):
        self._home = home
        self._cpu_refusal = cpu_refusal  # procclaw/cpu_limits.py
        self._record = record  # keeps the texts as the applied config
        self._take = take
        self._applied = applied

    def handler(self, action: str) -> Callable[[Request], dict[str, Any]]:
        """The command handler of `action` (add, remove, enable or disable)."""
        return lambda request: self.edit(action, request.args, request.caller)

    def edit(self, action: str, args: JobEditArgs, caller: str = "cli") -> dict[str, Any]:
        """The reply: the job, what was done to the files, and the reload's difference."""
        try:
            plan = plan_edit(
                self._home, action, args.job, args.text, args.source, self._cpu_refusal
            )
            # jobs.yaml is applied as it is now: not when caught mid-save.
            before = self._applied()
            if action == "remove":  # removing the last job is what was asked
                before = Config(before.settings, tuple(j for j in before.jobs if j.id != args.job))
            refuse_emptying(plan.texts.jobs, str(self._home.jobs_file), before, plan.config)
        except EditRefused as exc:
            raise CommandError(exc.code, exc.message) from None
        except ConfigError as exc:
            raise CommandError(ErrorCode.INVALID_CONFIG, str(exc)) from None
        if not plan.writes:
            return {"job": args.job, "action": action, "note": plan.note, "files": []}
        try:
            files = carry_out(self._home, plan)
        except OSError as exc:
            where = exc.filename or self._home.jobs_dir
            raise CommandError(
                ErrorCode.INTERNAL, f"cannot write {where}: {exc.strerror or exc}"
            ) from None
        self._record(plan.texts)
        change = self._take(plan.config, {args.job: caller})
        return {"job": args.job, "action": action, "files": files, **change}
