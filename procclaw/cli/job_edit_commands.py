"""`procclaw add|remove|enable|disable`: change the jobs at run time, without editing
jobs.yaml.

Usage:
  procclaw add <id> --cmd=CMD [--type=TYPE] [--schedule=CRON] [--tz=ZONE] [--cwd=DIR]
               [--env=ENV]... [--tag=TAG]... [--json]
  procclaw add <id> --file=FILE [--json]
  procclaw remove <job> [--json]
  procclaw enable <job> [--json]
  procclaw disable <job> [--json]

Options:
  --cmd=CMD          The command (split like a shell would)
  --type=TYPE        manual, continuous or scheduled (scheduled with --schedule,
                     else manual)
  --schedule=CRON    When a scheduled job runs: a cron expression
  --tz=ZONE          The zone its schedule is read in (America/New_York)
  --cwd=DIR          The directory it runs in
  --env=ENV          NAME=VALUE put in its environment (repeatable)
  --tag=TAG          A tag, for `list --tag` (repeatable)
  -f, --file=FILE    A YAML file holding the job's keys, as under its id in jobs.yaml
  --json             Print the outcome as JSON: {"ok", "job", "action", "files",
                     "note", and what the reload did: "added", "removed",
                     "changed", "unchanged", "actions", "errors"}, or
                     {"ok": false, "job", "action", "error"}

`add` writes the job to jobs.d/<id>.yaml in PROCCLAW_HOME, `remove` deletes that file
(a job of jobs.yaml is removed there), and `enable` / `disable` switch any job in
jobs.d/.overrides.yaml; jobs.yaml itself is never rewritten. Each change is checked
like an edit of the files and applied as `reload` applies one: an added continuous job
starts, a removed or disabled one stops, an enabled continuous one starts. A change
with errors writes nothing and exits 1. With no daemon running, the file is written
all the same and applies at the next `procclaw daemon start`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import UsageError, parse_args
from procclaw.home import Home

USAGE = __doc__

_DONE = {"add": "added", "remove": "removed", "enable": "enabled", "disable": "disabled"}


def run(argv: list[str]) -> int:
    from procclaw.client import Client, ClientError

    action = argv[0]
    try:
        args = parse_args(USAGE, argv)
    except UsageError:
        given = {word.partition("=")[0] for word in argv[1:]}
        if action == "add" and not given & {"--cmd", "--file", "-f"}:
            raise UsageError(USAGE, argv, "--cmd or --file is needed") from None
        if "--cmd" in given and given & {"--file", "-f"}:
            raise UsageError(USAGE, argv, "--cmd or --file, not both") from None
        raise
    job_id = args["<id>"] or args["<job>"]
    text, source = _job_text(args, argv) if action == "add" else ("", "")
    home = Home.from_env()
    client = Client(home)
    try:
        if client.daemon_pid() is None:
            reply = _offline(home, action, job_id, text, source)
        else:
            request = {"job": job_id, "text": text, "source": source}
            reply = client.call(action, request)
    except ClientError as exc:
        if exc.code in ("invalid_config", "conflict", "no_such_job"):
            return _refused(action, job_id, exc.message, args["--json"])
        raise
    if args["--json"]:
        print(json.dumps({"ok": True, **reply}, indent=2))
    else:
        print(describe(action, job_id, reply))
    for other, error in reply.get("errors", {}).items():
        print(f"procclaw: {other}: {error}", file=sys.stderr)
    return 1 if reply.get("errors") else 0


def describe(action: str, job_id: str, reply: dict[str, Any]) -> str:
    """`backup: added (started)`, the files written, and what else the reload changed."""
    if reply.get("note"):
        return f"{job_id}: {reply['note']}"
    done = reply.get("actions", {}).get(job_id)
    lines = [f"{job_id}: {_DONE[action]}" + (f" ({done})" if done else "")]
    for path in reply.get("files", []):
        lines.append(f"  {'wrote' if os.path.exists(path) else 'deleted'} {path}")
    if reply.get("offline"):
        lines.append("  daemon not running: it applies at the next `procclaw daemon start`")
    others = {
        key: [job for job in reply.get(key, []) if job != job_id]
        for key in ("added", "removed", "changed")
    }
    if any(others.values()):
        from procclaw.cli.reload_commands import describe as describe_reload

        applied = describe_reload({**reply, **others, "unchanged": []})
        lines.append("  also applied, from edited files: " + applied.split(": ", 1)[1])
    return "\n".join(lines)


def _job_text(args: dict[str, Any], argv: list[str]) -> tuple[str, str]:
    """The drop-in's text, and the name its problems give its source ("" for options)."""
    from procclaw.config import ConfigError
    from procclaw.config.loader import read_config_file
    from procclaw.job_edits import dropin_text

    if args["--file"]:
        try:
            return read_config_file(args["--file"]), args["--file"]
        except ConfigError as exc:
            raise CliFailure(str(exc)) from None
    keys: dict[str, Any] = {"cmd": args["--cmd"]}
    kind = args["--type"] or ("scheduled" if args["--schedule"] else None)
    for key, value in (
        ("type", kind),
        ("schedule", args["--schedule"]),
        ("timezone", args["--tz"]),
        ("cwd", args["--cwd"]),
    ):
        if value is not None:
            keys[key] = value
    env = {}
    for item in args["--env"]:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UsageError(USAGE, argv, f"--env expects NAME=VALUE, got '{item}'")
        env[name] = value
    if env:
        keys["env"] = env
    if args["--tag"]:
        keys["tags"] = list(args["--tag"])
    return dropin_text(args["<id>"], keys), ""


def _offline(home: Home, action: str, job_id: str, text: str, source: str) -> dict[str, Any]:
    """No daemon: check the change and write it, as an edit of the files by hand."""
    from procclaw.client import ClientError
    from procclaw.config import ConfigError
    from procclaw.cpu_limits import local_refusal
    from procclaw.job_edits import EditRefused, carry_out, plan_edit

    try:
        cpu_refusal = local_refusal(home.root, daemon_started=False)
        plan = plan_edit(home, action, job_id, text, source, cpu_refusal)
    except EditRefused as exc:
        raise ClientError(exc.message, exc.code) from None
    except ConfigError as exc:
        raise ClientError(str(exc), "invalid_config") from None
    if not plan.writes:
        return {"job": job_id, "action": action, "note": plan.note, "files": []}
    return {"job": job_id, "action": action, "files": carry_out(home, plan), "offline": True}


def _refused(action: str, job_id: str, message: str, as_json: bool) -> int:
    if as_json:
        print(
            json.dumps({"ok": False, "job": job_id, "action": action, "error": message}, indent=2)
        )
    if "\n" in message:
        print(message, file=sys.stderr)
        message = f"job '{job_id}' not {_DONE[action]}; nothing changed"
    raise CliFailure(message)
