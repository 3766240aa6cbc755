"""Whether a job's `limits.cpu` can be held: only a cgroup with the cpu controller can
(`cpu.max`), so where there is none the limit is refused when the config is validated,
rather than written down and silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def refusal(found: dict[str, Any]) -> str | None:
    """Why runs get no `cpu.max`, from a description of the daemon's cgroups (root's
    `daemon status` or `CgroupTree.describe()`, `{"why": ...}` without one); None
    when they do."""
    if not found.get("version"):
        return f"it needs a cgroup with the cpu controller, and {found.get('why')}"
    if "cpu" not in found["controllers"]:
        return f"the daemon's cgroup {found['path']} has no cpu controller"
    return None


def local_refusal(home: Path, daemon_started: bool) -> str | None:
    """`refusal` as this process sees it: of the subtree the running daemon made (from
    inside the daemon), or of the one a daemon started from here would make."""
    from procclaw.platform import current

    if daemon_started:
        tree = current().job_cgroups(home, create=False)
    else:
        tree = current().job_cgroups_offered(home)
    return refusal({"why": tree} if isinstance(tree, str) else tree.describe())
