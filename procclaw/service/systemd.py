"""The daemon as a systemd user service: `~/.config/systemd/user/procclaw.service`.

KillMode=process: on `systemctl --user stop` (or at logout) systemd sends SIGTERM to the
daemon alone, which stops every job gracefully, each with its own signal and grace
period, and exits 0. If the daemon crashes, systemd leaves the jobs (and their
supervisors) running and restarts the daemon, which re-adopts them: the default
KillMode=control-group would kill them all, and mixed would SIGKILL them once the
daemon is gone. TimeoutStopSec covers the longest graceful stop; a job still running
after it is left to the next daemon rather than killed.

Delegate=yes hands the service's cgroup to the daemon: it makes a cgroup per job run
below it (procclaw/platform/linux_cgroups.py), so a stop ends every process of a job,
and CPU and memory limits are the kernel's where those controllers are delegated.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from procclaw.service.launch import STOP_TIMEOUT, DaemonLaunch, Step, run_tool

UNIT = "procclaw.service"
_SYSTEMCTL = ("systemctl", "--user")


class SystemdUserService:
    title = "systemd user service"
    tool = "systemctl"

    def __init__(self, launch: DaemonLaunch, config_home: Path):
        self.launch = launch
        self.path = config_home / "systemd" / "user" / UNIT

    @classmethod
    def for_user(cls, launch: DaemonLaunch) -> SystemdUserService:
        """The unit where systemd looks for this user's units ($XDG_CONFIG_HOME or ~/.config)."""
        configured = os.environ.get("XDG_CONFIG_HOME")
        return cls(launch, Path(configured) if configured else Path.home() / ".config")

    def content(self) -> bytes:
        launch = self.launch
        log_file = _specifiers_escaped(str(launch.log_file))
        lines = [
            "# Written by `procclaw service install`; `procclaw service uninstall` removes it.",
            "[Unit]",
            "Description=ProcClaw process manager",
            "",
            "[Service]",
            "Type=simple",
            "ExecStart=" + _exec_line(launch.command),
            "WorkingDirectory=" + _specifiers_escaped(str(launch.working_directory)),
            *(f"Environment={_assignment(name, value)}" for name, value in launch.environment),
            f"StandardOutput=append:{log_file}",
            f"StandardError=append:{log_file}",
            "Restart=on-failure",
            "RestartSec=2",
            "# SIGTERM to the daemon alone: it stops the jobs gracefully itself, and jobs",
            "# that outlive a crashed daemon are re-adopted by the next one, not killed.",
            "KillMode=process",
            "# The service's cgroup is the daemon's to divide: a cgroup per job run.",
            "Delegate=yes",
            f"TimeoutStopSec={STOP_TIMEOUT}",
            "",
            "[Install]",
            "WantedBy=default.target",
        ]
        return ("\n".join(lines) + "\n").encode()

    def install_steps(self) -> list[Step]:
        return [Step((*_SYSTEMCTL, "daemon-reload")), Step((*_SYSTEMCTL, "enable", "--now", UNIT))]

    def stop_steps(self) -> list[Step]:
        return [Step((*_SYSTEMCTL, "disable", "--now", UNIT))]

    def cleanup_steps(self) -> list[Step]:
        return [Step((*_SYSTEMCTL, "daemon-reload"))]

    def hint(self) -> str:
        user = pwd.getpwuid(os.getuid()).pw_name
        return (
            "systemd stops user services when you log out; to keep ProcClaw running "
            f"without a login session: loginctl enable-linger {user}"
        )

    def status(self) -> tuple[list[tuple[str, str]], bool]:
        """Rows to show, and whether the service is running."""
        rows = []
        for label, question in (("enabled", "is-enabled"), ("state", "is-active")):
            result = run_tool((*_SYSTEMCTL, question, UNIT))
            if result is None:
                answer = "unknown (systemctl not found)"
            else:  # its answer on stdout, or why it has none on stderr
                lines = (result.stdout.strip() or result.stderr.strip()).splitlines()
                answer = lines[-1] if lines else "unknown"
            rows.append((label, answer))
        return rows, rows[-1][1] == "active"


def _specifiers_escaped(text: str) -> str:
    """systemd expands %h, %u... in unit values: a literal % is written %%."""
    if "\n" in text:
        raise ValueError(f"a line break cannot go into a unit file: {text!r}")
    return text.replace("%", "%%")


def _exec_line(command: tuple[str, ...]) -> str:
    """ExecStart's value; systemd expands $VAR in the arguments, not in the executable."""
    executable, *arguments = command
    words = [_specifiers_escaped(executable)]
    words += [_specifiers_escaped(word).replace("$", "$$") for word in arguments]
    return " ".join(_quoted_if_needed(word) for word in words)


def _quoted_if_needed(word: str) -> str:
    """A word as one argument, quoted when systemd would otherwise split it."""
    if word and not any(c.isspace() or c in "\"'\\;" for c in word):
        return word
    return _quoted(word)


def _assignment(name: str, value: str) -> str:
    return _quoted(_specifiers_escaped(f"{name}={value}"))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
