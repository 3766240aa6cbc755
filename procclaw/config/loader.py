"""Turn the texts of procclaw.yaml, jobs.yaml and the drop-ins in jobs.d/ into one
validated `Config`.

Every file is read to the end whatever goes wrong, so a `ConfigError` lists every
problem in all of them: settings first, then jobs, then each drop-in by name, each in
line order. A drop-in is read with the same guards as jobs.yaml (size, UTF-8, plain
YAML); its format is in procclaw/config/dropins.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from procclaw.config.dependencies import check_cycles
from procclaw.config.dropins import (
    DROPIN_DIR,
    MAX_DROPINS,
    OVERRIDES_FILE,
    apply_overrides,
    dropin_scope,
    dropin_source,
    is_dropin_name,
    read_overrides,
)
from procclaw.config.jobs import job_scope, job_sources, read_jobs
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
        dropins = read_dropin_texts(home)
    except ConfigError as err:
        problems.extend(err.problems)
        dropins = {}
    try:
        config = parse_config(
            settings_text,
            jobs_text,
            str(home.config_file),
            str(home.jobs_file),
            dropins=dropins,
            dropins_dir=str(home.jobs_dir),
            cpu_refusal=cpu_refusal,
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


def read_config_file(path: str | Path) -> str:
    """The text of one file given on the command line (`add -f`), read with the same
    guards as jobs.yaml; ConfigError naming it when it cannot be used or is missing."""
    try:
        text = _read_text(Path(path))
    except _Unreadable as err:
        raise ConfigError((Problem(str(path), err.line, "", err.message),)) from None
    if text is None:
        raise ConfigError((Problem(str(path), None, "", "no such file"),))
    return text


def read_dropin_texts(home: Home) -> dict[str, str]:
    """The texts of the drop-ins in jobs.d/ (and of its overrides), by file name.

    Raises ConfigError naming each file that read_config_texts would refuse, and a
    folder holding more than MAX_DROPINS of them.
    """
    directory = home.jobs_dir
    try:
        names = sorted(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as err:
        problem = Problem(str(directory), None, "", f"cannot read the folder: {err.strerror}")
        raise ConfigError((problem,)) from None
    names = [name for name in names if is_dropin_name(name) or name == OVERRIDES_FILE]
    if len(names) > MAX_DROPINS:
        message = f"holds {len(names)} drop-ins, more than the {MAX_DROPINS} allowed"
        raise ConfigError((Problem(str(directory), None, "", message),))
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for name in names:
        path = directory / name
        try:
            if not path.is_file():  # a FIFO would block the read for ever
                raise _Unreadable(None, "not a regular file")
            text = _read_text(path)
        except _Unreadable as err:
            problems.append(Problem(str(path), err.line, "", err.message))
            continue
        if text is not None:
            texts[name] = text
    if problems:
        raise ConfigError(tuple(problems))
    return texts


def parse_config(
    settings_text: str | None,
    jobs_text: str | None,
    settings_name: str = "procclaw.yaml",
    jobs_name: str = "jobs.yaml",
    *,
    dropins: Mapping[str, str] | None = None,
    dropins_dir: str = DROPIN_DIR,
    cpu_refusal: str | None = None,
) -> Config:
    """Validate the files' texts (None for a file that does not exist); `dropins` are
    the texts of jobs.d/ by file name (read_dropin_texts).

    Raises ConfigError listing every problem; `*_name` and `dropins_dir` are how
    problems name the files, `cpu_refusal` why a `limits.cpu` cannot be held here
    (None: it can).
    """
    settings_log, jobs_log = ProblemLog(settings_name), ProblemLog(jobs_name)
    settings = read_settings(
        _parse(settings_text, settings_log, settings_scope), settings_log, cpu_refusal
    )
    sources = job_sources(_parse(jobs_text, jobs_log, job_scope), jobs_log)
    logs = [settings_log, jobs_log]
    overrides: dict[str, bool] = {}
    defined = {source.job_id: source for source in sources}
    for name, text in sorted((dropins or {}).items()):
        log = ProblemLog(os.path.join(dropins_dir, name))
        logs.append(log)
        if name == OVERRIDES_FILE:
            overrides = read_overrides(_parse(text, log, job_scope), log)
            continue
        root = _parse(text, log, dropin_scope(name))
        if root is None and log.problems:
            continue  # not YAML: a job read from nothing would only add noise
        source = dropin_source(name, root, log, defined)
        if source is not None:
            sources.append(source)
            defined[source.job_id] = source
    jobs = read_jobs(sources, settings.defaults, settings.openclaw.alerts, cpu_refusal)
    check_cycles(jobs)
    problems = [problem for log in logs for problem in log.sorted()]
    if problems:
        raise ConfigError(tuple(problems))
    return Config(settings=settings, jobs=apply_overrides([job.config for job in jobs], overrides))


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
