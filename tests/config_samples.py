"""Parsing config text in tests: the jobs and settings files as strings."""

from __future__ import annotations

from textwrap import dedent, indent

import pytest

from procclaw.config import Config, ConfigError, JobConfig, parse_config


def parse(settings: str | None = None, jobs: str | None = None) -> Config:
    return parse_config(
        dedent(settings) if settings is not None else None,
        dedent(jobs) if jobs is not None else None,
    )


def problems(settings: str | None = None, jobs: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(settings, jobs)
    return [str(problem) for problem in caught.value.problems]


def one_job(body: str, settings: str | None = None) -> JobConfig:
    """Parse a file holding the single job `j` with the given (indented) body."""
    config = parse(settings, "jobs:\n  j:\n" + indent(dedent(body), "    "))
    [job] = config.jobs
    return job
