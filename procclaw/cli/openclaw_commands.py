"""`procclaw openclaw`: the alerts sent through OpenClaw, and the agent skill.

Usage:
  procclaw openclaw status [--json]
  procclaw openclaw install-skill [--global]

Options:
  --json     Print machine-readable JSON
  --global   Install for every OpenClaw agent of this user (<state dir>/skills),
             not only the one of the configured workspace

`status` shows how alerts travel (the `openclaw` CLI when it is on PATH, else the
gateway's HTTP API), how many were sent, failed, retried and folded per channel, the
memory log, and the latest alerts. `install-skill` copies the procclaw skill
(SKILL.md) to <workspace>/skills/procclaw/, where the agent finds it. Found as
OpenClaw finds them: the state dir is $OPENCLAW_STATE_DIR, else ~/.openclaw-<profile>
with $OPENCLAW_PROFILE, else ~/.openclaw (~ is $OPENCLAW_HOME when set); the workspace
is openclaw.workspace, else agents.defaults.workspace in OpenClaw's config file
($OPENCLAW_CONFIG_PATH, else <state dir>/openclaw.json), else $OPENCLAW_WORKSPACE_DIR,
else <state dir>/workspace.
"""

from __future__ import annotations

import json
import time
from typing import Any

from procclaw.cli.errors import CliFailure
from procclaw.cli.render import table
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    home = Home.from_env()
    if args["install-skill"]:
        return install(home, args["--global"])
    from procclaw.client import Client

    client = Client(home)
    not_started = client.not_started("alerter")
    if not_started is not None:
        if args["--json"]:
            print(json.dumps({"alerter": "off", "note": not_started}, indent=2))
        else:
            print(f"alerts    none to send: the alerter {not_started}")
        return 0
    status = client.call_endpoint("alerter", "status")
    if args["--json"]:
        print(json.dumps(status, indent=2))
    else:
        print(render_status(status))
    return 0


def render_status(status: dict[str, Any]) -> str:
    totals = status["totals"]
    state = "on" if status["enabled"] and status["alerts_enabled"] else "off"
    via = "the openclaw CLI" if status["transport"] == "cli" else f"HTTP, {status['gateway']}"
    memory = status["memory"]
    lines = [
        f"alerts    {state}, via {via}; one per job per {status['window']:g} s",
        f"sent      {totals['sent']}   failed {totals['failed']}   "
        f"retried {totals['retried']}   folded {totals['folded']}",
        f"memory    {'on' if memory['enabled'] else 'off'}, {memory['workspace']}"
        f" ({memory['written']} written, {memory['skipped'] + memory['failed']} not)",
    ]
    channels = status["channels"]
    if channels:
        lines.append("")
        rows = [(name, c["sent"], c["failed"], c["retried"]) for name, c in channels.items()]
        lines.append(table(("channel", "sent", "failed", "retried"), rows))
    if status["recent"]:
        lines.append("")
        rows = [
            (
                time.strftime("%H:%M:%S", time.localtime(item["at"])),
                item["job"],
                item["kind"] + (f" +{item['folded']}" if item["folded"] else ""),
                item["channel"],
                item["result"],
                item["attempts"],
                item["error"],
            )
            for item in status["recent"]
        ]
        lines.append(table(("time", "job", "event", "channel", "result", "tries", "error"), rows))
    return "\n".join(lines)


def install(home: Home, everywhere: bool) -> int:
    from procclaw.config import ConfigError, load_config
    from procclaw.openclaw.skill import install_skill
    from procclaw.openclaw.workspace import global_skills_dir, openclaw_workspace

    if everywhere:
        skills = global_skills_dir()
        root = skills.parent
    else:
        try:
            settings = load_config(home).settings.openclaw
        except ConfigError as exc:
            print(exc)
            raise CliFailure("fix the config first: the workspace is read from it") from None
        root = openclaw_workspace(settings.workspace)
        skills = root / "skills"
    if not root.is_dir():
        raise CliFailure(
            f"{root} does not exist: set up OpenClaw first (openclaw onboard),"
            " or point openclaw.workspace at your workspace"
        )
    try:
        path = install_skill(skills)
    except OSError as exc:
        raise CliFailure(f"cannot write the skill to {skills}: {exc.strerror or exc}") from None
    print(f"installed the procclaw skill: {path}")
    return 0
