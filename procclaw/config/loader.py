"""Turn the texts of procclaw.yaml and jobs.yaml into one validated `Config`.

Both files are read to the end whatever goes wrong, so a `ConfigError` lists every
problem in both of them: settings first, then jobs, each in line order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from procclaw.config.dependencies import check_cycles
from procclaw.config.jobs import job_scope, read_jobs
from procclaw.config.models import Config
from procclaw.config.problems import ConfigError, PathSegment, Problem, ProblemLog, Scope
from procclaw.config.settings import read_settings, settings_scope
from procclaw.config.yamlsource import YamlSyntaxError, read_yaml
from procclaw.home import Home

ScopeForPath = Callable[[ProblemLog, tuple[PathSegment, ...]], Scope]


def load_config(home: Home) -> Config:
    """Read and validate the config files under `home`; a missing file means defaults."""
    paths = (home.config_file, home.jobs_file)
    texts: list[str | None] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            texts.append(_read_text(path))
        except OSError as err:
            problems.append(
                Problem(str(path), None, "", f"cannot read the file: {err.strerror or err}")
            )
            texts.append(None)
    try:
        config = parse_config(texts[0], texts[1], str(paths[0]), str(paths[1]))
    except ConfigError as err:
        problems.extend(err.problems)
    if problems:
        raise ConfigError(tuple(problems))
    return config


def parse_config(
    settings_text: str | None,
    jobs_text: str | None,
    settings_name: str = "procclaw.yaml",
    jobs_name: str = "jobs.yaml",
) -> Config:
    """Validate the two files' texts (None for a file that does not exist).

    Raises ConfigError listing every problem; `*_name` is how problems name the files.
    """
    settings_log, jobs_log = ProblemLog(settings_name), ProblemLog(jobs_name)
    settings = read_settings(_parse(settings_text, settings_log, settings_scope), settings_log)
    jobs = read_jobs(_parse(jobs_text, jobs_log, job_scope), jobs_log, settings.defaults)
    check_cycles(jobs, jobs_log)
    problems = settings_log.sorted() + jobs_log.sorted()
    if problems:
        raise ConfigError(tuple(problems))
    return Config(settings=settings, jobs=tuple(job.config for job in jobs))


def _parse(text: str | None, log: ProblemLog, scope_for: ScopeForPath) -> Any:
    """The file's top-level value, or None when it is absent, empty or not YAML."""
    if text is None:
        return None
    try:
        document = read_yaml(text)
    except YamlSyntaxError as err:
        log.add(err.line, "", f"invalid YAML: {err.message}")
        return None
    for issue in document.issues:
        scope_for(log, issue.path).error(issue.line, issue.message)
    return document.root


def _read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OSError(f"not UTF-8 text (byte {err.start})") from None
