"""Which jobs a command means: the ones it names, and those carrying a `--tag`.

`procclaw stop api --tag web` acts on `api` and on every job tagged `web`, as if each
were named. The CLI resolves tags from the job list (the daemon's, or the config's when
the daemon is down), so the daemon keeps one way of acting on several jobs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from procclaw.cli.errors import CliFailure


def chosen_jobs(
    jobs: Sequence[dict[str, Any]], names: Iterable[str], tags: Iterable[str]
) -> list[str]:
    """The named jobs, then every job carrying one of `tags` in config order, each once."""
    from procclaw.job_tags import UnknownTag, tagged

    try:
        return list(dict.fromkeys([*names, *tagged(jobs, tags)]))
    except UnknownTag as exc:
        raise CliFailure(str(exc)) from None


def config_jobs(home) -> list[dict[str, Any]] | None:
    """Each job's id and tags: the daemon's when it runs, else the config's; None when
    neither can be read."""
    from procclaw.client import Client, ClientError
    from procclaw.config import ConfigError, load_config

    client = Client(home)
    try:
        if client.daemon_pid():
            return [{"id": job["id"], "tags": job["tags"]} for job in client.call("list")]
    except ClientError:
        pass  # the daemon is stopping or busy: the config says the same
    try:
        return [{"id": job.id, "tags": list(job.tags)} for job in load_config(home).jobs]
    except ConfigError:
        return None


def require_known(job_ids: Iterable[str], known: Iterable[str]) -> None:
    """Refuse the first name that is not a job, with the nearest one that is."""
    from procclaw.suggest import did_you_mean

    known = list(known)
    for job_id in job_ids:
        if job_id not in known:
            raise CliFailure(f"no job '{job_id}'{did_you_mean(job_id, known)}")
