"""`procclaw init`, `procclaw config` and `procclaw version`.

Usage:
  procclaw init [--force] [--openclaw]
  procclaw config [--validate] [--json]
  procclaw version [--json]

Options:
  --force      Overwrite existing config files
  --openclaw   Add a job that runs the OpenClaw gateway (`openclaw gateway`) on the
               port in OpenClaw's openclaw.json (gateway.port, else 18789); with
               existing config files, it is added to jobs.yaml
  --validate   Check procclaw.yaml and jobs.yaml; exit 0 if valid, 1 with the errors if not
  --json       config: the paths, {"<name>": {"path", "exists"}}; with --validate,
               {"valid", "jobs", "problems", "warnings"}; version: {"version"}
"""

from __future__ import annotations

import json
import sys

from procclaw.atomic_file import write_atomically
from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    home = Home.from_env()
    if args["init"]:
        if args["--openclaw"] and home.jobs_file.exists() and not args["--force"]:
            from procclaw.cli.openclaw_job import add_gateway_job

            return add_gateway_job(home)
        return init(home, force=args["--force"], openclaw=args["--openclaw"])
    if args["config"]:
        if args["--validate"]:
            return validate(home, args["--json"])
        return show_paths(home, args["--json"])
    from procclaw import __version__

    print(json.dumps({"version": __version__}) if args["--json"] else f"procclaw {__version__}")
    return 0


def init(home: Home, force: bool, openclaw: bool = False) -> int:
    from procclaw.config import JOBS_TEMPLATE, SETTINGS_TEMPLATE

    existing = [str(path) for path in (home.config_file, home.jobs_file) if path.exists()]
    if existing and not force:
        verb = "exists" if len(existing) == 1 else "exist"
        raise CliFailure(f"{', '.join(existing)} already {verb}: use --force to overwrite")
    settings, jobs = SETTINGS_TEMPLATE, JOBS_TEMPLATE
    if openclaw:
        from procclaw.cli.openclaw_job import gateway_port_for_job
        from procclaw.config import openclaw_gateway_job, settings_template

        port = gateway_port_for_job()
        settings, jobs = settings_template(port), f"{jobs}\n{openclaw_gateway_job(port)}"
    home.prepare()
    for path, text in ((home.config_file, settings), (home.jobs_file, jobs)):
        write_atomically(path, text, private=True)
        print(f"wrote {path}")
    print("next: edit the jobs, then `procclaw daemon start`")
    return 0


def show_paths(home: Home, as_json: bool = False) -> int:
    rows = [
        ("home", home.root),
        ("config", home.config_file),
        ("jobs", home.jobs_file),
        ("jobs.d", home.jobs_dir),
        ("database", home.db_file),
        ("logs", home.logs_dir),
        ("pid file", home.pid_file),
    ]
    if as_json:
        paths = {label: {"path": str(path), "exists": path.exists()} for label, path in rows}
        print(json.dumps(paths, indent=2))
        return 0
    for label, path in rows:
        note = "" if path.exists() else "  (missing)"
        print(f"{label:<9} {path}{note}")
    return 0


def _why_cpu_limits_cannot_hold(home: Home) -> str | None:
    """None where the daemon's cgroups have the cpu controller (cpu.max holds each run).

    The running daemon says what it found (it may sit in another cgroup than this
    shell, as a systemd service does); without one, what a daemon started from here
    would find."""
    from procclaw import cpu_limits
    from procclaw.client import Client, ClientError

    try:
        found = Client(home, timeout=2.0).call_endpoint("daemon", "status")["cgroups"]
    except (ClientError, KeyError):
        return cpu_limits.local_refusal(home.root, daemon_started=False)
    return cpu_limits.refusal(found)


def validate(home: Home, as_json: bool = False) -> int:
    from procclaw.api_token import exposure
    from procclaw.config import ConfigError, load_config

    try:
        config = load_config(home, _why_cpu_limits_cannot_hold(home))
    except ConfigError as exc:
        if as_json:
            problems = [str(problem) for problem in exc.problems]
            print(json.dumps({"valid": False, "problems": problems}, indent=2))
        else:
            print(exc)
        count = len(exc.problems)
        plural = "s" if count != 1 else ""
        raise CliFailure(f"config is invalid ({count} problem{plural})") from None
    auth = config.settings.api.auth
    warnings = [warning] if (warning := exposure(home, auth.token, auth.token_file)) else []
    for text in warnings:
        print(text, file=sys.stderr)
    if as_json:
        found = {"valid": True, "jobs": len(config.jobs), "warnings": warnings}
        print(json.dumps({**found, "problems": []}, indent=2))
        return 0
    print(f"config is valid: {len(config.jobs)} job{'s' if len(config.jobs) != 1 else ''}")
    return 0
