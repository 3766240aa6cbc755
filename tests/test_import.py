"""`procclaw import`: supervisord and pm2 configs, written by hand from each tool's
documented examples (tests/import_samples/), turned into jobs.d drop-ins.

Golden files are tests/golden/import/<sample>/: each drop-in, and `warnings.txt` with
every warning, so each is asserted. The sample directory's absolute path (from
supervisord's `%(here)s`) is written `$SAMPLES` there. Rewrite them after a deliberate
change with `PROCCLAW_REGENERATE_GOLDEN=1 python -m pytest -q tests/test_import.py`.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from golden_files import assert_matches_golden

from procclaw.config.loader import parse_config
from procclaw.importers.drop_ins import drop_in_text
from procclaw.importers.imported import ImportRefused
from procclaw.importers.pm2 import read_pm2
from procclaw.importers.supervisord import read_supervisord

SAMPLES = Path(__file__).parent / "import_samples"
GOLDEN = Path(__file__).parent / "golden" / "import"
SOURCES = {
    "supervisord": (read_supervisord, SAMPLES / "supervisord" / "supervisord.conf"),
    "pm2-ecosystem": (read_pm2, SAMPLES / "pm2" / "ecosystem.json"),
    "pm2-jlist": (read_pm2, SAMPLES / "pm2" / "jlist.json"),
}


@pytest.mark.parametrize("sample", SOURCES)
def test_each_sample_matches_its_golden_drop_ins_and_warnings(sample):
    read, path = SOURCES[sample]
    imported = read(path)
    files = {f"{job.id}.yaml": drop_in_text(job, path.name) for job in imported.jobs}
    files["warnings.txt"] = "".join(f"{warning}\n" for warning in imported.warnings)
    files = {name: text.replace(str(SAMPLES.resolve()), "$SAMPLES") for name, text in files.items()}
    assert_matches_golden(GOLDEN / sample, files)
    # as the daemon would read them
    parse_config(
        None,
        None,
        dropins={f"{job.id}.yaml": drop_in_text(job, path.name) for job in imported.jobs},
    )


def test_numprocs_give_one_job_per_process_named_by_process_name():
    imported = read_supervisord(SOURCES["supervisord"][1])
    assert [job.id for job in imported.jobs] == ["cat", "bar_00", "bar_01", "baz"]
    assert imported.jobs[2].body["cmd"] == "/usr/bin/python3 worker.py --queue bar --slot 1"


def test_pm2_instances_and_cron_restart_become_jobs():
    imported = read_pm2(SOURCES["pm2-ecosystem"][1])
    ids = [job.id for job in imported.jobs]
    assert ids == ["api-0", "api-0-cron-restart", "api-1", "api-1-cron-restart", "scraper",
                   "cleanup", "cleanup-cron-restart"]  # fmt: skip
    restart = imported.jobs[-1].body
    assert restart == {
        "cmd": ["procclaw", "restart", "cleanup"],
        "type": "scheduled",
        "schedule": "*/30 * * * * 0",  # node-cron's seconds come first, ours last
    }
    assert imported.jobs[0].body["limits"] == {"memory": "300M"}


def test_a_javascript_ecosystem_file_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "ecosystem.config.js"
    path.write_text("module.exports = { apps: [{ name: 'api', script: 'app.js' }] }\n")
    with pytest.raises(ImportRefused, match=r"save `pm2 jlist` output instead"):
        read_pm2(path)


@pytest.fixture
def supervisord_conf(sandbox):
    return sandbox.write(
        "supervisord.conf",
        """\
        [program:web]
        command=/usr/bin/python3 -m http.server 8000
        stopsignal=INT
        user=www-data

        [program:queue]
        command=/usr/bin/python3 queue.py
        numprocs=2
        process_name=%(program_name)s-%(process_num)d
        """,
    )


def test_import_writes_private_drop_ins_and_says_what_it_wrote(sandbox, supervisord_conf):
    result = sandbox.cli("import", "supervisord", str(supervisord_conf), check=True)
    drop_ins = sandbox.home.root / "jobs.d"
    assert result.stdout.splitlines() == [
        f"wrote {drop_ins / 'web.yaml'}",
        f"wrote {drop_ins / 'queue-0.yaml'}",
        f"wrote {drop_ins / 'queue-1.yaml'}",
        "run `procclaw reload` to apply them",
    ]
    assert result.stderr == (
        "procclaw: warning: program 'web': user: jobs run as the user running ProcClaw\n"
    )
    for path in drop_ins.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    web = parse_config(None, None, dropins={"web.yaml": (drop_ins / "web.yaml").read_text()}).jobs[
        0
    ]
    assert (web.id, web.shutdown.signal, web.restart) == ("web", "SIGINT", "on-failure")


def test_dry_run_prints_the_drop_ins_and_writes_nothing(sandbox, supervisord_conf):
    result = sandbox.cli("import", "supervisord", str(supervisord_conf), "--dry-run", check=True)
    assert result.stdout.startswith(f"==> {sandbox.home.root / 'jobs.d' / 'web.yaml'} <==\n")
    assert f"==> {sandbox.home.root / 'jobs.d' / 'queue-1.yaml'} <==\n" in result.stdout
    assert not (sandbox.home.root / "jobs.d").exists()
    as_json = json.loads(
        sandbox.cli("import", "supervisord", str(supervisord_conf), "--dry-run", "--json").stdout
    )
    assert as_json["written"] == [] and len(as_json["files"]) == 3
    assert as_json["warnings"] == [
        {"program": "web", "key": "user", "why": "jobs run as the user running ProcClaw"}
    ]


def test_an_id_that_exists_refuses_the_import_naming_where_and_writes_nothing(
    sandbox, supervisord_conf
):
    sandbox.write("jobs.yaml", "jobs:\n  api:\n    cmd: x\n  queue-1:\n    cmd: y\n")
    result = sandbox.cli("import", "supervisord", str(supervisord_conf))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-2:] == [
        "procclaw: nothing imported:",
        f"{sandbox.home.jobs_file}:4: job 'queue-1' exists already",
    ]
    assert not (sandbox.home.root / "jobs.d").exists()
    sandbox.write("jobs.yaml", "jobs: {}\n")
    sandbox.cli("import", "supervisord", str(supervisord_conf), check=True)
    again = sandbox.cli("import", "supervisord", str(supervisord_conf))
    assert f"{sandbox.home.root / 'jobs.d' / 'web.yaml'}: job 'web' exists already" in (
        again.stderr
    )


def test_a_job_the_config_would_refuse_is_not_written(sandbox):
    conf = sandbox.write(
        "supervisord.conf",
        "[program:ok]\ncommand=/bin/true\n\n[program:bad]\ncommand=/bin/true\nstopsignal=NOPE\n",
    )
    result = sandbox.cli("import", "supervisord", str(conf))
    assert result.returncode == 1
    drop_in = sandbox.home.root / "jobs.d" / "bad.yaml"
    assert f"{drop_in}:14: job 'bad': shutdown.signal: unknown signal 'SIGNOPE'" in result.stderr
    assert not (sandbox.home.root / "jobs.d").exists()


def test_completion_offers_both_sources_and_every_export_target():
    from procclaw.cli.command_words import places

    found = places()
    assert found["import"].words == {"supervisord", "pm2"}
    assert found["import pm2"].options == {"--dry-run", "--json"}
    assert found["export"].words == {"systemd", "kubernetes", "nomad", "compose"}
    assert found["export systemd"].job_options == {"--job"}
    assert "--image" in found["export compose"].options
