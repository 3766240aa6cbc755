"""The config the controller runs with, kept in procclaw.db as the files' texts.

At daemon start (a new daemon id) and at each reload the files are read, validated and
recorded; a controller restarted after a crash takes the recorded texts instead, so an
edited file changes nothing until `reload`. A change made with `procclaw add` and the
like is recorded the same way (actors/controller/job_edits.py).
"""

from __future__ import annotations

import logging

from actors.controller.config_reload import refuse_emptying, refuse_unreadable_token
from procclaw.config import Config, ConfigError, parse_config
from procclaw.home import Home
from procclaw.job_edits import ConfigTexts
from procclaw.store import ConfigSnapshot, Store

log = logging.getLogger("procclaw.controller")


class AppliedConfig:
    def __init__(self, home: Home, store: Store, daemon_id: str, cpu_refusal: str | None):
        self._home = home
        self._store = store
        self._daemon_id = daemon_id
        # Why this daemon's cgroups cannot hold a limits.cpu (None: they can); a config
        # already applied was checked when it was, so only the files are refused for it.
        self.cpu_refusal = cpu_refusal

    def first_of_this_daemon(self) -> bool:
        """Whether no controller of this daemon recorded a config yet (a daemon start)."""
        snapshot = self._store.load_config()
        return snapshot is None or snapshot.daemon_id != self._daemon_id

    def initial(self) -> Config:
        """What a starting controller runs with: this daemon's recorded config, or else
        the files (and, if they are bad, the last daemon's config, or none)."""
        snapshot = self._store.load_config()
        if snapshot is not None and snapshot.daemon_id == self._daemon_id:
            log.info("restarted: keeping the config applied before")
            return self._parse(snapshot)
        try:
            return self.from_files()
        except ConfigError as exc:
            log.error("config not loaded, keeping the last applied one:\n%s", exc)
            if snapshot is None:
                return parse_config(None, None)
            return self._parse(snapshot)

    def from_files(self, before: Config | None = None) -> Config:
        """Read, validate and record the config files; raises ConfigError if they are bad.

        With `before` (a reload), a jobs file gone or emptied that would stop its jobs
        is refused too: that is far more often a file caught mid-save than a wish.
        """
        texts = ConfigTexts.read(self._home, self.cpu_refusal)
        config = texts.parse(self._home)
        if before is not None:
            refuse_emptying(texts.jobs, str(self._home.jobs_file), before, config)
            refuse_unreadable_token(self._home, str(self._home.config_file), before, config)
        self.record(texts)
        return config

    def record(self, texts: ConfigTexts) -> None:
        """Keep the texts as the applied config, for a restarted controller."""
        snapshot = ConfigSnapshot(self._daemon_id, texts.settings, texts.jobs, texts.dropins)
        self._store.save_config(snapshot)

    def _parse(self, snapshot: ConfigSnapshot) -> Config:
        texts = ConfigTexts(snapshot.settings_text, snapshot.jobs_text, snapshot.dropins)
        return texts.parse(self._home)
