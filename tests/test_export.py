"""`procclaw export`: golden files for each target from one jobs.yaml that uses every
feature (tests/export_samples/), each checked the way its target checks it.

The golden files are tests/golden/export/<target>/: the exported files, and
`warnings.txt` with every warning the export gave, so each warning is asserted.
After a deliberate change, rewrite them with

    PROCCLAW_REGENERATE_GOLDEN=1 python -m pytest -q tests/test_export.py

and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from golden_files import assert_matches_golden

from procclaw.config import ConfigError
from procclaw.config.loader import parse_config
from procclaw.exporters import compose, kubernetes, nomad, systemd
from procclaw.exporters.export_plan import TARGETS, ExportRefused, select_jobs
from procclaw.exporters.systemd import on_calendar

SAMPLES = Path(__file__).parent / "export_samples"
GOLDEN = Path(__file__).parent / "golden" / "export"
SCHEMAS = Path(__file__).parent / "schemas"
MODULES = {"systemd": systemd, "kubernetes": kubernetes, "nomad": nomad, "compose": compose}


def sample_config(jobs_text: str | None = None):
    settings = (SAMPLES / "procclaw.yaml").read_text()
    return parse_config(settings, jobs_text or (SAMPLES / "jobs.yaml").read_text())


def exported(target: str):
    return MODULES[target].export(sample_config().jobs)


@pytest.mark.parametrize("target", TARGETS)
def test_each_target_matches_its_golden_files_warnings_included(target):
    result = exported(target)
    files = {**result.files, "warnings.txt": "".join(f"{w}\n" for w in result.warnings)}
    assert_matches_golden(GOLDEN / target, files)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    result = exported("systemd")
    for name, text in result.files.items():
        (tmp_path / name).write_text(text)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == ""  # not even a notice: every key is known and used


def test_kubernetes_manifests_validate_against_the_openapi_schemas():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kinds = []
    for text in exported("kubernetes").files.values():
        manifest = yaml.safe_load(text)
        kubernetes_validate.validate(manifest, "1.30", strict=True)
        kinds.append(manifest["kind"])
    assert kinds == ["Deployment", "Job", "Deployment", "Deployment"] + ["CronJob"] * 3


def test_compose_file_validates_against_the_compose_spec_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    document = yaml.safe_load(exported("compose").files["compose.yaml"])
    jsonschema.Draft7Validator(schema).validate(document)


def test_nomad_specs_validate_against_the_documented_job_structure():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SCHEMAS / "nomad-job.schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    for text in exported("nomad").files.values():
        validator.validate(json.loads(text))
    task = {"Name": "x", "Driver": "docker", "Config": {}, "Killtimeout": 1}
    group = {"Name": "x", "Tasks": [task]}
    job = {"ID": "x", "Name": "x", "Type": "service", "Datacenters": ["*"], "TaskGroups": [group]}
    assert not validator.is_valid({"Job": job})  # a missing image, a misspelt field


def test_a_job_without_an_image_is_refused_by_name_for_kubernetes_and_compose():
    config = parse_config(None, "jobs:\n  api:\n    cmd: ./serve\n    type: continuous\n")
    for module in (kubernetes, compose):
        with pytest.raises(ExportRefused, match="job 'api' has no container image"):
            module.export(config.jobs)
        assert module.export(config.jobs, "python:3.12").files


def test_image_option_is_used_over_export_image_and_nomad_falls_back_to_raw_exec():
    config = parse_config(
        None, "jobs:\n  api:\n    cmd: ./serve --port 80\n    cwd: /srv/api\n    type: continuous\n"
    )
    task = json.loads(nomad.export(config.jobs).files["api.nomad.json"])["Job"]["TaskGroups"][0]
    assert task["Tasks"][0]["Driver"] == "raw_exec"
    assert task["Tasks"][0]["Config"] == {
        "command": "/bin/sh",
        "args": ["-c", 'cd /srv/api && exec "$@"', "sh", "./serve", "--port", "80"],
    }
    manifest = yaml.safe_load(kubernetes.export(sample_config().jobs, "me/app:2").files["db.yaml"])
    assert manifest["spec"]["template"]["spec"]["containers"][0]["image"] == "me/app:2"


def test_jobs_are_chosen_by_name_and_tag_and_a_typo_is_refused():
    config = sample_config()
    chosen = select_jobs(config, ["report"], ["web"])
    assert [job.id for job in chosen] == ["api", "report"]
    assert len(select_jobs(config, [], [])) == len(config.jobs)
    with pytest.raises(ExportRefused, match=r"no job 'reprot' \(did you mean 'report'\?\)"):
        select_jobs(config, ["reprot"], [])
    with pytest.raises(ExportRefused, match=r"no job is tagged 'wbe' \(did you mean 'web'\?\)"):
        select_jobs(config, [], ["wbe"])


@pytest.mark.parametrize(
    ("cron", "zone", "calendar"),
    [
        ("30 2 * * 1-5", "Europe/Berlin", ["Mon..Fri *-*-* 02:30:00 Europe/Berlin"]),
        ("*/15 * * * *", None, ["*-*-* *:00/15:00"]),
        ("0 9-17 * * *", None, ["*-*-* 09..17:00:00"]),
        ("0 0 1,15 * *", None, ["*-*-01,15 00:00:00"]),
        ("@weekly", None, ["Sun *-*-* 00:00:00"]),
        ("* * * * * */10", None, ["*-*-* *:*:00/10"]),
        ("0 0 13 * 5", None, ["*-*-13 00:00:00", "Fri *-*-* 00:00:00"]),  # either day
        ("0 0 L * *", None, []),
    ],
)
def test_cron_expressions_become_on_calendar_values(cron, zone, calendar):
    assert on_calendar(cron, zone) == calendar


def test_a_scheduled_job_whose_days_cannot_be_expressed_is_warned_not_dropped():
    config = parse_config(
        None, 'jobs:\n  x:\n    cmd: "true"\n    type: scheduled\n    schedule: "0 0 L * *"\n'
    )
    result = systemd.export(config.jobs)
    assert list(result.files) == ["x.service"]
    assert [str(w) for w in result.warnings] == [
        "job 'x': schedule: '0 0 L * *' cannot be written as OnCalendar="
    ]


def test_export_image_is_checked_with_its_file_and_line():
    with pytest.raises(ConfigError) as caught:
        parse_config(
            "defaults:\n  export: {image: 'Not An Image'}\n",
            "jobs:\n  a:\n    cmd: x\n    export:\n      image: 42\n      imgae: x\n",
        )
    assert [str(problem) for problem in caught.value.problems] == [
        "procclaw.yaml:2: defaults.export.image: expected a container image like"
        " 'python:3.12-slim' or 'ghcr.io/me/api:1.4', got 'Not An Image'",
        "jobs.yaml:5: job 'a': export.image: expected a container image like"
        " 'python:3.12-slim' or 'ghcr.io/me/api:1.4', got 42",
        "jobs.yaml:6: job 'a': export: unknown key 'imgae' (did you mean 'image'?)",
    ]


def test_export_image_travels_with_the_job_and_a_change_of_it_restarts_nothing():
    from dataclasses import replace

    from procclaw.config.job_wire import job_from_wire, job_to_wire
    from procclaw.config.models import ExportConfig

    db = sample_config().job("db")
    again = job_from_wire(job_to_wire(db))
    assert again.export == ExportConfig(image="postgres:16")
    assert replace(db, export=ExportConfig(image="postgres:17")) == db  # reload: unchanged


def test_a_status_a_probe_cannot_expect_is_warned():
    config = parse_config(
        None,
        "jobs:\n  x:\n    cmd: ./x\n    type: continuous\n    export: {image: 'x:1'}\n"
        "    health_check: {type: http, url: 'http://127.0.0.1/up', expected_status: 503}\n",
    )
    warnings = [str(w) for w in kubernetes.export(config.jobs).warnings]
    assert "job 'x': health_check.expected_status: a probe passes on 200 to 399" in warnings


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize(
    "cron", ["30 2 * * 1-5", "*/15 * * * *", "0 9-17 * * 1,3", "0 0 13 * 5", "5 4 1 */2 *"]
)
def test_systemd_fires_the_timer_when_cron_would(cron):
    from datetime import UTC, datetime, timedelta

    from croniter import croniter

    for _ in range(2):  # once more if a fire fell between the two clocks read
        now = datetime.now(UTC).replace(microsecond=0)
        fires = set()
        for calendar in on_calendar(cron, "UTC"):
            shown = subprocess.run(
                ["systemd-analyze", "calendar", "--iterations=6", calendar],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
                env={**os.environ, "TZ": "UTC"},
            ).stdout
            for line in shown.splitlines():
                if line.strip().startswith(("Next elapse:", "Iter. #")):
                    stamp = line.split(": ", 1)[1].rsplit(" ", 1)[0]
                    fires.add(datetime.strptime(stamp, "%a %Y-%m-%d %H:%M:%S").replace(tzinfo=UTC))
        schedule = croniter(cron, now)
        expected = [schedule.get_next(datetime) for _ in range(6)]
        if sorted(fires)[:6] == expected or now + timedelta(seconds=2) < datetime.now(UTC):
            break
    assert sorted(fires)[:6] == expected
