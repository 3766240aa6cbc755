"""`procclaw service`: the systemd user unit and the launchd agent, written, loaded and
removed in a temporary HOME, with stand-in systemctl/launchctl that record their calls."""

import os
import plistlib
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from procclaw.service.launch import DaemonLaunch
from procclaw.service.systemd import SystemdUserService

# Records each call; `$FAKE_FAIL` (a shell pattern) makes matching calls fail.
FAKE_TOOL = """\
    #!/bin/sh
    echo "${0##*/} $*" >> "$FAKE_CALLS"
    case "$*" in $FAKE_FAIL) echo "Failed to connect to bus: No medium found" >&2; exit 1;; esac
    case "$*" in
      *is-enabled*) echo enabled;;
      *is-active*) echo active;;
      print*) [ -e "$FAKE_LOADED" ] || exit 113; printf '\\tstate = running\\n';;
    esac
    """


class ServiceSandbox:
    """A HOME of its own, and a PATH holding only the stand-in tools."""

    def __init__(self, sandbox, tmp_path: Path, platform: str):
        self.sandbox = sandbox
        self.user_home = tmp_path / "user home"
        self.bin = tmp_path / "bin"
        self.calls = tmp_path / "calls"
        self.loaded = tmp_path / "loaded"
        self.user_home.mkdir()
        self.bin.mkdir()
        env = sandbox.env
        env.pop("XDG_CONFIG_HOME", None)
        env.update(
            HOME=str(self.user_home),
            PATH=str(self.bin),
            PROCCLAW_SERVICE_PLATFORM=platform,
            FAKE_CALLS=str(self.calls),
            FAKE_LOADED=str(self.loaded),
            FAKE_FAIL="",
        )

    def add_tool(self, name: str) -> None:
        tool = self.bin / name
        tool.write_text(textwrap.dedent(FAKE_TOOL))
        tool.chmod(0o755)

    def recorded(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def cli(self, *args: str):
        return self.sandbox.cli("service", *args)


@pytest.fixture
def linux(sandbox, tmp_path) -> ServiceSandbox:
    return ServiceSandbox(sandbox, tmp_path, "linux")


@pytest.fixture
def macos(sandbox, tmp_path) -> ServiceSandbox:
    return ServiceSandbox(sandbox, tmp_path, "darwin")


def unit_path(service: ServiceSandbox) -> Path:
    return service.user_home / ".config/systemd/user/procclaw.service"


def plist_path(service: ServiceSandbox) -> Path:
    return service.user_home / "Library/LaunchAgents/com.procclaw.daemon.plist"


def unit_entries(text: str) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entries.setdefault(key, []).append(value)
    return entries


def test_install_writes_the_unit_and_enables_it(linux):
    linux.add_tool("systemctl")
    result = linux.cli("install")
    assert result.returncode == 0, result.stderr
    assert linux.recorded() == [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now procclaw.service",
    ]
    assert "loginctl enable-linger" in result.stdout
    unit = unit_entries(unit_path(linux).read_text())
    home = linux.sandbox.home
    assert unit["ExecStart"] == [f"{linux.sandbox.cli_path()} daemon start -f"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["KillMode"] == ["process"]
    assert unit["Delegate"] == ["yes"]  # the daemon makes a cgroup per job run below it
    assert unit["WantedBy"] == ["default.target"]
    assert f'"PROCCLAW_HOME={home.root}"' in unit["Environment"]
    assert f'"PATH={linux.bin}"' in unit["Environment"]
    assert unit["StandardOutput"] == [f"append:{home.daemon_log}"]
    assert home.logs_dir.is_dir()  # the log's directory exists before systemd opens it


def test_uninstall_stops_and_removes_the_unit(linux):
    linux.add_tool("systemctl")
    linux.cli("install")
    linux.calls.unlink()
    result = linux.cli("uninstall")
    assert result.returncode == 0, result.stderr
    assert not unit_path(linux).exists()
    assert linux.recorded() == [
        "systemctl --user disable --now procclaw.service",
        "systemctl --user daemon-reload",
    ]
    again = linux.cli("uninstall")
    assert (again.returncode, again.stdout) == (
        0,
        f"the systemd user service is not installed (there is no {unit_path(linux)})\n",
    )


def test_status_reports_the_unit_and_exits_three_when_absent(linux):
    linux.add_tool("systemctl")
    absent = linux.cli("status")
    assert absent.returncode == 3
    assert "(not installed)" in absent.stdout
    linux.cli("install")
    present = linux.cli("status")
    assert present.returncode == 0
    assert present.stdout.splitlines()[2:] == ["enabled   enabled", "state     active"]


def test_status_json_says_whether_it_is_installed_and_runs(linux):
    import json

    linux.add_tool("systemctl")
    absent = linux.cli("status", "--json")
    assert absent.returncode == 3
    assert json.loads(absent.stdout) == {
        "service": json.loads(absent.stdout)["service"],
        "file": str(unit_path(linux)),
        "installed": False,
        "running": False,
        "details": {},
    }
    linux.cli("install")
    present = linux.cli("status", "--json")
    assert present.returncode == 0
    found = json.loads(present.stdout)
    assert (found["installed"], found["running"]) == (True, True)
    assert found["details"] == {"enabled": "enabled", "state": "active"}


def test_dry_run_prints_the_plan_and_touches_nothing(linux):
    linux.add_tool("systemctl")
    result = linux.cli("install", "--dry-run")
    assert result.returncode == 0
    assert result.stdout.startswith(f"would write {unit_path(linux)}:\n")
    assert "    KillMode=process\n" in result.stdout
    assert "would run: systemctl --user enable --now procclaw.service\n" in result.stdout
    removal = linux.cli("uninstall", "--dry-run").stdout
    assert f"would remove {unit_path(linux)}" in removal
    assert not unit_path(linux).exists()
    assert linux.recorded() == []


def test_without_systemctl_the_error_names_the_file_and_the_commands(linux):
    result = linux.cli("install")
    assert result.returncode == 1
    assert result.stderr == (
        f"procclaw: systemctl not found: wrote {unit_path(linux)}; to start it, run by hand: "
        "systemctl --user daemon-reload && systemctl --user enable --now procclaw.service\n"
    )
    assert unit_path(linux).exists()


def test_a_failing_systemctl_is_reported_with_its_own_words(linux):
    linux.add_tool("systemctl")
    linux.sandbox.env["FAKE_FAIL"] = "*enable*"
    result = linux.cli("install")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "procclaw: `systemctl --user enable --now procclaw.service` failed (exit 1: "
        f"Failed to connect to bus: No medium found); wrote {unit_path(linux)}; "
    )
    linux.sandbox.env["FAKE_FAIL"] = "*disable*"
    kept = linux.cli("uninstall")
    assert kept.returncode == 1
    assert f"{unit_path(linux)} left in place; run by hand: " in kept.stderr
    assert unit_path(linux).exists()


def test_the_launch_agent_is_a_plist_with_the_expected_keys(macos):
    macos.add_tool("launchctl")
    result = macos.cli("install")
    assert result.returncode == 0, result.stderr
    uid = os.getuid()
    path = plist_path(macos)
    assert macos.recorded() == [
        f"launchctl print gui/{uid}/com.procclaw.daemon",
        f"launchctl enable gui/{uid}/com.procclaw.daemon",
        f"launchctl bootstrap gui/{uid} {path}",
    ]
    agent = plistlib.loads(path.read_bytes())
    home = macos.sandbox.home
    assert agent["Label"] == "com.procclaw.daemon"
    assert agent["ProgramArguments"] == [macos.sandbox.cli_path(), "daemon", "start", "-f"]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["AbandonProcessGroup"] is True
    assert agent["StandardOutPath"] == agent["StandardErrorPath"] == str(home.daemon_log)
    assert agent["EnvironmentVariables"]["PROCCLAW_HOME"] == str(home.root)
    assert plistlib.loads(plistlib.dumps(agent)) == agent


def test_a_loaded_agent_is_booted_out_before_a_reinstall_and_on_uninstall(macos):
    macos.add_tool("launchctl")
    macos.loaded.touch()
    uid = os.getuid()
    assert macos.cli("install").returncode == 0
    assert macos.recorded()[:2] == [
        f"launchctl print gui/{uid}/com.procclaw.daemon",
        f"launchctl bootout gui/{uid}/com.procclaw.daemon",
    ]
    assert macos.cli("status").stdout.splitlines()[-1] == "state     running"
    macos.calls.unlink()
    assert macos.cli("uninstall").returncode == 0
    assert macos.recorded() == [
        f"launchctl print gui/{uid}/com.procclaw.daemon",
        f"launchctl bootout gui/{uid}/com.procclaw.daemon",
    ]
    assert not plist_path(macos).exists()


def test_without_launchctl_the_error_names_the_plist_and_the_commands(macos):
    result = macos.cli("install")
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"procclaw: launchctl not found: wrote {plist_path(macos)}; to start it, run by hand: "
    )
    assert f"launchctl bootstrap gui/{os.getuid()} " in result.stderr


def test_an_unsupported_platform_is_refused(sandbox):
    sandbox.env["PROCCLAW_SERVICE_PLATFORM"] = "sunos5"
    result = sandbox.cli("service", "install", "--dry-run")
    assert result.returncode == 1
    assert result.stderr.startswith("procclaw: no service support for sunos5: ")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("place", ["plain", "with space and 100% odd $chars"])
def test_the_unit_passes_systemd_analyze_verify(sandbox, tmp_path, place):
    root = tmp_path / place
    executable = root / "bin" / "procclaw"
    executable.parent.mkdir(parents=True)
    executable.symlink_to(sandbox.cli_path())
    launch = DaemonLaunch(
        command=(str(executable), "daemon", "start", "-f"),
        environment=(("PROCCLAW_HOME", str(root)), ("PATH", f"{root}/bin:/usr/bin")),
        working_directory=root,
        log_file=root / "logs" / "daemon.log",
    )
    service = SystemdUserService(launch, tmp_path / "config")
    service.path.parent.mkdir(parents=True)
    service.path.write_bytes(service.content())
    result = subprocess.run(
        ["systemd-analyze", "verify", str(service.path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    if "%" in place:
        escaped = str(root).replace("%", "%%")
        assert '"PROCCLAW_HOME=' + escaped + '"' in service.path.read_text()
        assert f'ExecStart="{escaped}/bin/procclaw" daemon' in service.path.read_text()
