"""What add, remove, enable and disable write, decided on the files before any is written."""

from __future__ import annotations

import pytest

from procclaw.config import load_config
from procclaw.home import Home
from procclaw.job_edits import EditRefused, carry_out, plan_edit
from procclaw.protocol import ErrorCode

JOBS = "jobs:\n  db:\n    cmd: ./db\n    type: continuous\n  off:\n    cmd: x\n    enabled: false\n"


@pytest.fixture
def home(tmp_path) -> Home:
    home = Home(tmp_path)
    home.jobs_file.write_text(JOBS)
    return home


def _do(home: Home, action: str, job_id: str, text: str = "") -> list[str]:
    plan = plan_edit(home, action, job_id, text)
    carry_out(home, plan)
    return sorted(plan.writes)


def test_disable_and_enable_keep_only_what_differs_from_the_jobs_own_file(home):
    overrides = home.jobs_dir / ".overrides.yaml"
    assert _do(home, "disable", "db") == [".overrides.yaml"]
    assert "db:\n  enabled: false\n" in overrides.read_text()
    assert _do(home, "enable", "off") == [".overrides.yaml"]
    assert "'off':\n  enabled: true\n" in overrides.read_text()  # quoted: not YAML's false
    assert load_config(home).job("off").enabled is True
    _do(home, "enable", "db")
    _do(home, "disable", "off")
    assert not overrides.exists()
    assert home.jobs_file.read_text() == JOBS
    assert plan_edit(home, "disable", "off").note == "already disabled"


def test_remove_takes_the_jobs_override_with_it(home):
    _do(home, "add", "api", "cmd: ./api\n")
    _do(home, "disable", "api")
    assert _do(home, "remove", "api") == [".overrides.yaml", "api.yaml"]
    assert list(home.jobs_dir.iterdir()) == []


def test_a_job_others_depend_on_cannot_be_removed(home):
    _do(home, "add", "cache", "cmd: ./cache\n")
    _do(home, "add", "api", "cmd: ./api\ndepends_on: [{job: cache}]\n")
    with pytest.raises(EditRefused) as refused:
        plan_edit(home, "remove", "cache")
    assert refused.value.code == ErrorCode.INVALID_CONFIG
    assert refused.value.message == (
        f"{home.jobs_dir / 'api.yaml'}:2: job 'api': depends_on[0].job: no job 'cache'"
    )


def test_a_broken_file_refuses_every_change_with_its_problem(home):
    home.jobs_file.write_text("jobs:\n  db: [\n")
    with pytest.raises(EditRefused) as refused:
        plan_edit(home, "add", "api", "cmd: ./api\n")
    assert refused.value.message.startswith(f"{home.jobs_file}:3: invalid YAML")
    assert not home.jobs_dir.exists()
