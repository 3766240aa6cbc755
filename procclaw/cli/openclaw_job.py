"""`procclaw init --openclaw`: the gateway job's port, and the job added to an existing
jobs.yaml.

The port is the one OpenClaw's config gives its gateway, so the job, its health check
and `openclaw.gateway.url` agree with OpenClaw's own CLI. The job's text is appended,
comments and all, so the rest of the file stays exactly as the user wrote it; the
result is validated before it replaces the file.
"""

from __future__ import annotations

import re
import sys
from urllib.parse import urlsplit

from procclaw.atomic_file import write_atomically
from procclaw.cli.errors import CliFailure
from procclaw.config import (
    OPENCLAW_GATEWAY_JOB_ID,
    ConfigError,
    load_config,
    openclaw_gateway_job,
    parse_config,
)
from procclaw.config.models import local_gateway_url
from procclaw.home import Home
from procclaw.openclaw.gateway_port import openclaw_gateway_port
from procclaw.openclaw.workspace import openclaw_config_file

_NO_JOBS = re.compile(r"^jobs:[ \t]*\{[ \t]*\}(?P<rest>[ \t]*(#.*)?)$", re.MULTILINE)


def add_gateway_job(home: Home) -> int:
    try:
        config = load_config(home)
    except ConfigError as exc:
        print(exc)
        raise CliFailure("fix the config, then run `procclaw init --openclaw` again") from None
    path = home.jobs_file
    if config.job(OPENCLAW_GATEWAY_JOB_ID) is not None:
        print(f"{path} already has the job '{OPENCLAW_GATEWAY_JOB_ID}'")
        return 0
    port = gateway_port_for_job()
    job = openclaw_gateway_job(port)
    text = path.read_text()
    head = text.rstrip("\n") + "\n\n" if text.strip() else ""
    # A file without jobs may hold only comments, or a bare `jobs:` to add to.
    candidates = [head + job]
    if not config.jobs:
        candidates.insert(0, head + "jobs:\n" + job)
        # `jobs: {}`, the README's way to say "no jobs", opens up to take one.
        candidates.insert(1, _NO_JOBS.sub(r"jobs:\g<rest>", head) + job)
    settings = home.config_file.read_text() if home.config_file.exists() else None
    updated = next((c for c in candidates if _valid(settings, c, home)), None)
    if updated is None:
        raise CliFailure(
            f"cannot append the gateway job to {path} (its jobs are not the last block):"
            f" add it under `jobs:` by hand:\n{job}"
        )
    write_atomically(path, updated, private=True)
    print(f"added the job '{OPENCLAW_GATEWAY_JOB_ID}' to {path}")
    _warn_if_alerts_miss_the_port(home, config.settings.openclaw.gateway.url, port)
    print("next: restart the daemon (or reload its config) to start it")
    return 0


def gateway_port_for_job() -> int:
    """The port from OpenClaw's config; says on stderr, in one line, why it is a fallback
    when the config is missing (the gateway would exit 78 at once) or unreadable."""
    config_file = openclaw_config_file()
    found = openclaw_gateway_port(config_file)
    if not config_file.exists():
        print(
            f"warning: OpenClaw is not set up here ({config_file} does not exist): run"
            " `openclaw onboard` before the daemon starts the gateway, or it fails at"
            " once with exit code 78",
            file=sys.stderr,
        )
    elif found.unread_because:
        print(
            f"warning: cannot read the gateway's port from {config_file}"
            f" ({found.unread_because}): the job uses port {found.number}",
            file=sys.stderr,
        )
    return found.number


def _warn_if_alerts_miss_the_port(home: Home, url: str, port: int) -> None:
    """An existing procclaw.yaml is left as it is: say when its gateway URL is elsewhere."""
    try:
        url_port = urlsplit(url).port or (443 if url.startswith("https:") else 80)
    except ValueError:
        url_port = None
    if url_port != port:
        print(
            f"warning: openclaw.gateway.url is {url}, but the gateway job listens on port"
            f" {port}: set `url: {local_gateway_url(port)}` under openclaw.gateway in"
            f" {home.config_file}",
            file=sys.stderr,
        )


def _valid(settings: str | None, jobs: str, home: Home) -> bool:
    try:
        parse_config(settings, jobs, str(home.config_file), str(home.jobs_file))
    except ConfigError:
        return False
    return True
