"""The OS keyring (macOS Keychain, Secret Service, KWallet...) through `keyring`, under
the service name `procclaw`, with every call bounded in time.

A keyring may be absent (keyring's `fail` backend), disabled (`null`), a chain of
nothing, or locked and waiting for someone to type a password into a dialog. None of
that may hang a daemon: each call runs in a worker thread that the caller stops
waiting for after `timeout` seconds. A worker that never comes back is left behind,
and no second one is started in this process, so a stuck keyring costs one thread.
`keyring` itself is imported only when a keyring is really needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from procclaw.secrets.errors import SecretError

SERVICE = "procclaw"
T = TypeVar("T")

_stuck: threading.Thread | None = None  # a worker that outlived its caller's patience


class KeyringUnavailable(SecretError):
    """No usable keyring here, or it did not answer in time."""


class KeyringTimeout(KeyringUnavailable):
    """The keyring exists but did not answer: maybe locked, waiting for a password."""


class KeyringAccess:
    def __init__(self, timeout: float):
        self.timeout = timeout
        self._name: str | None = None

    @property
    def name(self) -> str:
        """The backend in use, as people know it ('SecretService Keyring'); after a call."""
        return self._name or "keyring"

    def usable(self) -> str | None:
        """None if secrets can be kept in the keyring; otherwise why not."""
        try:
            self._call(lambda _backend: None)
        except KeyringUnavailable as exc:
            return str(exc)
        return None

    def get(self, name: str) -> str | None:
        return self._call(lambda backend: backend.get_password(SERVICE, name))

    def get_many(self, names: list[str]) -> dict[str, str | None]:
        """Several secrets within one timeout, for a job about to start."""
        return self._call(lambda backend: {n: backend.get_password(SERVICE, n) for n in names})

    def set(self, name: str, value: str) -> None:
        self._call(lambda backend: backend.set_password(SERVICE, name, value))

    def delete(self, name: str) -> bool:
        """Remove the secret; False if the keyring did not have it."""
        from keyring.errors import PasswordDeleteError

        def delete(backend: Any) -> bool:
            try:
                backend.delete_password(SERVICE, name)
            except PasswordDeleteError:
                return False
            return True

        return self._call(delete)

    def _call(self, action: Callable[[Any], T]) -> T:
        global _stuck
        if _stuck is not None and _stuck.is_alive():
            raise KeyringTimeout(
                "the keyring has not answered an earlier request (is it locked, "
                "waiting for a password?)"
            )
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                backend = _backend()
                self._name = _describe(backend)
                outcome["value"] = action(backend)
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            _stuck = worker
            raise KeyringTimeout(
                f"the keyring did not answer within {self.timeout:g} s (is it locked, "
                "waiting for a password?)"
            )
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, SecretError):
                raise error
            # keyring's messages name the backend and the problem, never a value.
            raise KeyringUnavailable(f"the keyring failed: {error}") from None
        return outcome["value"]


def _backend() -> Any:
    """keyring's chosen backend, or KeyringUnavailable saying why it cannot be used."""
    import keyring
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise KeyringUnavailable("no keyring backend is available")
    if isinstance(backend, null.Keyring):
        raise KeyringUnavailable("the keyring is disabled (keyring's null backend)")
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        raise KeyringUnavailable("no keyring backend is available")
    return backend


def _describe(backend: Any) -> str:
    name = getattr(backend, "name", "") or type(backend).__name__
    return str(name)
