"""Where ProcClaw's secrets live: the OS keyring when it is usable, else the private
file `$PROCCLAW_HOME/.secrets`.

A name is looked up in the file first, then in the keyring. `set` stores in the keyring
when it can (and notes the name in the file's index, since a keyring cannot be
listed), in the file otherwise; either way the name ends up in one store only.
"""

from __future__ import annotations

from dataclasses import dataclass

from procclaw.home import Home
from procclaw.secrets.errors import SecretError, SecretNotFound
from procclaw.secrets.keyring_access import KeyringAccess, KeyringTimeout, KeyringUnavailable
from procclaw.secrets.references import name_problem
from procclaw.secrets.secret_file import SecretFile
from procclaw.suggest import did_you_mean

KEYRING = "keyring"
FILE = "file"


@dataclass(frozen=True)
class StoredSecret:
    name: str
    store: str  # KEYRING or FILE


class SecretStore:
    def __init__(self, home: Home, timeout: float):
        self.file = SecretFile(home.secrets_file)
        self.keyring = KeyringAccess(timeout)

    def set(self, name: str, value: str) -> str:
        """Store the secret; says where, for the person who asked."""
        check_name(name)
        if not value:
            raise SecretError("a secret cannot be empty")
        unusable = self.keyring.usable()
        with self.file.update() as contents:
            if unusable is None:
                self.keyring.set(name, value)
                contents.values.pop(name, None)
                contents.in_keyring.add(name)
                return f"in the keyring ({self.keyring.name})"
            contents.values[name] = value
            contents.in_keyring.discard(name)  # the file is read first: its value wins
        return f"in {self.file.path} (no usable keyring: {unusable})"

    def get(self, name: str) -> str:
        check_name(name)
        return self.resolve([name])[name]

    def resolve(self, names: list[str]) -> dict[str, str]:
        """The values of `names`; the keyring is asked once, for all it must provide."""
        contents = self.file.read()
        found = {name: contents.values[name] for name in names if name in contents.values}
        wanted = [name for name in names if name not in found]
        if not wanted:
            return found
        try:
            answers = self.keyring.get_many(wanted)
        except KeyringUnavailable as exc:
            name = next((n for n in wanted if n in contents.in_keyring), None)
            if name is not None:
                raise SecretError(f"secret '{name}' is kept in the keyring, but {exc}") from None
            if isinstance(exc, KeyringTimeout):
                raise SecretError(f"cannot look up secret '{wanted[0]}': {exc}") from None
            raise SecretNotFound(wanted[0], self._hint(wanted[0], contents)) from None
        for name in wanted:
            value = answers.get(name)
            if value is None:
                raise SecretNotFound(name, self._hint(name, contents))
            found[name] = value
        return found

    def delete(self, name: str) -> str:
        """Remove the secret from wherever it is; says from where."""
        check_name(name)
        with self.file.update() as contents:
            if contents.values.pop(name, None) is not None:
                return f"from {self.file.path}"
            indexed = name in contents.in_keyring
            try:
                deleted = self.keyring.delete(name)
            except KeyringUnavailable as exc:
                if not indexed:
                    raise SecretNotFound(name, self._hint(name, contents)) from None
                raise SecretError(f"secret '{name}' is kept in the keyring, but {exc}") from None
            contents.in_keyring.discard(name)
            if not deleted and not indexed:
                raise SecretNotFound(name, self._hint(name, contents))
        return "from the keyring"

    def list(self) -> list[StoredSecret]:
        """Every name and its store, from the file alone: no keyring is asked."""
        contents = self.file.read()
        stored = [StoredSecret(name, FILE) for name in contents.values]
        stored += [StoredSecret(name, KEYRING) for name in contents.in_keyring]
        return sorted(stored, key=lambda secret: secret.name)

    def _hint(self, name: str, contents) -> str:
        return did_you_mean(name, [*contents.values, *contents.in_keyring])


def check_name(name: str) -> None:
    if problem := name_problem(name):
        raise SecretError(problem)
