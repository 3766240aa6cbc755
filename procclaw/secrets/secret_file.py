"""`$PROCCLAW_HOME/.secrets`: the secrets when no keyring is usable, and the index of
the names kept in the keyring (a keyring cannot list what it holds).

The file is JSON, `{"version": 1, "values": {NAME: VALUE}, "in_keyring": [NAME]}`,
private to its owner: it is refused, not used, when anyone else may read it or when it
belongs to another user. Every write goes to a new file (created 0600 with O_EXCL),
is flushed to disk and renamed over the old one, so a crash leaves the old file or the
new one, never half of one. Writers take `.secrets.lock` in turn.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from procclaw.secrets.errors import SecretError

FORMAT_VERSION = 1


@dataclass
class SecretFileContents:
    values: dict[str, str] = field(default_factory=dict)
    in_keyring: set[str] = field(default_factory=set)


class SecretFile:
    def __init__(self, path: Path):
        self.path = path

    def read(self) -> SecretFileContents:
        """What the file holds; nothing if there is no file yet."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return SecretFileContents()
        except OSError as exc:
            raise SecretError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as file:
            self._check_private(os.fstat(file.fileno()))
            data = file.read()
        return self._parse(data)

    @contextlib.contextmanager
    def update(self) -> Iterator[SecretFileContents]:
        """Read, let the caller change, and write back; one writer at a time."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            contents = self.read()
            yield contents
            self._write(contents)
        finally:
            os.close(lock)  # releases the lock

    def _check_private(self, info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise SecretError(f"{self.path} is not a regular file: refusing to use it")
        if info.st_uid != os.geteuid():
            raise SecretError(
                f"{self.path} belongs to uid {info.st_uid}, not to you: refusing to use it "
                "(move it away; `procclaw secret set` makes a new one)"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise SecretError(
                f"{self.path} may be read by others (mode {mode:04o}): refusing to use it; "
                f"if nobody else had access, `chmod 600 {self.path}`, else set your secrets again"
            )

    def _parse(self, data: bytes) -> SecretFileContents:
        broken = SecretError(f"{self.path} is damaged (not a ProcClaw secrets file)")
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise broken from None
        if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
            raise broken
        values, in_keyring = document.get("values", {}), document.get("in_keyring", [])
        if not isinstance(values, dict) or not isinstance(in_keyring, list):
            raise broken
        if not all(isinstance(item, str) for item in [*values, *values.values(), *in_keyring]):
            raise broken
        return SecretFileContents(dict(values), set(in_keyring))

    def _write(self, contents: SecretFileContents) -> None:
        document = {
            "version": FORMAT_VERSION,
            "values": dict(sorted(contents.values.items())),
            "in_keyring": sorted(contents.in_keyring),
        }
        data = json.dumps(document, indent=2).encode() + b"\n"
        # mkstemp opens with O_CREAT | O_EXCL and mode 0600, whatever the umask.
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f"{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _sync_directory(self.path.parent)


def _sync_directory(path: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
