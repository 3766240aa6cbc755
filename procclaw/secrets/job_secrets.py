"""A job's secrets, for the actors that spawn it or show its output.

The values are read from the store just before the job is spawned, go into its
environment and nowhere else: not into its config, facts, reports or heartbeats. What
stays is a mask, so that the job's own words (the last lines of a run, a log tail)
never carry a value out of the process. A mask that cannot be built, because a secret
can no longer be read, withholds the output instead.
"""

from __future__ import annotations

from procclaw.config import JobConfig
from procclaw.home import Home
from procclaw.secrets import DAEMON_TIMEOUT, SecretError, SecretMask, SecretStore, mask_for
from procclaw.secrets.references import secret_names

# How long the controller may wait for the keyring to mask a status's log tail: its
# loop serves no one else meanwhile.
STATUS_TIMEOUT = 1.0
WITHHELD = "(output withheld: it may show secrets that cannot be read now to mask them: {})"


class JobSecrets:
    def __init__(self, home: Home, job: JobConfig, timeout: float = DAEMON_TIMEOUT):
        self._home = home
        self._timeout = timeout
        self._references = [value for _, value in job.env]
        self._mask: SecretMask | None = None

    @property
    def needed(self) -> bool:
        """Whether the job's env refers to any secret (reading one may take a while)."""
        return bool(self._names())

    def fetch(self) -> dict[str, str]:
        """The values the job's env refers to; SecretError if one is missing. It may
        wait for the keyring, so a supervisor calls it on a worker thread: it touches
        nothing of ours."""
        names = self._names()
        return SecretStore(self._home, self._timeout).resolve(names) if names else {}

    def use(self, values: dict[str, str]) -> dict[str, str]:
        """Mask these values in the job's output from now on; they go to its spawn."""
        self._mask = SecretMask(values.values())
        return values

    def _names(self) -> list[str]:
        return list(dict.fromkeys(n for text in self._references for n in secret_names(text)))

    def mask_lines(self, lines: list[str]) -> list[str]:
        """`lines` with every value masked; one note instead if the values are unknown."""
        if self._mask is None:
            try:
                self._mask = mask_for(self._home, self._references, self._timeout)
            except SecretError as exc:
                return [WITHHELD.format(exc)] if lines else []
        return self._mask.lines(lines)
