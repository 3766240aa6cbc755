"""`procclaw service`: run the daemon as a service of your own login.

Usage:
  procclaw service install [--dry-run]
  procclaw service uninstall [--dry-run]
  procclaw service status [--json]

Options:
  --dry-run   Print the file that would be written and the commands that would run
  --json      status: {"service", "file", "installed", "running", "details"} as JSON

On Linux this is a systemd user unit, ~/.config/systemd/user/procclaw.service, enabled
and started with `systemctl --user`; on macOS a launchd agent,
~/Library/LaunchAgents/com.procclaw.daemon.plist, loaded with `launchctl bootstrap`.
Either runs `procclaw daemon start -f` for the current PROCCLAW_HOME and restarts it
if it fails. `service status` exits 0 when the service runs and 3 when it does not.
"""

from __future__ import annotations

import json

from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home
from procclaw.service.installer import install, service_for, status, uninstall
from procclaw.service.launch import ServiceError

USAGE = __doc__
NOT_RUNNING = 3


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    home = Home.from_env()
    try:
        service = service_for(home)
        if args["install"]:
            install(service, home, dry_run=args["--dry-run"])
        elif args["uninstall"]:
            uninstall(service, dry_run=args["--dry-run"])
        elif args["--json"]:
            return 0 if _status_json(service) else NOT_RUNNING
        else:
            return 0 if status(service) else NOT_RUNNING
    except ServiceError as exc:
        raise CliFailure(str(exc)) from None
    return 0


def _status_json(service) -> bool:
    """What `service status` shows, as one JSON document; True if the service runs."""
    installed = service.path.exists()
    rows, running = service.status() if installed else ([], False)
    found = {"service": service.title, "file": str(service.path), "installed": installed}
    print(json.dumps({**found, "running": running, "details": dict(rows)}, indent=2))
    return running
