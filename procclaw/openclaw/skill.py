"""The `procclaw` skill for OpenClaw agents: the SKILL.md shipped in this package, and
putting it where OpenClaw looks for skills.

A workspace skill (`<workspace>/skills/procclaw/`) is seen by the agent of that
workspace; a global one (`~/.openclaw/skills/procclaw/`) by every agent of the user.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from procclaw.atomic_file import write_atomically

SKILL_NAME = "procclaw"


def skill_text() -> str:
    """The SKILL.md that ships with this version of ProcClaw."""
    return resources.files(__package__).joinpath("SKILL.md").read_text(encoding="utf-8")


def install_skill(skills_dir: Path) -> Path:
    """Write SKILL.md into `<skills_dir>/procclaw/`, replacing an older one whole."""
    path = skills_dir / SKILL_NAME / "SKILL.md"
    write_atomically(path, skill_text())  # an agent reading it sees one version or the other
    return path
