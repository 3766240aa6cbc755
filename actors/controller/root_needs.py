"""Telling root which on-demand actors the applied config needs, and the API's address.

Root starts the scheduler, the health actor and the alerter only once the config needs
them (procclaw/rules/needed_actors.py), and holds the API's address for the gateway's
first client. The controller tells it at start and after every change of the config;
root answers at once, and what it did not hear is told again.
"""

from __future__ import annotations

import logging
from typing import Any

from actors.runtime.async_calls import AsyncCalls
from actors.runtime.loop import EventLoop, Timer
from procclaw.config import Config
from procclaw.openclaw.workspace import openclaw_workspace
from procclaw.rules.needed_actors import needed_actors

log = logging.getLogger("procclaw.controller")

NEED_TIMEOUT = 2.0
NEED_RETRY = 1.0


class RootNeeds:
    def __init__(self, loop: EventLoop, calls: AsyncCalls):
        self._loop = loop
        self._calls = calls
        self._config = Config()
        self._retry: Timer | None = None

    def tell(self, config: Config) -> None:
        """What `config` needs, told to root until it hears it."""
        self._config = config
        self._tell()

    def _tell(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        config = self._config
        workspace = config.settings.openclaw.workspace
        daemon = config.settings.daemon
        needs = {
            "actors": needed_actors(config, lambda: openclaw_workspace(workspace).is_dir()),
            "api_host": daemon.host,
            "api_port": daemon.port,
        }
        self._calls.call("daemon", "need", needs, _heard, self._unheard, NEED_TIMEOUT)

    def _unheard(self, _code: str, message: str) -> None:
        log.warning("root did not hear which actors the config needs: %s", message)
        if self._retry is None:  # one telling again, for any number unheard
            self._retry = self._loop.call_later(NEED_RETRY, self._tell)


def _heard(_result: Any) -> None:
    """Root's answer: that it heard is all there is."""
