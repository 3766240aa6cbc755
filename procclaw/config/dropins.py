"""Drop-in jobs: `jobs.d/<id>.yaml` beside jobs.yaml, one job per file.

A drop-in holds the keys of one job, as they would sit under its id in jobs.yaml; the
file's name is the job's id. `procclaw add` writes them (and `remove` deletes them), so
a job can be added at run time without rewriting jobs.yaml, comments and all; a person
may write one by hand too. An id that two files define is refused, naming both places.

`jobs.d/.overrides.yaml` holds what `procclaw enable` and `disable` switched, per job
(`web: {enabled: false}`), for any job, wherever it is defined: neither command rewrites
a file the user wrote. An override of a job that no file defines any more is ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from procclaw.config.fields import Fields
from procclaw.config.jobs import JobSource, job_id_problem
from procclaw.config.models import JobConfig
from procclaw.config.problems import PathSegment, ProblemLog, Scope
from procclaw.config.values import boolean, describe
from procclaw.config.yamlsource import LocatedMap

DROPIN_DIR = "jobs.d"
OVERRIDES_FILE = ".overrides.yaml"
OVERRIDE_KEYS = ("enabled",)
# Each file is read whole and parsed at every reload: a directory of thousands is a
# runaway script, not a config.
MAX_DROPINS = 1000
_SUFFIX = ".yaml"
_HINT = " (a drop-in holds one job's keys; the file's name is the job's id)"


def dropin_name(job_id: str) -> str:
    """The file name of `job_id`'s drop-in."""
    return job_id + _SUFFIX


def is_dropin_name(name: str) -> bool:
    """Whether a file in jobs.d is a job: `*.yaml`, not hidden (editors' and our own
    temporary files are hidden)."""
    return name.endswith(_SUFFIX) and not name.startswith(".")


def dropin_scope(name: str) -> Callable[[ProblemLog, tuple[PathSegment, ...]], Scope]:
    """How the problems of drop-in `name` name their place: `job 'web'`, then the key
    path."""
    job_id = name.removesuffix(_SUFFIX)

    def scope_for(log: ProblemLog, path: tuple[PathSegment, ...]) -> Scope:
        return Scope(log, f"job '{job_id}'", path)

    return scope_for


def dropin_source(
    name: str, root: Any, log: ProblemLog, defined: Mapping[str, JobSource]
) -> JobSource | None:
    """The job of drop-in `name` (its parsed `root`), or None when it cannot be one: its
    name is not an id, or `defined` (the jobs read before it) has that id already."""
    job_id = name.removesuffix(_SUFFIX)
    if problem := job_id_problem(job_id):
        log.add(None, "", f"the file's name is the job's id: {problem}")
        return None
    if job_id in defined:
        log.add(
            1,
            f"job '{job_id}'",
            f"already defined at {defined[job_id].place}: keep one of the two",
        )
        return None
    return JobSource(job_id, root, 1, Scope(log, f"job '{job_id}'"), _HINT)


def read_overrides(root: Any, log: ProblemLog) -> dict[str, bool]:
    """Each job's `enabled` as switched by `enable` / `disable`."""
    if root is None:
        return {}
    if not isinstance(root, LocatedMap):
        log.add(1, "", f"expected a mapping of job ids, got {describe(root)}")
        return {}
    overrides = {}
    for job_id, value in root.items():
        scope = Scope(log, f"job '{job_id}'")
        fields = Fields(scope, value, root.key_lines[job_id], OVERRIDE_KEYS)
        enabled = fields.get("enabled", boolean, None)
        if enabled is not None:
            overrides[job_id] = enabled
    return overrides


def apply_overrides(
    jobs: Sequence[JobConfig], overrides: Mapping[str, bool]
) -> tuple[JobConfig, ...]:
    """The jobs with their overridden `enabled`."""
    return tuple(
        dataclasses.replace(job, enabled=overrides[job.id])
        if job.id in overrides and overrides[job.id] != job.enabled
        else job
        for job in jobs
    )
