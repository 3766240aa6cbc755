"""Nothing under the home is readable by other users; jobs keep the umask they were
started with; a home left readable is tightened, and a token others can read is named."""

import os
import stat

LOUD_JOB = """\
jobs:
  talker:
    type: continuous
    cmd: sh -c 'umask > umask.txt; touch made-by-job; echo my secret is hunter2; sleep 60'
    cwd: {cwd}
"""


def _modes_open_to_others(root):
    found = []
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(directory, name)
            if stat.S_IMODE(os.lstat(path).st_mode) & 0o077:
                found.append(path)
    return found


def test_every_file_of_the_daemon_is_private_and_jobs_keep_the_umask_they_were_started_with(
    sandbox, tmp_path
):
    sandbox.cli("init", check=True, umask=0o022)
    sandbox.write("jobs.yaml", LOUD_JOB.format(cwd=tmp_path))
    sandbox.cli("config", "--validate", check=True, umask=0o022)
    sandbox.start_daemon(umask=0o027)
    sandbox.wait_output("talker", "hunter2")
    sandbox.cli("status", "talker", check=True)  # the runs table and audit log are written
    assert _modes_open_to_others(sandbox.home.root) == []
    assert stat.S_IMODE(sandbox.home.root.stat().st_mode) == 0o700
    assert (tmp_path / "umask.txt").read_text().strip() == "0027"
    assert stat.S_IMODE((tmp_path / "made-by-job").stat().st_mode) == 0o640


def test_a_home_left_readable_is_made_private_at_daemon_start_and_the_user_is_told(sandbox):
    sandbox.cli("init", check=True)
    sandbox.home.logs_dir.mkdir(exist_ok=True)
    old_log = sandbox.home.logs_dir / "old.log"
    old_log.write_text("printed by a job last year\n")
    for path in (sandbox.home.root, sandbox.home.config_file, sandbox.home.jobs_file, old_log):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    sandbox.start_daemon()
    assert (
        f"procclaw: made 4 files and folders in {sandbox.home.root} private to you:"
        " other users could read them\n"
    ) in sandbox.last_start.stderr
    assert _modes_open_to_others(sandbox.home.root) == []


def test_only_our_own_files_are_tightened_and_not_those_of_another_user(sandbox):
    sandbox.cli("init", check=True)
    notes = sandbox.home.root / "notes.txt"  # the user's own, in a home they chose
    notes.write_text("mine\n")
    os.chmod(notes, 0o644)
    os.chmod(sandbox.home.jobs_file, 0o644)
    os.chown(sandbox.home.jobs_file, 12345, -1)  # left by another user: not ours to change
    os.chmod(sandbox.home.config_file, 0o644)
    sandbox.start_daemon()
    assert stat.S_IMODE(notes.stat().st_mode) == 0o644
    assert stat.S_IMODE(sandbox.home.jobs_file.stat().st_mode) == 0o644
    assert stat.S_IMODE(sandbox.home.config_file.stat().st_mode) == 0o600


def test_validate_warns_of_a_literal_token_that_others_can_read(sandbox):
    sandbox.write("procclaw.yaml", "api:\n  auth: {enabled: true, token: abc123}\n")
    os.chmod(sandbox.home.config_file, 0o644)
    result = sandbox.cli("config", "--validate", check=True)
    path = sandbox.home.config_file
    assert result.stderr == (
        f"warning: {path} holds the API token and other users can read it: `chmod 600 {path}`,"
        " or keep the token in the keyring (`procclaw secret set`)\n"
    )
    os.chmod(path, 0o600)
    assert sandbox.cli("config", "--validate", check=True).stderr == ""
    sandbox.write("procclaw.yaml", "api:\n  auth: {enabled: true, token: '${secret:API}'}\n")
    os.chmod(path, 0o644)
    assert sandbox.cli("config", "--validate", check=True).stderr == ""
