"""Checking imported jobs and writing them as drop-ins, `jobs.d/<id>.yaml`.

Each drop-in holds one job's keys, as `procclaw add` writes them
(procclaw/config/dropins.py). Before anything is written, the config as it would be,
jobs.yaml, the drop-ins there are and the imported ones together, is read with the
config's own parser (so a drop-in that is written is one the daemon accepts), and an id
that is taken is refused, naming the file (and line) that has it. Writing is all or
nothing as far as the checks go, and each file is replaced whole (mode 0600).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from procclaw.config import ConfigError
from procclaw.config.dropins import dropin_name
from procclaw.exporters.export_plan import yaml_text
from procclaw.home import Home
from procclaw.importers.imported import ImportedJob, ImportRefused
from procclaw.job_edits import ConfigTexts, jobs_yaml_line


def drop_in_path(home: Home, job_id: str) -> Path:
    return home.jobs_dir / dropin_name(job_id)


def drop_in_text(job: ImportedJob, source: str) -> str:
    """The drop-in for `job`: a comment saying where it came from, then the job."""
    notes = [f"# Imported from {source} by `procclaw import`.", *(f"# {n}" for n in job.notes)]
    return "\n".join(notes) + "\n" + yaml_text(job.body)


def check_drop_ins(home: Home, jobs: Sequence[ImportedJob], source: str) -> dict[Path, str]:
    """The drop-ins to write (path -> text), once every job reads as valid config and
    no id is taken; else ImportRefused with every problem, one per line."""
    try:
        texts = ConfigTexts.read(home)
    except ConfigError as err:
        raise ImportRefused(f"nothing imported: the config cannot be read:\n{err}") from None
    problems = []
    added: dict[str, str] = {}
    for job in jobs:
        name = dropin_name(job.id)
        if name in added:
            problems.append(f"two imported jobs would be '{job.id}': rename one in {source}")
        elif line := jobs_yaml_line(texts.jobs, job.id):
            problems.append(f"{home.jobs_file}:{line}: job '{job.id}' exists already")
        elif name in texts.dropins:
            problems.append(f"{drop_in_path(home, job.id)}: job '{job.id}' exists already")
        added[name] = drop_in_text(job, source)
    if not problems:
        try:
            replace(texts, dropins={**texts.dropins, **added}).parse(home)
        except ConfigError as err:
            problems.extend(str(problem) for problem in err.problems)
    if problems:
        raise ImportRefused("nothing imported:\n" + "\n".join(problems))
    return {home.jobs_dir / name: text for name, text in added.items()}


def write_drop_ins(drop_ins: dict[Path, str]) -> list[Path]:
    """Write each drop-in whole, private to you; the paths written."""
    from procclaw.atomic_file import write_atomically

    for path, text in drop_ins.items():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        write_atomically(path, text, private=True)
    return list(drop_ins)
