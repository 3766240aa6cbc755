"""`procclaw runs <job>`: the job's past runs, the latest first.

Usage:
  procclaw runs <job> [-n N] [--json]

Options:
  -n N     How many runs to show, 1 to 10000 [default: 10]
  --json   Print the runs as JSON: [{"run_id", "started_at", "ended_at", "duration",
           "result", "exit_code", "signal", "cause"}], times in seconds since the epoch

Each run shows when it started, how long it ran, how it ended (completed, failed,
stopped, timeout), its exit code or signal, and how it was started: `daemon` (at daemon
start), `cli` or `api` (start, restart or resume asked there), `schedule`, `dependency`
(another job needed it), `retry` (the retry policy restarted it) or `reload`.
"""

from __future__ import annotations

import json
import time

from procclaw.cli.errors import CliFailure
from procclaw.cli.render import format_duration, table
from procclaw.cli.usage_errors import UsageError, parse_args
from procclaw.home import Home
from procclaw.whole_numbers import whole_number

USAGE = __doc__
MAX_RUNS = 10_000


def run(argv: list[str]) -> int:
    from procclaw.client import Client, ClientError

    args = parse_args(USAGE, argv)
    limit = whole_number(args["-n"], 1, MAX_RUNS)
    if limit is None:
        problem = f"-n expects a number of runs from 1 to {MAX_RUNS}, got '{args['-n']}'"
        raise UsageError(USAGE, argv, problem)
    job_id = args["<job>"]
    client = Client(Home.from_env())
    try:
        runs = client.call("runs", {"job": job_id, "limit": limit})
    except ClientError as exc:
        raise CliFailure(exc.message) from None
    if args["--json"]:
        print(json.dumps(runs, indent=2))
    elif not runs:
        print(f"{job_id}: no finished runs yet")
    else:
        headers = ("started", "duration", "result", "exit", "cause")
        print(table(headers, [_row(run) for run in runs]))
    return 0


def _row(run: dict) -> tuple:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run["started_at"]))
    code = run["exit_code"]
    ended = f"exit code {code}" if code is not None else run["signal"]
    return (started, format_duration(run["duration"]), run["result"], ended, run["cause"])
