"""Installing, removing and inspecting the service, whichever manager runs it.

Each manager (systemd.py, launchd.py) says which file it needs and which commands load
or unload it; this module writes the file, runs the commands, and when a command is
missing or fails, says which file was written and what to run by hand. `dry_run`
prints all of it instead of doing it.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from procclaw.atomic_file import write_atomically
from procclaw.home import Home
from procclaw.pidfile import PidFile
from procclaw.service.launch import DaemonLaunch, ServiceError, Step, run_tool
from procclaw.service.launchd import LaunchAgent
from procclaw.service.systemd import SystemdUserService

# For tests and dry runs: which platform's service to handle instead of this one's.
PLATFORM_OVERRIDE = "PROCCLAW_SERVICE_PLATFORM"

Print = Callable[[str], None]


class ServiceManager(Protocol):
    title: str
    tool: str
    path: Path

    def content(self) -> bytes: ...
    def install_steps(self) -> list[Step]: ...
    def stop_steps(self) -> list[Step]: ...
    def cleanup_steps(self) -> list[Step]: ...
    def hint(self) -> str: ...
    def status(self) -> tuple[list[tuple[str, str]], bool]: ...


def service_for(home: Home) -> ServiceManager:
    """This platform's service manager, running the daemon for `home`."""
    platform = os.environ.get(PLATFORM_OVERRIDE) or sys.platform
    launch = DaemonLaunch.for_home(home)
    if platform.startswith("linux"):
        return SystemdUserService.for_user(launch)
    if platform == "darwin":
        return LaunchAgent.for_user(launch)
    raise ServiceError(
        f"no service support for {platform}: ProcClaw installs a systemd user service "
        "(Linux) or a launchd agent (macOS); run `procclaw daemon start` instead"
    )


def install(service: ServiceManager, home: Home, dry_run: bool, say: Print = print) -> None:
    content = service.content()
    steps = service.install_steps()
    if dry_run:
        say(f"would write {service.path}:")
        say(_indented(content.decode()))
        _say_steps(steps, say)
        say(f"then: {service.hint()}")
        return
    home.prepare()  # the daemon's log goes into its logs/ from the first line
    running = PidFile(home.pid_file).running_pid()
    if running is not None:
        say(
            f"note: a daemon already runs for {home.root} (pid {running}); unless the "
            "service started it, stop it (`procclaw daemon stop`) so the service can start"
        )
    write_atomically(service.path, content)
    say(f"wrote {service.path}")
    manual = f"wrote {service.path}; to start it, run by hand: {_joined(steps)}"
    _run_steps(service, steps, manual, say)
    say(f"installed the {service.title}; `procclaw service status` shows it")
    say(service.hint())


def uninstall(service: ServiceManager, dry_run: bool, say: Print = print) -> None:
    stop, cleanup = service.stop_steps(), service.cleanup_steps()
    if dry_run:
        _say_steps(stop, say)
        say(f"would remove {service.path}")
        _say_steps(cleanup, say)
        return
    if not service.path.exists():
        say(f"the {service.title} is not installed (there is no {service.path})")
        return
    by_hand = [*map(str, stop), f"rm {service.path}", *map(str, cleanup)]
    manual = f"{service.path} left in place; run by hand: {' && '.join(by_hand)}"
    _run_steps(service, stop, manual, say)
    service.path.unlink()
    say(f"removed {service.path}")
    _run_steps(service, cleanup, f"removed {service.path}; run by hand: {_joined(cleanup)}", say)
    say(f"uninstalled the {service.title}")


def status(service: ServiceManager, say: Print = print) -> bool:
    """Show whether the service is installed and running; True if it runs."""
    installed = service.path.exists()
    say(f"{'service':<9} {service.title}")
    say(f"{'file':<9} {service.path}{'' if installed else '  (not installed)'}")
    if not installed:
        return False
    rows, running = service.status()
    for label, value in rows:
        say(f"{label:<9} {value}")
    return running


def _run_steps(service: ServiceManager, steps: list[Step], manual: str, say: Print) -> None:
    """Run each step in turn; the first one missing or failing ends it with `manual`."""
    for step in steps:
        if step.only_if is not None:
            probe = run_tool(step.only_if)
            if probe is None:
                raise ServiceError(f"{service.tool} not found: {manual}")
            if probe.returncode != 0:
                continue
        result = run_tool(step.argv)
        if result is None:
            raise ServiceError(f"{service.tool} not found: {manual}")
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            detail = f": {reason[-1]}" if reason else ""
            raise ServiceError(
                f"`{shlex.join(step.argv)}` failed (exit {result.returncode}{detail}); {manual}"
            )
        say(f"ran {shlex.join(step.argv)}")


def _say_steps(steps: list[Step], say: Print) -> None:
    for step in steps:
        say(f"would run: {step}")


def _joined(steps: list[Step]) -> str:
    return " && ".join(str(step) for step in steps)


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.rstrip("\n").split("\n"))
