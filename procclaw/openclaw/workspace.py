"""Where OpenClaw keeps its state, its workspace and its skills, found as OpenClaw does.

- `~` is $OPENCLAW_HOME when that is set, else the user's home.
- The state directory is $OPENCLAW_STATE_DIR, else `~/.openclaw-<profile>` for
  $OPENCLAW_PROFILE (other than `default`), else `~/.openclaw`.
- The workspace (the agent's memory files and skills) is `openclaw.workspace` in
  procclaw.yaml when set; else `agents.defaults.workspace` in the state directory's
  openclaw.json; else $OPENCLAW_WORKSPACE_DIR; else `<state dir>/workspace`.
- Skills for every agent live in `<state dir>/skills`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


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
    chosen = _agents_default_workspace(openclaw_state_dir(env, user_home))
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


def _agents_default_workspace(state_dir: Path) -> str | None:
    """`agents.defaults.workspace` from openclaw.json; None when the file is missing or
    is not plain JSON (OpenClaw accepts JSON5, with comments, which we do not read)."""
    try:
        config: Any = json.loads((state_dir / "openclaw.json").read_text())
    except (OSError, ValueError):
        return None
    for key in ("agents", "defaults", "workspace"):
        config = config.get(key) if isinstance(config, dict) else None
    return config if isinstance(config, str) and config.strip() else None
