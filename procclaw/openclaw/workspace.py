"""Where the OpenClaw workspace is: the agent's memory files and skills live there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def openclaw_workspace(
    configured: str | None,
    environ: Mapping[str, str] | None = None,
    user_home: Path | None = None,
) -> Path:
    """`openclaw.workspace`, else OPENCLAW_WORKSPACE_DIR, else the profile's default.

    As OpenClaw itself does, OPENCLAW_PROFILE=work means `~/.openclaw-work/workspace`;
    no profile (or `default`) means `~/.openclaw/workspace`.
    """
    env = os.environ if environ is None else environ
    home = Path.home() if user_home is None else user_home
    if configured:
        return Path(configured).expanduser()
    if env.get("OPENCLAW_WORKSPACE_DIR"):
        return Path(env["OPENCLAW_WORKSPACE_DIR"]).expanduser()
    profile = env.get("OPENCLAW_PROFILE", "").strip()
    state_dir = ".openclaw" if profile in ("", "default") else f".openclaw-{profile}"
    return home / state_dir / "workspace"


def global_skills_dir(user_home: Path | None = None) -> Path:
    """The skills every OpenClaw agent of this user sees: `~/.openclaw/skills`."""
    return (Path.home() if user_home is None else user_home) / ".openclaw" / "skills"
