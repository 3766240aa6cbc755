"""`procclaw start|stop|restart|pause|resume`: change what jobs are doing, and wait
until they have.

Usage:
  procclaw start ((<job> | --tag=TAG)... | --all) [--timeout=SECONDS] [--json]
  procclaw stop ((<job> | --tag=TAG)... | --all) [--force] [--timeout=SECONDS] [--json]
  procclaw restart ((<job> | --tag=TAG)... | --all) [--timeout=SECONDS] [--json]
  procclaw pause <job>... [--timeout=SECONDS] [--json]
  procclaw resume <job>... [--timeout=SECONDS] [--json]

Options:
  --tag=TAG           Every job carrying this tag, as if named (again for more tags)
  --all               start: every enabled continuous job that is not running;
                      stop and restart: every job that is running (or about to)
  --force             Kill the job's processes at once (SIGKILL), without the grace period
  --timeout=SECONDS   How long to wait for the jobs to get there [default: 90]
  --json              Print the outcomes as one JSON document once every job has one:
                      {"ok": ..., "jobs": {"<job>": {"state", "pid", "reason", "note",
                      "error", ...}}}

`start` waits until each job runs (or failed to), `stop` until it has stopped, `restart`
until the new process runs. Exit status 0 when every job got there, 1 otherwise.
On a terminal, a job still in its grace period shows how long it has waited:
`api: stopping (SIGTERM sent, 12 s of 60 s)`.

`pause` holds a job down until `resume`, across daemon restarts and reloads: a running
continuous or manual job is stopped gracefully (and waited for), a scheduled job's run
under way finishes and its later runs are skipped, and `start` of it is refused.
`resume` lets it go, and starts it again if it is an enabled continuous job.
"""

from __future__ import annotations

import json
import sys
import time

from procclaw.cli.arguments import seconds
from procclaw.cli.errors import CliFailure
from procclaw.cli.job_selection import chosen_jobs
from procclaw.cli.stop_progress import StopProgress
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home
from procclaw.states import LIVE_STATES

USAGE = __doc__

# The events that end each command's wait, and whether each counts as success.
_OUTCOMES = {
    # `stopped`: a stop ended the wait for its dependencies.
    "start": {
        "running": True,
        "completed": True,
        "failed": False,
        "backoff": False,
        "stopped": False,
    },
    "stop": {"stopped": True, "failed": True, "completed": True},
    "restart": {"running": True, "failed": False, "backoff": False},
}
_OUTCOMES["pause"] = _OUTCOMES["stop"]
_OUTCOMES["resume"] = _OUTCOMES["start"]


def run(argv: list[str]) -> int:
    from procclaw.client import Client
    from procclaw.subscription import Subscription

    args = parse_args(USAGE, argv)
    command = argv[0]
    timeout = seconds(args["--timeout"], "--timeout")
    home = Home.from_env()
    client = Client(home)
    client.require_daemon()
    if args["--all"]:
        job_ids = _every_job_for(command, client)
    elif args["--tag"]:
        job_ids = chosen_jobs(client.call("list"), args["<job>"], args["--tag"])
    else:
        job_ids = list(dict.fromkeys(args["<job>"]))
    report = Outcomes(args["--json"])
    progress = StopProgress(client, shown=not report.as_json)
    if not job_ids:
        if not report.as_json:
            print(f"no job to {command}")
        return report.done(True)
    events = Subscription(home, ("job.",))
    try:
        events.sync(client)
        awaited: dict[str, int | None] = {}  # job -> the pid a restart replaces
        ok = True
        for job_id, reply in _ask(client, command, job_ids, bool(args["--force"])):
            if "error" in reply:
                if len(job_ids) == 1 and not report.as_json:
                    raise CliFailure(reply["error"])
                report.error(job_id, reply["error"])
                ok = False
            elif command in ("pause", "resume") and _pause_done(job_id, command, reply, report):
                continue
            elif reply.get("note") == "not running":
                report.say(job_id, f"not running ({reply['state']})", reply)
            elif reply.get("note") == "already started":
                report.say(job_id, f"already {_already(reply)}", reply)
            elif reply.get("state") == "running" and command != "stop":
                report.say(job_id, _describe("running", reply), reply)  # from backoff
            else:
                if reply.get("state") == "waiting":
                    report.say(job_id, str(reply.get("reason")), reply)
                awaited[job_id] = reply.get("pid") if command == "restart" else None
                progress.note(job_id, reply.get("state"), reply)
        got_there = _await_outcomes(events, command, awaited, timeout, report, progress)
        return report.done(got_there and ok)
    finally:
        events.close()


class Outcomes:
    """Each job's outcome: a line as it comes, or with --json, one document at the end
    holding for each job the facts the line is made of."""

    FACTS = ("state", "pid", "reason", "note", "last_exit", "retry_in", "paused")

    def __init__(self, as_json: bool):
        self.as_json = as_json
        self.jobs: dict[str, dict] = {}

    def say(self, job_id: str, text: str, facts: dict, **more: object) -> None:
        known = {key: facts[key] for key in self.FACTS if facts.get(key) is not None}
        # A later outcome replaces an earlier one (waiting, then running); what a pause
        # or resume did stays.
        kept = {key: value for key, value in self.jobs.get(job_id, {}).items() if key == "note"}
        self.jobs[job_id] = {**kept, **known, **more}
        if not self.as_json:
            print(f"{job_id}: {text}")

    def error(self, job_id: str, message: str) -> None:
        self.jobs[job_id] = {**self.jobs.get(job_id, {}), "error": message}
        print(f"procclaw: {job_id}: {message}", file=sys.stderr)

    def done(self, ok: bool) -> int:
        if self.as_json:
            print(json.dumps({"ok": ok, "jobs": self.jobs}, indent=2))
        return int(not ok)


def _pause_done(job_id: str, command: str, reply: dict, report: Outcomes) -> bool:
    """Say what a pause or resume did; False if the job is on its way (wait for it)."""
    state = reply.get("state")
    if reply.get("note") in ("already paused", "not paused"):
        report.say(job_id, reply["note"], reply)
        return True
    if state in ("stopping", "starting", "waiting"):
        report.say(job_id, f"{command}d; {state}", reply, note=f"{command}d")
        return False
    if command == "pause" and state in LIVE_STATES:
        note = "paused; the run under way finishes"
    else:
        note = f"{command}d"
    report.say(job_id, note, reply, note=note)
    return True


def _already(reply: dict) -> str:
    if reply["state"] == "waiting":
        return reply.get("reason") or "waiting"
    return f"{reply['state']} (pid {reply['pid']})" if reply.get("pid") else reply["state"]


def _ask(client, command: str, job_ids: list[str], force: bool):
    """Each job's reply to the command (or its `error`): many jobs in one call."""
    from procclaw.client import ClientError

    if len(job_ids) > 1 and command in ("start", "stop", "restart"):
        args = {"jobs": job_ids, "force": force} if command == "stop" else {"jobs": job_ids}
        try:
            yield from client.call(f"{command}_many", args).items()
        except ClientError as exc:
            raise CliFailure(exc.message) from None
        return
    for job_id in job_ids:
        request = {"job": job_id, "force": True} if force else {"job": job_id}
        try:
            yield job_id, client.call(command, request)
        except ClientError as exc:
            yield job_id, {"error": exc.message}


def _every_job_for(command: str, client) -> list[str]:
    jobs = client.call("list")
    if command == "start":
        return [
            job["id"]
            for job in jobs
            if job["type"] == "continuous"
            and job["enabled"]
            and not job.get("paused")
            and job["state"] not in LIVE_STATES
        ]
    return [job["id"] for job in jobs if job["state"] in LIVE_STATES]


def _await_outcomes(
    events,
    command: str,
    awaited: dict[str, int | None],
    timeout: float,
    report: Outcomes,
    progress: StopProgress,
) -> bool:
    """Print each job's outcome as it comes; True if every one was a success."""
    outcomes = _OUTCOMES[command]
    deadline = time.monotonic() + timeout
    ok = True
    while awaited:
        left = deadline - time.monotonic()
        if left <= 0:
            progress.clear()
            for job_id in awaited:
                report.error(
                    job_id, f"no outcome after {timeout:g} s; see `procclaw status {job_id}`"
                )
            return False
        event = events.wait_for(lambda e: _job_of(e) in awaited, progress.wait(left))
        if event is not None:
            _, job_id, state = event.topic.split(".", 2)
            progress.note(job_id, state, event.data)
            replaced = state == "running" and event.data.get("pid") == awaited[job_id]
            if state in outcomes and not replaced:
                del awaited[job_id]
                progress.clear()
                report.say(job_id, _describe(state, event.data), {**event.data, "state": state})
                ok = ok and outcomes[state]
        progress.tick()
    progress.clear()
    return ok


def _job_of(event) -> str:
    return event.topic.split(".", 2)[1]


def _describe(state: str, facts: dict) -> str:
    if state == "running":
        return f"running (pid {facts.get('pid')})"
    if state == "backoff":
        delay = facts.get("retry_in") or 0
        return f"exited ({facts.get('last_exit')}); restarting in {delay:g} s"
    if state == "failed":
        return f"failed: {facts.get('reason') or facts.get('last_exit')}"
    return state
