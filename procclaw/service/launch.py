"""How a service manager is to start the daemon, and the commands it is driven by."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from procclaw.home import Home

# How long the daemon may take to stop every job gracefully before the service manager
# kills it; jobs it leaves behind are adopted by the next daemon.
STOP_TIMEOUT = 300
# systemctl and launchctl wait for a stop; they get that long and a little more.
TOOL_TIMEOUT = STOP_TIMEOUT + 30


class ServiceError(Exception):
    """Installing, removing or inspecting the service failed; the message says what to do."""


@dataclass(frozen=True)
class DaemonLaunch:
    """The daemon as a service runs it: in the foreground, from an absolute path."""

    command: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]
    working_directory: Path
    log_file: Path

    @classmethod
    def for_home(cls, home: Home, environ: Mapping[str, str] | None = None) -> DaemonLaunch:
        env = os.environ if environ is None else environ
        # The jobs inherit the daemon's environment: give them the PATH they have now,
        # not the service manager's minimal one.
        carried = [("PATH", env["PATH"])] if env.get("PATH") else []
        if env.get("PROCCLAW_HOME"):
            carried.append(("PROCCLAW_HOME", str(home.root)))
        return cls(
            command=(*procclaw_executable(), "daemon", "start", "-f"),
            environment=tuple(carried),
            working_directory=home.root,
            log_file=home.daemon_log,
        )


def procclaw_executable() -> tuple[str, ...]:
    """The absolute path of the running `procclaw` script, else `python -m procclaw`."""
    script = Path(sys.argv[0])
    if script.name == "procclaw" and script.is_file():
        return (str(script.absolute()),)
    found = shutil.which("procclaw")
    if found:
        return (str(Path(found).absolute()),)
    return (sys.executable, "-m", "procclaw")


@dataclass(frozen=True)
class Step:
    """A command to run; with `only_if`, only when that probe command succeeds."""

    argv: tuple[str, ...]
    only_if: tuple[str, ...] | None = None

    def __str__(self) -> str:
        text = shlex.join(self.argv)
        return f"{text} (if `{shlex.join(self.only_if)}` succeeds)" if self.only_if else text


def run_tool(argv: tuple[str, ...]) -> subprocess.CompletedProcess[str] | None:
    """Run systemctl or launchctl; None if it is not installed."""
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        return None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"`{shlex.join(argv)}` did not finish within {TOOL_TIMEOUT} s") from None
