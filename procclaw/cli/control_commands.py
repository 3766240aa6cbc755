"""`procclaw start|stop|restart <job>`: change what a job is doing, and wait until it has.

Usage:
  procclaw start <job> [--timeout=SECONDS]
  procclaw stop <job> [--force] [--timeout=SECONDS]
  procclaw restart <job> [--timeout=SECONDS]

Options:
  --force             Kill the job's processes at once (SIGKILL), without the grace period
  --timeout=SECONDS   How long to wait for the job to get there [default: 90]

`start` waits until the job runs (or failed to), `stop` until it has stopped, `restart`
until the new process runs. Exit status 0 when it got there, 1 otherwise.
"""

from __future__ import annotations

from docopt import docopt

from procclaw.cli.arguments import seconds
from procclaw.cli.errors import CliFailure
from procclaw.home import Home

USAGE = __doc__

# The events that end each command's wait, and whether each counts as success.
_OUTCOMES = {
    "start": {"running": True, "completed": True, "failed": False, "backoff": False},
    "stop": {"stopped": True, "failed": True, "completed": True},
    "restart": {"running": True, "failed": False, "backoff": False},
}


def run(argv: list[str]) -> int:
    from procclaw import protocol
    from procclaw.client import Client, ClientError, Subscription

    args = docopt(USAGE, argv=argv)
    command = argv[0]
    job_id = args["<job>"]
    timeout = seconds(args["--timeout"], "--timeout")
    home = Home.from_env()
    client = Client(home)
    client.require_daemon()
    events = Subscription(home, (protocol.job_prefix(job_id),))
    try:
        events.sync(client)
        request = {"job": job_id, "force": True} if args.get("--force") else {"job": job_id}
        try:
            reply = client.call(command, request)
        except ClientError as exc:
            raise CliFailure(exc.message) from None
        if reply.get("note") == "not running":
            print(f"{job_id}: not running ({reply['state']})")
            return 0
        outcomes = _OUTCOMES[command]
        if reply.get("state") == "running" and command != "stop":
            print(_describe(job_id, "running", reply))  # from backoff: started at once
            return 0
        old_pid = reply.get("pid") if command == "restart" else None
        event = events.wait_for(
            lambda e: (
                e.topic.rsplit(".", 1)[-1] in outcomes
                and not (e.data.get("pid") == old_pid and e.topic.endswith(".running"))
            ),
            timeout,
        )
    finally:
        events.close()
    if event is None:
        raise CliFailure(
            f"{job_id}: no outcome after {timeout:g} s; see `procclaw status {job_id}`"
        )
    state = event.topic.rsplit(".", 1)[-1]
    print(_describe(job_id, state, event.data))
    return 0 if outcomes[state] else 1


def _describe(job_id: str, state: str, facts: dict) -> str:
    if state == "running":
        return f"{job_id}: running (pid {facts.get('pid')})"
    if state == "backoff":
        delay = facts.get("retry_in") or 0
        return f"{job_id}: exited ({facts.get('last_exit')}); restarting in {delay:g} s"
    if state == "failed":
        return f"{job_id}: failed: {facts.get('reason') or facts.get('last_exit')}"
    return f"{job_id}: {state}"
