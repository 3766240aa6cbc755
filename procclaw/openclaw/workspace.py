"""Where OpenClaw keeps its state, its workspace and its skills, found as OpenClaw does.

- `~` is $OPENCLAW_HOME when that is set, else the user's home.
- The state directory is $OPENCLAW_STATE_DIR, else `~/.openclaw-<profile>` for
  $OPENCLAW_PROFILE (other than `default`), else `~/.openclaw`.
- OpenClaw's config file is $OPENCLAW_CONFIG_PATH, else `<state dir>/openclaw.json`.
- The workspace (the agent's memory files and skills) is `openclaw.workspace` in
  procclaw.yaml when set; else `agents.defaults.workspace` in OpenClaw's config file;
  else $OPENCLAW_WORKSPACE_DIR; else `<state dir>/workspace`.
- Skills for every agent live in `<state dir>/skills`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from procclaw.openclaw.openclaw_config import UnreadableOpenClawConfig, read_openclaw_config


def openclaw_workspace(
    configured: str | None,
    environ: Mapping[str, str] | None = None,
    user_home: Path | None = None,
) -> Path:
    """The workspace ProcClaw writes the agent's notes to (see the module's order)."""
    env = os.environ if environ is None else environ
    home = _home(env, user_home)
    if configured:
        return _expand(configured, home)
    chosen = _agents_default_workspace(openclaw_config_file(env, user_home))
    if chosen:
        return _expand(chosen, home)
    if env.get("OPENCLAW_WORKSPACE_DIR"):
        return _expand(env["OPENCLAW_WORKSPACE_DIR"], home)
    return openclaw_state_dir(env, user_home) / "workspace"


def openclaw_state_dir(
    environ: Mapping[str, str] | None = None, user_home: Path | None = None
) -> Path:
    """$OPENCLAW_STATE_DIR, else `~/.openclaw-<profile>`, else `~/.openclaw`."""
    env = os.environ if environ is None else environ
    home = _home(env, user_home)
    if env.get("OPENCLAW_STATE_DIR"):
        return _expand(env["OPENCLAW_STATE_DIR"], home)
    profile = env.get("OPENCLAW_PROFILE", "").strip()
    return home / (".openclaw" if profile in ("", "default") else f".openclaw-{profile}")


def openclaw_config_file(
    environ: Mapping[str, str] | None = None, user_home: Path | None = None
) -> Path:
    """$OPENCLAW_CONFIG_PATH, else `<state dir>/openclaw.json`."""
    env = os.environ if environ is None else environ
    given = env.get("OPENCLAW_CONFIG_PATH", "").strip()
    if given:
        return _expand(given, _home(env, user_home))
    return openclaw_state_dir(env, user_home) / "openclaw.json"


def global_skills_dir(
    environ: Mapping[str, str] | None = None, user_home: Path | None = None
) -> Path:
    """The skills every OpenClaw agent of this user sees: `<state dir>/skills`."""
    return openclaw_state_dir(environ, user_home) / "skills"


def _home(env: Mapping[str, str], user_home: Path | None) -> Path:
    if env.get("OPENCLAW_HOME"):
        return Path(env["OPENCLAW_HOME"])
    return Path.home() if user_home is None else user_home


def _expand(path: str, home: Path) -> Path:
    """`~` and `~/...` against OpenClaw's home, as OpenClaw reads them."""
    if path == "~" or path.startswith("~/"):
        return home / path[2:]
    return Path(path)


def _agents_default_workspace(config_file: Path) -> str | None:
    """`agents.defaults.workspace` from openclaw.json; None when the file is missing or
    cannot be read."""
    try:
        config: Any = read_openclaw_config(config_file)
    except (OSError, UnreadableOpenClawConfig):
        return None
    for key in ("agents", "defaults", "workspace"):
        config = config.get(key) if isinstance(config, dict) else None
    return config if isinstance(config, str) and config.strip() else None
