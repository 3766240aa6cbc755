"""The OpenClaw workspace and the notes ProcClaw leaves in the agent's daily memory."""

from __future__ import annotations

import os
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from procclaw.openclaw.alerts import Alert
from procclaw.openclaw.memory_log import MemoryLog, WorkspaceMissing
from procclaw.openclaw.workspace import (
    global_skills_dir,
    openclaw_state_dir,
    openclaw_workspace,
)

HOME = Path("/home/ada")
AT_14_02 = datetime(2026, 3, 8, 14, 2, 33)


def test_the_configured_workspace_comes_first():
    env = {"OPENCLAW_WORKSPACE_DIR": "/elsewhere", "OPENCLAW_PROFILE": "work"}
    assert openclaw_workspace("/srv/agent", env, HOME) == Path("/srv/agent")


def test_then_openclaw_workspace_dir():
    env = {"OPENCLAW_WORKSPACE_DIR": "/elsewhere", "OPENCLAW_PROFILE": "work"}
    assert openclaw_workspace(None, env, HOME) == Path("/elsewhere")


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (None, "/home/ada/.openclaw/workspace"),
        ("default", "/home/ada/.openclaw/workspace"),
        ("work", "/home/ada/.openclaw-work/workspace"),
    ],
)
def test_then_the_profile_picks_the_state_directory(profile, expected):
    env = {} if profile is None else {"OPENCLAW_PROFILE": profile}
    assert openclaw_workspace(None, env, HOME) == Path(expected)


def test_global_skills_live_in_the_state_directory_of_the_profile():
    assert global_skills_dir({}, HOME) == Path("/home/ada/.openclaw/skills")
    profile = {"OPENCLAW_PROFILE": "work"}
    assert global_skills_dir(profile, HOME) == Path("/home/ada/.openclaw-work/skills")


def test_openclaw_state_dir_and_openclaw_home_move_everything(tmp_path):
    env = {"OPENCLAW_STATE_DIR": str(tmp_path / "state"), "OPENCLAW_PROFILE": "work"}
    assert openclaw_state_dir(env, HOME) == tmp_path / "state"
    assert openclaw_workspace(None, env, HOME) == tmp_path / "state" / "workspace"
    assert global_skills_dir(env, HOME) == tmp_path / "state" / "skills"
    moved = {"OPENCLAW_HOME": "/srv/ada", "OPENCLAW_WORKSPACE_DIR": "~/agent"}
    assert openclaw_state_dir(moved, HOME) == Path("/srv/ada/.openclaw")
    assert openclaw_workspace(None, moved, HOME) == Path("/srv/ada/agent")


def test_the_workspace_in_openclaw_json_comes_before_the_environment(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "openclaw.json").write_text('{"agents": {"defaults": {"workspace": "~/agent"}}}')
    env = {"OPENCLAW_STATE_DIR": str(state), "OPENCLAW_WORKSPACE_DIR": "/elsewhere"}
    assert openclaw_workspace(None, env, HOME) == HOME / "agent"
    assert openclaw_workspace("/srv/agent", env, HOME) == Path("/srv/agent")
    (state / "openclaw.json").write_text(
        "{ // JSON5, as OpenClaw reads it\n agents: {defaults: {workspace: '~/edited',},},}"
    )
    assert openclaw_workspace(None, env, HOME) == HOME / "edited"
    (state / "openclaw.json").write_text('{"agents": {"defaults": {"workspace": ')  # cut short
    assert openclaw_workspace(None, env, HOME) == Path("/elsewhere")
    moved = {**env, "OPENCLAW_CONFIG_PATH": str(tmp_path / "moved.json")}
    (tmp_path / "moved.json").write_text('{"agents": {"defaults": {"workspace": "/moved"}}}')
    assert openclaw_workspace(None, moved, HOME) == Path("/moved")


def test_an_entry_is_a_timed_heading_and_bullets_in_the_days_file(tmp_path):
    (tmp_path / "MEMORY.md").write_text("curated by the agent\n")
    log = MemoryLog(tmp_path, now=lambda: AT_14_02)
    path = log.append(Alert("backup", "failed", 0.0, "exit code 2", restarts=5))
    assert path == tmp_path / "memory" / "2026-03-08.md"
    assert path.read_text() == (
        "\n### 14:02 ProcClaw: job backup failed\n"
        "- reason: exit code 2\n"
        "- restarts: 5\n"
        "- see: `procclaw status backup`\n"
    )
    assert (tmp_path / "MEMORY.md").read_text() == "curated by the agent\n"


def test_entries_are_appended_after_what_others_wrote(tmp_path):
    day = tmp_path / "memory" / "2026-03-08.md"
    day.parent.mkdir()
    day.write_text("# 2026-03-08\n- talked about the garden\n")
    log = MemoryLog(tmp_path, now=lambda: AT_14_02)
    log.append(Alert("api", "unhealthy", 0.0, "HTTP 503 from /health"))
    log.append(Alert("api", "recovered", 0.0))
    assert day.read_text() == (
        "# 2026-03-08\n- talked about the garden\n"
        "\n### 14:02 ProcClaw: job api is unhealthy\n"
        "- reason: HTTP 503 from /health\n"
        "- see: `procclaw status api`\n"
        "\n### 14:02 ProcClaw: job api is healthy again\n"
        "- see: `procclaw status api`\n"
    )


def test_a_folded_summary_says_how_many_and_what(tmp_path):
    summary = Alert(
        "api", "failed", 0.0, "exit code 1", folded=Counter(failed=3, unhealthy=2), window=300
    )
    path = MemoryLog(tmp_path, now=lambda: AT_14_02).append(summary)
    assert path.read_text() == (
        "\n### 14:02 ProcClaw: job api: 5 more alerts\n"
        "- in the last 5m 0s: failed ×3, unhealthy ×2\n"
        "- latest: failed\n"
        "- reason: exit code 1\n"
        "- see: `procclaw status api`\n"
    )


def test_each_entry_is_one_write_so_concurrent_writers_never_interleave(tmp_path):
    writers = [MemoryLog(tmp_path, now=lambda: AT_14_02) for _ in range(4)]
    reason = "x" * 2000  # long entries would be torn first if they took several writes

    def write_many(log: MemoryLog, job: str) -> None:
        for _ in range(50):
            log.append(Alert(job, "failed", 0.0, reason))

    threads = [
        threading.Thread(target=write_many, args=(log, f"job{n}")) for n, log in enumerate(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = (tmp_path / "memory" / "2026-03-08.md").read_text().split("\n\n")
    assert len(entries) == 200
    for entry in entries:
        heading, reason_line, see = entry.strip("\n").split("\n")
        job = heading.split()[-2]
        assert reason_line == f"- reason: {reason}" and see == f"- see: `procclaw status {job}`"


def test_no_workspace_means_no_openclaw_here_and_nothing_is_created(tmp_path):
    missing = tmp_path / "no-workspace"
    with pytest.raises(WorkspaceMissing):
        MemoryLog(missing, now=lambda: AT_14_02).append(Alert("a", "failed", 0.0))
    assert not missing.exists()


def test_the_memory_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        path = MemoryLog(tmp_path, now=lambda: AT_14_02).append(Alert("a", "missed", 0.0))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600
