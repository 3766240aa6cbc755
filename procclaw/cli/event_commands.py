"""`procclaw events`: watch the daemon's event bus.

Usage:
  procclaw events [-f] [--job=JOB]... [--type=TYPE]... [-n N] [--timeout=SECONDS] [--json]

Options:
  -f                 Follow the bus until interrupted (the default unless -n is given)
  --job=JOB          Only events about this job (repeatable)
  --type=TYPE        Only events of this type, the topic's last part: running, failed,
                     exited, health, fired, up, down, reloaded, ... (repeatable)
  -n N               Exit after N events (status 1 if --timeout passes first)
  --timeout=SECONDS  Stop watching after this long (with -n: exit 1 if fewer came)
  --json             One JSON object per line: topic, src, seq, ts, data

The bus keeps no history: you see what happens from the moment the command runs.
"""

from __future__ import annotations

import json
import sys
import time

from procclaw.cli.arguments import seconds
from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home
from procclaw.whole_numbers import whole_number

USAGE = __doc__

# The facts worth a glance in text output, in this order; --json has them all.
_SHOWN = ("state", "pid", "reason", "last_exit", "healthy", "restarts", "status")


def run(argv: list[str]) -> int:
    from procclaw import protocol
    from procclaw.client import Client
    from procclaw.subscription import Subscription

    args = parse_args(USAGE, argv)
    count = None if args["-n"] is None else _event_count(args["-n"])
    timeout = None if args["--timeout"] is None else seconds(args["--timeout"], "--timeout")
    types = set(args["--type"])
    if problem := protocol.unknown_event_type(types):
        raise CliFailure(problem)
    prefixes = tuple(p for job in args["--job"] for p in protocol.job_event_prefixes(job))
    home = Home.from_env()
    client = Client(home)
    client.require_daemon()
    for job in args["--job"]:
        client.call("status", {"job": job})  # a job that is not there: its error, did-you-mean
    subscription = Subscription(home, prefixes or ("",))
    try:
        subscription.sync(client)
        print("procclaw: watching events (Ctrl-C to stop)", file=sys.stderr, flush=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = 0
        while count is None or seen < count:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            event = subscription.wait_for(
                lambda e: not types or protocol.event_type(e.topic) in types,
                timeout=3600.0 if left is None else left,
            )
            if event is None:
                if deadline is None:
                    continue
                if count is None:
                    return 0  # watched for as long as asked
                print(f"procclaw: {seen} of {count} events in {timeout:g} s", file=sys.stderr)
                return 1
            print(_as_json(event) if args["--json"] else _as_text(event), flush=True)
            seen += 1
        return 0
    finally:
        subscription.close()


def _event_count(value: str) -> int:
    count = whole_number(value, 1)
    if count is None:
        raise CliFailure(f"-n expects a number of events (1 or more), got '{value}'")
    return count


def _as_json(event) -> str:
    payload = {"topic": event.topic, "src": event.src, "seq": event.seq, "ts": event.ts}
    return json.dumps({**payload, "data": event.data}, default=str)


def _as_text(event) -> str:
    moment = (
        time.strftime("%H:%M:%S", time.localtime(event.ts)) + f".{int(event.ts % 1 * 1000):03d}"
    )
    facts = " ".join(
        f"{key}={event.data[key]}" for key in _SHOWN if event.data.get(key) not in (None, "")
    )
    return f"{moment}  {event.topic}  {facts}".rstrip()
