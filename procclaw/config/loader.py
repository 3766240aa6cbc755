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

# A config this large is a mistake (a log pasted in, a generator run away), and reading
# it would hold the controller for seconds: refused with a clear message instead.
MAX_CONFIG_BYTES = 1024**2

ScopeForPath = Callable[[ProblemLog, tuple[PathSegment, ...]], Scope]


def load_config(home: Home, cpu_refusal: str | None = None) -> Config:
    """Read and validate the config files under `home`; a missing file means defaults.

    `cpu_refusal` is why this machine cannot hold `limits.cpu` (None where it can, or
    where the question does not matter, as for a config only read)."""
    problems: list[Problem] = []
    try:
        settings_text, jobs_text = read_config_texts(home)
    except ConfigError as err:
        problems.extend(err.problems)
        settings_text = jobs_text = None
    try:
        config = parse_config(
            settings_text, jobs_text, str(home.config_file), str(home.jobs_file), cpu_refusal
        )
    except ConfigError as err:
        problems.extend(err.problems)
    if problems:
        raise ConfigError(tuple(problems))
    return config


def read_config_texts(home: Home) -> tuple[str | None, str | None]:
    """The texts of procclaw.yaml and jobs.yaml (None for a file that does not exist).

    Raises ConfigError naming each file that is unreadable, larger than MAX_CONFIG_BYTES
    or not UTF-8, so that the CLI and the daemon refuse the same files in the same words.
    """
    texts: list[str | None] = []
    problems: list[Problem] = []
    for path in (home.config_file, home.jobs_file):
        try:
            texts.append(_read_text(path))
        except _Unreadable as err:
            problems.append(Problem(str(path), err.line, "", err.message))
            texts.append(None)
    if problems:
        raise ConfigError(tuple(problems))
    return texts[0], texts[1]


def parse_config(
    settings_text: str | None,
    jobs_text: str | None,
    settings_name: str = "procclaw.yaml",
    jobs_name: str = "jobs.yaml",
    cpu_refusal: str | None = None,
) -> Config:
    """Validate the two files' texts (None for a file that does not exist).

    Raises ConfigError listing every problem; `*_name` is how problems name the files,
    `cpu_refusal` why a `limits.cpu` cannot be held here (None: it can).
    """
    settings_log, jobs_log = ProblemLog(settings_name), ProblemLog(jobs_name)
    settings = read_settings(
        _parse(settings_text, settings_log, settings_scope), settings_log, cpu_refusal
    )
    jobs = read_jobs(
        _parse(jobs_text, jobs_log, job_scope),
        jobs_log,
        settings.defaults,
        settings.openclaw.alerts,
        cpu_refusal,
    )
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


class _Unreadable(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _read_text(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise _Unreadable(None, f"cannot read the file: {err.strerror or err}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise _Unreadable(
            None,
            f"larger than {MAX_CONFIG_BYTES // 1024**2} MiB, the most a config file may be",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        byte = raw[err.start]
        raise _Unreadable(
            line, f"not UTF-8 text: byte 0x{byte:02x} at column {column}; save the file as UTF-8"
        ) from None
