"""Where ProcClaw keeps its files: one `Home` per PROCCLAW_HOME.

Every path the daemon, the CLI and the tests use is derived here, so a test that sets
PROCCLAW_HOME gets a daemon of its own with nothing shared with any other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

# Unix socket paths are limited to 108 bytes (104 on macOS) including the terminator.
_MAX_SOCKET_PATH = 100
# The length of the name that stands in for a socket name too long to fit.
_STAND_IN = 16


def _files_in(directory: Path) -> list[Path]:
    return [path for path in directory.iterdir() if path.is_file() and not path.is_symlink()]


# The files of ours at the top of the home (the home may hold the user's own too).
_OUR_FILES = ("procclaw.yaml", "jobs.yaml", "procclaw.pid", ".secrets")


def _make_private(path: Path) -> list[Path]:
    """[path] if group or others had any access to it and now have none, else []; a
    file gone meanwhile, or not the user's (left by `sudo procclaw`), is left alone."""
    try:
        status = path.lstat()
        if status.st_uid != os.getuid() or not status.st_mode & 0o077 or path.is_symlink():
            return []
        os.chmod(path, status.st_mode & 0o700)
    except (FileNotFoundError, PermissionError):
        return []
    return [path]


class HomeError(Exception):
    """The PROCCLAW_HOME directory cannot be used."""


class Home(NamedTuple):
    """The files and sockets under one PROCCLAW_HOME.

    A NamedTuple, not a dataclass: the CLI imports this, and dataclasses costs it 8 ms.
    """

    root: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Home:
        env = os.environ if environ is None else environ
        configured = env.get("PROCCLAW_HOME")
        path = Path(configured).expanduser() if configured else Path.home() / ".procclaw"
        return cls(path.absolute())

    @property
    def config_file(self) -> Path:
        return self.root / "procclaw.yaml"

    @property
    def jobs_file(self) -> Path:
        return self.root / "jobs.yaml"

    @property
    def jobs_dir(self) -> Path:
        """Drop-in jobs, one per file (procclaw/config/dropins.py)."""
        return self.root / "jobs.d"

    @property
    def db_file(self) -> Path:
        return self.root / "procclaw.db"

    @property
    def pid_file(self) -> Path:
        return self.root / "procclaw.pid"

    @property
    def secrets_file(self) -> Path:
        """Secrets when no keyring is usable, and the names of those in the keyring."""
        return self.root / ".secrets"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def daemon_log(self) -> Path:
        return self.logs_dir / "daemon.log"

    @property
    def audit_log(self) -> Path:
        return self.logs_dir / "daemon.audit.log"

    def job_log(self, job_id: str, stream: str = "stdout") -> Path:
        suffix = ".error.log" if stream == "stderr" else ".log"
        return self.logs_dir / f"{job_id}{suffix}"

    def endpoint(self, name: str) -> str:
        """The ZeroMQ ipc:// address of one of the daemon's sockets."""
        path = self.socket_file(name)
        if len(str(path)) > _MAX_SOCKET_PATH:
            raise HomeError(
                f"PROCCLAW_HOME {self.root} is too long for a unix socket path "
                f"({len(str(path))} > {_MAX_SOCKET_PATH} bytes): choose a shorter directory"
            )
        return f"ipc://{path}"

    def check_socket_room(self) -> None:
        """HomeError unless every socket of the daemon can have its path here (the longest
        is a stand-in of _STAND_IN characters for a long job id)."""
        self.endpoint("s" * _STAND_IN)

    def socket_file(self, name: str) -> Path:
        """`run/<name>.sock`; when a long job id in `name` would make the path longer than
        a unix socket allows (104 bytes on macOS), a short name derived from it instead."""
        path = self.run_dir / f"{name}.sock"
        if len(str(path)) > _MAX_SOCKET_PATH:
            # Imported here: hashlib (OpenSSL) costs every command 3 ms, and few socket
            # paths are this long.
            import hashlib

            path = self.run_dir / f"{hashlib.sha1(name.encode()).hexdigest()[:_STAND_IN]}.sock"
        return path

    def make_directories(self) -> None:
        """The home, its logs/ and run/, private to this user whatever the umask."""
        for directory in (self.root, self.logs_dir, self.run_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def prepare(self) -> list[Path]:
        """Create the directories private to this user whatever the umask, and make
        private what an earlier release or the user left readable by others: the
        config may hold a token, a log whatever a job printed. Returns what was
        tightened."""
        tightened = []
        self.make_directories()
        ours = [
            self.root,
            self.logs_dir,
            self.run_dir,
            *([self.jobs_dir, *_files_in(self.jobs_dir)] if self.jobs_dir.is_dir() else []),
            *(self.root / name for name in _OUR_FILES),
            *self.root.glob("procclaw.db*"),
            *_files_in(self.logs_dir),
        ]
        for path in ours:
            tightened += _make_private(path)
        return tightened

    def describe_tightened(self, paths: list[Path]) -> str:
        """One line for the person at the terminal about what `prepare` tightened."""
        if len(paths) == 1:
            return f"made {paths[0]} private to you: other users could read it"
        return (
            f"made {len(paths)} files and folders in {self.root} private to you:"
            " other users could read them"
        )
