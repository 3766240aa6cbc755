"""Jobs added, removed, enabled and disabled at run time: what each change does to the
files, decided before anything is written.

A change is planned on the files as they are now (jobs.yaml, procclaw.yaml and the
drop-ins of jobs.d/, procclaw/config/dropins.py), and the whole config that would
result is validated like a file edit. A change that is refused writes nothing. One that
is accepted writes one file of jobs.d/ (atomically, mode 0600) or deletes one; jobs.yaml
is never written. The controller carries a plan out and applies the new config as a
reload would (actors/controller/job_edits.py); with no daemon, the CLI writes it alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from procclaw.atomic_file import write_atomically
from procclaw.config import Config, ConfigError, Problem, parse_config, read_config_texts
from procclaw.config.dropins import OVERRIDES_FILE, dropin_name
from procclaw.config.jobs import job_id_problem
from procclaw.config.loader import read_dropin_texts
from procclaw.config.yamlsource import LocatedMap, YamlSyntaxError, read_yaml
from procclaw.home import Home
from procclaw.protocol import ErrorCode
from procclaw.suggest import did_you_mean

EDITS = ("add", "remove", "enable", "disable")

_OVERRIDES_HEADER = (
    "# Jobs switched on or off by `procclaw enable` and `procclaw disable`, over what\n"
    "# their own file says. Written by procclaw; delete an entry to undo it.\n"
)


class EditRefused(Exception):
    """The change cannot be made; `code` is the protocol's error code for why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ConfigTexts:
    """The config files' texts, as read or as they will be: jobs.d/ by file name."""

    settings: str | None
    jobs: str | None
    dropins: dict[str, str] = field(default_factory=dict)
    # Not a text but how to read them here: why this machine cannot hold a limits.cpu.
    cpu_refusal: str | None = field(default=None, compare=False)

    @classmethod
    def read(cls, home: Home, cpu_refusal: str | None = None) -> ConfigTexts:
        settings, jobs = read_config_texts(home)
        return cls(settings, jobs, read_dropin_texts(home), cpu_refusal)

    def parse(self, home: Home) -> Config:
        return parse_config(
            self.settings,
            self.jobs,
            str(home.config_file),
            str(home.jobs_file),
            dropins=self.dropins,
            dropins_dir=str(home.jobs_dir),
            cpu_refusal=self.cpu_refusal,
        )


@dataclass(frozen=True)
class EditPlan:
    """What a change writes (file name in jobs.d/ -> text, None to delete), and the
    config and texts that result. No `writes` means nothing to do (`note` says why)."""

    job: str
    texts: ConfigTexts
    config: Config
    writes: dict[str, str | None] = field(default_factory=dict)
    note: str | None = None


def plan_edit(
    home: Home,
    action: str,
    job_id: str,
    text: str = "",
    source: str = "",
    cpu_refusal: str | None = None,
) -> EditPlan:
    """Plan `action` on `job_id`: for `add`, `text` is its drop-in and `source` names
    where the text came from in problems (a file given with -f; "" for none);
    `cpu_refusal` is why a limits.cpu cannot be held here (procclaw/cpu_limits.py).

    Raises EditRefused (the config as it would be is invalid, the id is taken or
    unknown) and ConfigError (a file cannot be read).
    """
    if problem := job_id_problem(job_id):  # it becomes a file name: nothing else may
        if action == "add":
            raise EditRefused(ErrorCode.INVALID_CONFIG, problem)
        raise EditRefused(ErrorCode.NO_SUCH_JOB, f"no job '{job_id}'")
    texts = ConfigTexts.read(home, cpu_refusal)
    if action == "add":
        return _plan_add(home, texts, job_id, text, source)
    if action == "remove":
        return _plan_remove(home, texts, job_id)
    return _plan_switch(home, texts, job_id, enabled=action == "enable")


def carry_out(home: Home, plan: EditPlan) -> list[str]:
    """Write (or delete) the plan's files; the paths touched."""
    home.jobs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    touched = []
    for name, text in plan.writes.items():
        path = home.jobs_dir / name
        assert path.parent == home.jobs_dir, path  # ids were checked: no '/' gets here
        if text is None:
            path.unlink(missing_ok=True)
        else:
            write_atomically(path, text, private=True)
        touched.append(str(path))
    return touched


def dropin_text(job_id: str, keys: dict[str, Any]) -> str:
    """A drop-in holding `keys` (a job's keys from the CLI or the API), with a header
    that says where it came from and how to undo it."""
    body = yaml.safe_dump(keys, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"# Added with `procclaw add` or the API; `procclaw remove {job_id}` removes it.\n{body}"


def _plan_add(home: Home, texts: ConfigTexts, job_id: str, text: str, source: str) -> EditPlan:
    name = dropin_name(job_id)
    if line := jobs_yaml_line(texts.jobs, job_id):
        raise EditRefused(
            ErrorCode.CONFLICT,
            f"job '{job_id}' is already defined at {home.jobs_file}:{line}: choose another id",
        )
    if name in texts.dropins:
        raise EditRefused(
            ErrorCode.CONFLICT,
            f"job '{job_id}' exists already ({home.jobs_dir / name}):"
            f" `procclaw remove {job_id}` first, or edit that file and `procclaw reload`",
        )
    writes: dict[str, str | None] = {name: text}
    overrides = _overrides(home, texts)
    if overrides.pop(job_id, None) is not None:  # left by a job of that id gone by hand
        texts = _with_overrides(texts, overrides)
        writes.update(_overrides_writes(overrides))
    after = replace(texts, dropins={**texts.dropins, name: text})
    config = _validated(home, after, {str(home.jobs_dir / name): source})
    return EditPlan(job_id, after, config, writes)


def _plan_remove(home: Home, texts: ConfigTexts, job_id: str) -> EditPlan:
    name = dropin_name(job_id)
    if line := jobs_yaml_line(texts.jobs, job_id):
        raise EditRefused(
            ErrorCode.CONFLICT,
            f"job '{job_id}' is defined at {home.jobs_file}:{line}, not added with"
            " `procclaw add`: remove it there, then `procclaw reload`",
        )
    if name not in texts.dropins:
        raise _no_such_job(texts, job_id)
    writes: dict[str, str | None] = {name: None}
    overrides = _overrides(home, texts)
    if overrides.pop(job_id, None) is not None:  # a job added again starts afresh
        texts = _with_overrides(texts, overrides)
        writes.update(_overrides_writes(overrides))
    dropins = {key: value for key, value in texts.dropins.items() if key != name}
    after = replace(texts, dropins=dropins)
    return EditPlan(job_id, after, _validated(home, after), writes)


def _plan_switch(home: Home, texts: ConfigTexts, job_id: str, enabled: bool) -> EditPlan:
    now = _validated(home, texts)
    job = now.job(job_id)
    if job is None:
        raise _no_such_job(texts, job_id, now.job_ids)
    if job.enabled == enabled:
        word = "enabled" if enabled else "disabled"
        return EditPlan(job_id, texts, now, note=f"already {word}")
    overrides = _overrides(home, texts)
    overrides.pop(job_id, None)
    without = _with_overrides(texts, overrides)
    own = _validated(home, without).job(job_id)  # as its own file says
    if own is None or own.enabled != enabled:
        overrides[job_id] = enabled
    after = _with_overrides(texts, overrides)
    return EditPlan(job_id, after, _validated(home, after), _overrides_writes(overrides))


def _validated(home: Home, texts: ConfigTexts, sources: dict[str, str] | None = None) -> Config:
    """The config `texts` make; EditRefused with every problem if it is invalid, each
    problem of a file in `sources` named by its source instead (no line for "")."""
    try:
        return texts.parse(home)
    except ConfigError as exc:
        lines = []
        for problem in exc.problems:
            source = (sources or {}).get(problem.file)
            if source is None:
                lines.append(str(problem))
            elif source:
                lines.append(str(Problem(source, problem.line, problem.where, problem.message)))
            else:
                where = f"{problem.where}: " if problem.where else ""
                lines.append(where + problem.message)
        raise EditRefused(ErrorCode.INVALID_CONFIG, "\n".join(lines)) from None


def jobs_yaml_line(jobs_text: str | None, job_id: str) -> int | None:
    """The line where jobs.yaml defines `job_id`, if it does (and can be read)."""
    if not jobs_text:
        return None
    try:
        root = read_yaml(jobs_text).root
    except YamlSyntaxError:
        return None  # the validation that follows names the problem
    jobs = root.get("jobs") if isinstance(root, LocatedMap) else None
    return jobs.key_lines.get(job_id) if isinstance(jobs, LocatedMap) else None


def _no_such_job(texts: ConfigTexts, job_id: str, known: tuple[str, ...] = ()) -> EditRefused:
    names = known or tuple(name.removesuffix(".yaml") for name in texts.dropins)
    return EditRefused(ErrorCode.NO_SUCH_JOB, f"no job '{job_id}'{did_you_mean(job_id, names)}")


def _overrides(home: Home, texts: ConfigTexts) -> dict[str, bool]:
    """jobs.d/.overrides.yaml as a plain map; EditRefused if it is not valid."""
    text = texts.dropins.get(OVERRIDES_FILE)
    if not text:
        return {}
    _validated(home, texts)  # names whatever is wrong with it
    root = read_yaml(text).root
    if not isinstance(root, LocatedMap):
        return {}
    return {
        job_id: value["enabled"]
        for job_id, value in root.items()
        if isinstance(value, dict) and "enabled" in value
    }


def _overrides_writes(overrides: dict[str, bool]) -> dict[str, str | None]:
    if not overrides:
        return {OVERRIDES_FILE: None}
    entries = {job_id: {"enabled": enabled} for job_id, enabled in sorted(overrides.items())}
    return {OVERRIDES_FILE: _OVERRIDES_HEADER + yaml.safe_dump(entries, sort_keys=False)}


def _with_overrides(texts: ConfigTexts, overrides: dict[str, bool]) -> ConfigTexts:
    dropins = {key: value for key, value in texts.dropins.items() if key != OVERRIDES_FILE}
    if text := _overrides_writes(overrides)[OVERRIDES_FILE]:
        dropins[OVERRIDES_FILE] = text
    return replace(texts, dropins=dropins)
