"""`procclaw init --openclaw` on an existing jobs.yaml: add the OpenClaw gateway job.

The job's text is appended, comments and all, so the rest of the file stays exactly as
the user wrote it; the result is validated before it replaces the file.
"""

from __future__ import annotations

import re
import sys

from procclaw.atomic_file import write_atomically
from procclaw.cli.errors import CliFailure
from procclaw.config import (
    OPENCLAW_GATEWAY_JOB,
    OPENCLAW_GATEWAY_JOB_ID,
    ConfigError,
    load_config,
    parse_config,
)
from procclaw.home import Home
from procclaw.openclaw.workspace import openclaw_state_dir

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
    text = path.read_text()
    head = text.rstrip("\n") + "\n\n" if text.strip() else ""
    # A file without jobs may hold only comments, or a bare `jobs:` to add to.
    candidates = [head + OPENCLAW_GATEWAY_JOB]
    if not config.jobs:
        candidates.insert(0, head + "jobs:\n" + OPENCLAW_GATEWAY_JOB)
        # `jobs: {}`, the README's way to say "no jobs", opens up to take one.
        candidates.insert(1, _NO_JOBS.sub(r"jobs:\g<rest>", head) + OPENCLAW_GATEWAY_JOB)
    settings = home.config_file.read_text() if home.config_file.exists() else None
    updated = next((c for c in candidates if _valid(settings, c, home)), None)
    if updated is None:
        raise CliFailure(
            f"cannot append the gateway job to {path} (its jobs are not the last block):"
            f" add it under `jobs:` by hand:\n{OPENCLAW_GATEWAY_JOB}"
        )
    write_atomically(path, updated, private=True)
    print(f"added the job '{OPENCLAW_GATEWAY_JOB_ID}' to {path}")
    warn_if_openclaw_is_not_set_up()
    print("next: restart the daemon (or reload its config) to start it")
    return 0


def warn_if_openclaw_is_not_set_up() -> None:
    """A gateway without its config exits 78 at once: say what to do before that."""
    config = openclaw_state_dir() / "openclaw.json"
    if not config.exists():
        print(
            f"warning: OpenClaw is not set up here ({config} does not exist): run"
            " `openclaw onboard` before the daemon starts the gateway, or it fails at"
            " once with exit code 78",
            file=sys.stderr,
        )


def _valid(settings: str | None, jobs: str, home: Home) -> bool:
    try:
        parse_config(settings, jobs, str(home.config_file), str(home.jobs_file))
    except ConfigError:
        return False
    return True
