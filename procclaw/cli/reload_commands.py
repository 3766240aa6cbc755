"""`procclaw reload`: re-read the config files and apply what changed.

Usage:
  procclaw reload [--json]

Options:
  --json   Print what changed as JSON: {"reloaded", "added", "removed", "changed",
           "unchanged", "actions", "errors"}; a config with errors gives
           {"reloaded": false, "error": ...}

New jobs are added (enabled continuous ones started), removed jobs stopped, changed
jobs restarted if they were running, and every other job left alone. A config with
errors changes nothing: the errors are printed and the exit status is 1.
`kill -HUP <daemon pid>` and `POST /api/v1/reload` do the same.
"""

from __future__ import annotations

import json
import sys

from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    from procclaw.client import Client, ClientError

    as_json = parse_args(USAGE, argv)["--json"]
    try:
        change = Client(Home.from_env()).call("reload")
    except ClientError as exc:
        if exc.code != "invalid_config":
            raise
        if as_json:
            print(json.dumps({"reloaded": False, "error": exc.message}, indent=2))
        print(exc.message, file=sys.stderr)
        raise CliFailure("config not reloaded; nothing changed") from None
    if as_json:
        print(json.dumps({"reloaded": True, **change}, indent=2))
    else:
        print(describe(change))
    for job_id, error in change.get("errors", {}).items():
        print(f"procclaw: {job_id}: {error}", file=sys.stderr)
    return 1 if change.get("errors") else 0


# Jobs named per kind of change; past that, a count (`--json` lists every one).
MAX_NAMED = 10


def describe(change: dict) -> str:
    """`config reloaded: added new (started); removed old (stopped); 3 unchanged`."""
    actions = change.get("actions", {})
    parts = []
    for key in ("added", "removed", "changed"):
        jobs = change.get(key) or []
        if jobs:
            named = [f"{job} ({actions[job]})" if job in actions else job for job in jobs]
            if len(named) > MAX_NAMED:
                named[MAX_NAMED:] = [f"and {len(jobs) - MAX_NAMED:,} more"]
            parts.append(f"{key} {', '.join(named)}")
    parts.append(f"{len(change.get('unchanged', []))} unchanged")
    return "config reloaded: " + "; ".join(parts)
