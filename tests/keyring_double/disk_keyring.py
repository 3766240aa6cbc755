"""A stand-in for the OS keyring service in tests: a keyring backend kept in a JSON file.

Selected with PYTHON_KEYRING_BACKEND=disk_keyring.DiskKeyring and tests/keyring_double on
PYTHONPATH; the file is $TEST_KEYRING_FILE. While `$TEST_KEYRING_FILE.locked` exists,
every call blocks for good, as a locked keyring waiting for its password dialog does,
once it has created `$TEST_KEYRING_FILE.asked` (so a test knows a call is held).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class DiskKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]  # viable, like any real backend

    @property
    def _path(self) -> Path:
        path = Path(os.environ["TEST_KEYRING_FILE"])
        if path.with_name(path.name + ".locked").exists():
            path.with_name(path.name + ".asked").touch()
            threading.Event().wait()  # never answers
        return path

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self._path.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, entries: dict[str, str]) -> None:
        self._path.write_text(json.dumps(entries))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}/{username}"] = password
        self._save(entries)

    def delete_password(self, service: str, username: str) -> None:
        entries = self._load()
        if entries.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self._save(entries)
