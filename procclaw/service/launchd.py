"""The daemon as a launchd agent: `~/Library/LaunchAgents/com.procclaw.daemon.plist`.

launchd starts it at login (RunAtLoad) and again whenever it exits with a failure
(KeepAlive with SuccessfulExit false: `procclaw daemon stop` exits 0 and stays stopped).
AbandonProcessGroup keeps launchd from killing the daemon's process group when the
daemon dies, so the jobs and their supervisors live on to be re-adopted. On
`launchctl bootout`, launchd sends SIGTERM and the daemon stops every job gracefully
within ExitTimeOut.
"""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path

from procclaw.service.launch import STOP_TIMEOUT, DaemonLaunch, Step, run_tool

LABEL = "com.procclaw.daemon"
_STATE = re.compile(r"^\s*state = (\S+)", re.MULTILINE)


class LaunchAgent:
    title = "launchd agent"
    tool = "launchctl"

    def __init__(self, launch: DaemonLaunch, user_home: Path, uid: int):
        self.launch = launch
        self.path = user_home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
        self.domain = f"gui/{uid}"
        self.target = f"{self.domain}/{LABEL}"

    @classmethod
    def for_user(cls, launch: DaemonLaunch) -> LaunchAgent:
        return cls(launch, Path.home(), os.getuid())

    def content(self) -> bytes:
        launch = self.launch
        return plistlib.dumps(
            {
                "Label": LABEL,
                "ProgramArguments": list(launch.command),
                "EnvironmentVariables": dict(launch.environment),
                "WorkingDirectory": str(launch.working_directory),
                "RunAtLoad": True,
                "KeepAlive": {"SuccessfulExit": False},
                "StandardOutPath": str(launch.log_file),
                "StandardErrorPath": str(launch.log_file),
                "AbandonProcessGroup": True,
                "ExitTimeOut": STOP_TIMEOUT,
            }
        )

    def install_steps(self) -> list[Step]:
        # bootstrap refuses a loaded agent: a re-install unloads the old one first.
        return [
            *self.stop_steps(),
            Step(("launchctl", "enable", self.target)),
            Step(("launchctl", "bootstrap", self.domain, str(self.path))),
        ]

    def stop_steps(self) -> list[Step]:
        return [Step(("launchctl", "bootout", self.target), only_if=self._print())]

    def cleanup_steps(self) -> list[Step]:
        return []

    def hint(self) -> str:
        return f"launchd starts it at each login; its output goes to {self.launch.log_file}"

    def status(self) -> tuple[list[tuple[str, str]], bool]:
        """Rows to show, and whether the agent is running."""
        result = run_tool(self._print())
        if result is None:
            return [("state", "unknown (launchctl not found)")], False
        if result.returncode != 0:
            return [("state", "not loaded")], False
        match = _STATE.search(result.stdout)
        state = match.group(1) if match else "loaded"
        return [("state", state)], state == "running"

    def _print(self) -> tuple[str, ...]:
        return ("launchctl", "print", self.target)
