"""The failures of the secret stores, each with a message for the person at the terminal."""

from __future__ import annotations


class SecretError(Exception):
    """A secret cannot be read or written; the message says why and what to do."""


class SecretNotFound(SecretError):
    def __init__(self, name: str, hint: str = ""):
        super().__init__(f"secret '{name}' not found{hint}")
        self.name = name
