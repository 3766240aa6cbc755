"""`procclaw init --openclaw`: the gateway job, on the port OpenClaw's config gives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from procclaw.config import OPENCLAW_GATEWAY_JOB_ID, load_config
from procclaw.openclaw.gateway_port import default_gateway_port, openclaw_gateway_port


def onboarded_config(port: int) -> str:
    """openclaw.json as `openclaw onboard --gateway-port <port>` writes it (2026.9.6)."""
    return json.dumps(
        {
            "agents": {"defaults": {"workspace": "/tmp/oc/workspace"}},
            "meta": {"lastTouchedVersion": "2026.9.6"},
            "gateway": {
                "mode": "local",
                "auth": {"mode": "token", "token": "T"},
                "port": port,
                "bind": "loopback",
                "tailscale": {"mode": "off"},
            },
            "tools": {"profile": "full"},
        },
        indent=2,
    )


def openclaw_json(sandbox) -> Path:
    config = sandbox.home.root / "openclaw-state" / "openclaw.json"
    config.parent.mkdir(exist_ok=True)
    return config


def gateway_job_port(sandbox) -> tuple[str, str | None, str]:
    config = load_config(sandbox.home)
    job = config.job(OPENCLAW_GATEWAY_JOB_ID)
    return job.cmd, job.health_check.url, config.settings.openclaw.gateway.url


def test_init_openclaw_writes_a_valid_config_with_the_gateway_job(sandbox):
    sandbox.cli("init", "--openclaw", check=True)
    assert "config is valid: 3 jobs" in sandbox.cli("config", "--validate", check=True).stdout
    job = load_config(sandbox.home).job(OPENCLAW_GATEWAY_JOB_ID)
    assert job.cmd == "openclaw gateway --port 18789" and job.type == "continuous"
    assert (job.health_check.type, job.health_check.url) == (
        "http",
        "http://127.0.0.1:18789/healthz",
    )
    assert (job.retry.delays, job.retry.max_attempts) == ((1, 2, 5, 10), 4)
    assert (job.restart, job.shutdown.grace_period, dict(job.env)) == (
        "on-failure",
        330.0,
        {"NO_COLOR": "1", "OPENCLAW_NO_RESPAWN": "1"},
    )


def test_init_openclaw_uses_the_port_in_openclaws_config(sandbox):
    openclaw_json(sandbox).write_text(onboarded_config(19001))
    result = sandbox.cli("init", "--openclaw", check=True)
    assert result.stderr == ""
    assert gateway_job_port(sandbox) == (
        "openclaw gateway --port 19001",
        "http://127.0.0.1:19001/healthz",
        "http://127.0.0.1:19001",
    )


def test_init_openclaw_reads_a_hand_edited_json5_config(sandbox):
    openclaw_json(sandbox).write_text(
        "// edited by hand\n{\n  gateway: {\n    mode: 'local',\n"
        "    port: 19002, // mine\n  },\n}\n"
    )
    assert sandbox.cli("init", "--openclaw", check=True).stderr == ""
    assert gateway_job_port(sandbox)[0] == "openclaw gateway --port 19002"


def test_init_openclaw_uses_openclaw_config_path_when_set(sandbox):
    elsewhere = sandbox.home.root / "elsewhere.json"
    elsewhere.write_text(onboarded_config(19003))
    sandbox.env["OPENCLAW_CONFIG_PATH"] = str(elsewhere)
    assert sandbox.cli("init", "--openclaw", check=True).stderr == ""
    assert gateway_job_port(sandbox)[0] == "openclaw gateway --port 19003"


def test_init_openclaw_with_a_garbled_openclaw_json_warns_and_uses_18789(sandbox):
    config = openclaw_json(sandbox)
    config.write_text('{\n  "gateway": {\n    "port": 19001\n')  # cut short
    result = sandbox.cli("init", "--openclaw")
    assert result.returncode == 0
    assert result.stderr == (
        f"warning: cannot read the gateway's port from {config} (not JSON5: line 4:"
        " unexpected end of input at column 1): the job uses port 18789\n"
    )
    assert gateway_job_port(sandbox) == (
        "openclaw gateway --port 18789",
        "http://127.0.0.1:18789/healthz",
        "http://127.0.0.1:18789",
    )


def test_init_openclaw_warns_when_openclaw_is_not_set_up_here(sandbox):
    config = sandbox.home.root / "openclaw-state" / "openclaw.json"
    result = sandbox.cli("init", "--openclaw", check=True)
    assert result.stderr == (
        f"warning: OpenClaw is not set up here ({config} does not exist): run `openclaw"
        " onboard` before the daemon starts the gateway, or it fails at once with exit code 78\n"
    )
    assert gateway_job_port(sandbox)[0] == "openclaw gateway --port 18789"
    config.parent.mkdir()
    config.write_text("{}")
    assert sandbox.cli("init", "--openclaw", "--force", check=True).stderr == ""


def test_init_openclaw_opens_an_empty_jobs_mapping_to_add_the_job(sandbox):
    sandbox.write("jobs.yaml", "# nothing yet\njobs: {}  # none\n")
    sandbox.cli("init", "--openclaw", check=True)
    assert sandbox.home.jobs_file.read_text().startswith("# nothing yet\njobs:  # none\n")
    assert load_config(sandbox.home).job_ids == (OPENCLAW_GATEWAY_JOB_ID,)


def test_init_openclaw_adds_the_job_to_existing_jobs_once(sandbox):
    sandbox.write("jobs.yaml", "# my jobs\njobs:\n  web:\n    cmd: python -m http.server\n")
    result = sandbox.cli("init", "--openclaw", check=True)
    assert f"added the job '{OPENCLAW_GATEWAY_JOB_ID}'" in result.stdout
    text = sandbox.home.jobs_file.read_text()
    assert text.startswith("# my jobs\njobs:\n  web:\n    cmd: python -m http.server\n\n")
    assert load_config(sandbox.home).job_ids == ("web", OPENCLAW_GATEWAY_JOB_ID)
    again = sandbox.cli("init", "--openclaw", check=True)
    assert "already has the job" in again.stdout
    assert sandbox.home.jobs_file.read_text() == text


def test_init_openclaw_added_to_existing_files_says_when_the_alert_url_is_elsewhere(sandbox):
    openclaw_json(sandbox).write_text(onboarded_config(19001))
    sandbox.write("procclaw.yaml", "openclaw:\n  enabled: true\n")
    sandbox.write("jobs.yaml", "jobs: {}\n")
    result = sandbox.cli("init", "--openclaw", check=True)
    assert result.stderr == (
        "warning: openclaw.gateway.url is http://127.0.0.1:18789, but the gateway job listens"
        " on port 19001: set `url: http://127.0.0.1:19001` under openclaw.gateway in"
        f" {sandbox.home.config_file}\n"
    )
    assert gateway_job_port(sandbox)[:2] == (
        "openclaw gateway --port 19001",
        "http://127.0.0.1:19001/healthz",
    )


def test_init_openclaw_added_to_existing_files_is_quiet_when_the_url_agrees(sandbox):
    openclaw_json(sandbox).write_text(onboarded_config(19001))
    sandbox.write("procclaw.yaml", "openclaw:\n  gateway:\n    url: http://localhost:19001\n")
    sandbox.write("jobs.yaml", "jobs: {}\n")
    assert sandbox.cli("init", "--openclaw", check=True).stderr == ""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{ gateway: { port: 19001 ", "not JSON5: line 1: unexpected end of input at column 26"),
        (b'{"gateway": {"port": 19001}}\xff', "not UTF-8 text"),
        (b"[19001]", "not a JSON5 object"),
        (b'{"gateway": {"port": "19001"}}', "gateway.port is '19001', not a port number"),
        (b'{"gateway": {"port": 70000}}', "gateway.port is 70000, not a port number"),
        (b'{"gateway": {"port": true}}', "gateway.port is True, not a port number"),
        (b"[" * 100_000, "not JSON5: nested too deep"),
    ],
)
def test_an_unusable_openclaw_json_gives_18789_and_the_reason(tmp_path, content, reason):
    config = tmp_path / "openclaw.json"
    config.write_bytes(content)
    found = openclaw_gateway_port(config, {})
    assert (found.number, found.unread_because) == (18789, reason)


def test_an_openclaw_json_that_is_a_directory_gives_the_reason(tmp_path):
    (tmp_path / "openclaw.json").mkdir()
    found = openclaw_gateway_port(tmp_path / "openclaw.json", {})
    assert (found.number, found.unread_because) == (18789, "Is a directory")


def test_without_a_port_openclaw_json_gives_openclaws_default_for_the_profile(tmp_path):
    config = tmp_path / "openclaw.json"
    config.write_text('{"gateway": {"mode": "local"}}')
    assert openclaw_gateway_port(config, {}).number == 18789
    assert openclaw_gateway_port(tmp_path / "missing.json", {}).number == 18789
    # OpenClaw's own derivation (FNV-1a of the name into 20000-59999) for profile "work".
    found = openclaw_gateway_port(config, {"OPENCLAW_PROFILE": "work"})
    assert (found.number, found.unread_because) == (41984, None)
    assert default_gateway_port("default") == default_gateway_port(" ") == 18789
    assert default_gateway_port("not a profile name") == 18789
