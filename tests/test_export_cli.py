"""`procclaw export` at the command line: printing, writing, --strict, --json, and no
secret value in anything it prints or writes, whatever the keyring holds."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "export_samples"
# Values no export may show: set in the keyring for the sample's secrets.
SECRET_VALUES = {
    "API_KEY": "k3y-value-that-must-not-leak",
    "API_TOKEN": "t0ken-value-that-must-not-leak",
    "DB_PASSWORD": "pa55word-that-must-not-leak",
}


@pytest.fixture
def home(sandbox):
    for name in ("jobs.yaml", "procclaw.yaml"):
        sandbox.write(name, (SAMPLES / name).read_text())
    return sandbox


def test_no_secret_value_appears_in_any_export_printed_or_written(home, disk_keyring):
    for name, value in SECRET_VALUES.items():
        home.cli("secret", "set", name, value, check=True)
    assert (
        home.cli("secret", "get", "API_KEY", "--show", check=True).stdout.strip()
        == (SECRET_VALUES["API_KEY"])
    )
    for target in ("systemd", "kubernetes", "nomad", "compose"):
        printed = home.cli("export", target, check=True)
        as_json = home.cli("export", target, "--json", check=True)
        out = home.home.root / f"out-{target}"
        home.cli("export", target, "-o", str(out), check=True)
        texts = [printed.stdout, printed.stderr, as_json.stdout, as_json.stderr]
        texts += [path.read_text() for path in out.iterdir()]
        assert "API_TOKEN" in "".join(texts)  # the name is there, as a reference
        for value in SECRET_VALUES.values():
            assert all(value not in text for text in texts), f"{target} shows a secret value"


def test_output_directory_gets_private_files_and_a_line_per_file(home):
    out = home.home.root / "units"
    result = home.cli("export", "systemd", "--tag", "back", "-o", str(out), check=True)
    written = sorted(path.name for path in out.iterdir())
    assert written == ["db.service", "migrate.service", "worker.service"]
    assert result.stdout.splitlines() == [f"wrote {out / name}" for name in written]
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in out.iterdir())


def test_warnings_go_to_stderr_and_strict_refuses_writing_nothing(home):
    result = home.cli("export", "kubernetes", "--job", "ticker", "--json")
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "procclaw: warning: job 'ticker': health_check (output): Kubernetes has no such check",
        "procclaw: warning: job 'ticker': on_overlap: queue: a CronJob has no queue: it skips"
        " the run",
    ]
    document = json.loads(result.stdout)
    assert list(document["files"]) == ["ticker.yaml"]
    assert document["warnings"][1] == {
        "job": "ticker",
        "feature": "on_overlap: queue",
        "why": "a CronJob has no queue: it skips the run",
    }
    out = home.home.root / "k8s"
    strict = home.cli("export", "kubernetes", "--job", "ticker", "--strict", "-o", str(out))
    assert strict.returncode == 1
    assert strict.stderr.splitlines()[-1] == (
        "procclaw: nothing exported: kubernetes cannot express 2 things above (--strict)"
    )
    assert not out.exists()
    clean = home.cli("export", "systemd", "--job", "db", "--strict", check=True)
    assert clean.stderr == "" and clean.stdout.startswith("# db.service")


def test_kubernetes_prints_one_stream_of_documents_and_others_name_each_file(home):
    manifests = home.cli("export", "kubernetes", "--tag", "back", check=True).stdout
    assert manifests.count("\n---\n") == 2
    units = home.cli("export", "systemd", "--job", "report", check=True).stdout
    assert units.startswith("==> report.service <==\n# report.service")
    assert "\n\n==> report.timer <==\n# report.timer" in units


def test_refusals_are_one_line_each(home):
    home.write("procclaw.yaml", "defaults: {}\n")
    no_image = home.cli("export", "compose")
    assert no_image.returncode == 1
    assert no_image.stderr == (
        "procclaw: job 'migrate' has no container image for compose: give --image, or set"
        " export.image in the job (or in defaults)\n"
    )
    bad_image = home.cli("export", "compose", "--image", "Not An Image")
    assert bad_image.returncode == 2
    assert bad_image.stderr == (
        "procclaw: --image expected a container image like 'python:3.12-slim' or"
        " 'ghcr.io/me/api:1.4', got 'Not An Image'\n"
    )
    unknown = home.cli("export", "nomad", "--job", "reprot")
    assert unknown.stderr == "procclaw: no job 'reprot' (did you mean 'report'?)\n"
    home.write("jobs.yaml", "jobs:\n  a:\n    cmd: x\n    export: {image: 'Bad Image'}\n")
    bad = home.cli("export", "systemd")
    assert bad.returncode == 1
    assert "jobs.yaml:4: job 'a': export.image: expected a container image" in bad.stderr
    assert bad.stderr.endswith("procclaw: nothing exported: fix the config above\n")
