"""The `procclaw` skill for OpenClaw agents: the SKILL.md shipped in this package, and
putting it where OpenClaw looks for skills.

A workspace skill (`<workspace>/skills/procclaw/`) is seen by the agent of that
workspace; a global one (`~/.openclaw/skills/procclaw/`) by every agent of the user.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

SKILL_NAME = "procclaw"


def skill_text() -> str:
    """The SKILL.md that ships with this version of ProcClaw."""
    return resources.files(__package__).joinpath("SKILL.md").read_text(encoding="utf-8")


def install_skill(skills_dir: Path) -> Path:
    """Write SKILL.md into `<skills_dir>/procclaw/`, replacing an older one whole."""
    target = skills_dir / SKILL_NAME
    target.mkdir(parents=True, exist_ok=True)
    path = target / "SKILL.md"
    temporary = target / ".SKILL.md.tmp"
    temporary.write_text(skill_text(), encoding="utf-8")
    os.replace(temporary, path)  # an agent reading it meanwhile sees one version or the other
    return path
