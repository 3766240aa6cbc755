"""The procclaw skill for OpenClaw agents, and its installation."""

from __future__ import annotations

import json
import shlex

import yaml

from procclaw.openclaw.skill import skill_text


def frontmatter_and_body(text: str) -> tuple[str, str]:
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return head, body


def test_the_skill_frontmatter_is_what_openclaw_expects():
    head, _ = frontmatter_and_body(skill_text())
    meta = yaml.safe_load(head)
    assert set(meta) == {"name", "description", "metadata"}
    assert meta["name"] == "procclaw"
    description = meta["description"]
    assert "\n" not in description and 0 < len(description) < 160
    # OpenClaw's parser reads metadata as one line of JSON.
    [line] = [line for line in head.splitlines() if line.startswith("metadata:")]
    assert json.loads(line.removeprefix("metadata:")) == {
        "openclaw": {"requires": {"bins": ["procclaw"]}}
    }


def test_the_skill_teaches_the_commands_an_agent_needs():
    _, body = frontmatter_and_body(skill_text())
    for command in (
        "procclaw list",
        "procclaw status <job>",
        "procclaw start <job>",
        "procclaw stop <job>",
        "procclaw restart <job>",
        "procclaw logs <job> -n",
        "--json",
        "procclaw add <id> --cmd",
        "--schedule",
        "--tz",
        "procclaw add <id> -f",
        "procclaw remove <id>",
        "procclaw disable <job>",
        "procclaw enable <job>",
    ):
        assert command in body, command


def test_the_skills_example_creates_a_scheduled_job(sandbox):
    """The example an agent copies works as written (the command itself need not exist)."""
    _, body = frontmatter_and_body(skill_text())
    example = body.split("```\n")[1].replace("\\\n", "").splitlines()[0]
    words = shlex.split(example)
    assert words[:2] == ["procclaw", "add"]
    sandbox.write("jobs.yaml", "jobs: {}\n")
    sandbox.cli(*words[1:], check=True)
    sandbox.start_daemon()
    job = sandbox.job("nightly-backup")
    assert job["type"] == "scheduled" and job["next_runs"][0].endswith("T03:00:00-03:00")


def test_install_skill_puts_it_in_the_workspace(sandbox):
    workspace = sandbox.home.root / "agent"
    workspace.mkdir()
    sandbox.env["OPENCLAW_WORKSPACE_DIR"] = str(workspace)
    result = sandbox.cli("openclaw", "install-skill", check=True)
    installed = workspace / "skills" / "procclaw" / "SKILL.md"
    assert result.stdout == f"installed the procclaw skill: {installed}\n"
    assert installed.read_text() == skill_text()
    sandbox.cli("openclaw", "install-skill", check=True)  # again: replaced, not duplicated
    assert [p.name for p in installed.parent.iterdir()] == ["SKILL.md"]


def test_install_skill_uses_the_configured_workspace(sandbox):
    workspace = sandbox.home.root / "configured"
    workspace.mkdir()
    sandbox.write("procclaw.yaml", f"openclaw:\n  workspace: {workspace}\n")
    sandbox.cli("openclaw", "install-skill", check=True)
    assert (workspace / "skills" / "procclaw" / "SKILL.md").exists()


def test_install_skill_global_goes_to_the_users_openclaw_skills(sandbox):
    (sandbox.home.root / "user" / ".openclaw").mkdir(parents=True)
    sandbox.env["HOME"] = str(sandbox.home.root / "user")
    del sandbox.env["OPENCLAW_STATE_DIR"]  # the default: ~/.openclaw
    sandbox.cli("openclaw", "install-skill", "--global", check=True)
    path = sandbox.home.root / "user" / ".openclaw" / "skills" / "procclaw" / "SKILL.md"
    assert path.read_text() == skill_text()


def test_install_skill_global_goes_to_the_profiles_state_dir(sandbox):
    (sandbox.home.root / "user" / ".openclaw-work").mkdir(parents=True)
    sandbox.env["OPENCLAW_HOME"] = str(sandbox.home.root / "user")
    sandbox.env["OPENCLAW_PROFILE"] = "work"
    del sandbox.env["OPENCLAW_STATE_DIR"]
    sandbox.cli("openclaw", "install-skill", "--global", check=True)
    path = sandbox.home.root / "user" / ".openclaw-work" / "skills" / "procclaw" / "SKILL.md"
    assert path.read_text() == skill_text()


def test_install_skill_without_a_workspace_says_what_to_do(sandbox):
    result = sandbox.cli("openclaw", "install-skill")
    assert result.returncode == 1
    missing = sandbox.home.root / "openclaw-workspace"
    assert result.stderr == (
        f"procclaw: {missing} does not exist: set up OpenClaw first (openclaw onboard),"
        " or point openclaw.workspace at your workspace\n"
    )
    assert not missing.exists()


def test_install_skill_with_a_broken_config_names_the_problem(sandbox):
    sandbox.write("procclaw.yaml", "openclaw:\n  workspce: /x\n")
    result = sandbox.cli("openclaw", "install-skill")
    assert result.returncode == 1
    assert "procclaw.yaml:2: openclaw: unknown key 'workspce' (did you mean 'workspace'?)" in (
        result.stdout
    )
    assert "fix the config first" in result.stderr
