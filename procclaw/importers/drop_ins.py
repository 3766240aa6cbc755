"""Checking imported jobs and writing them as drop-ins, `jobs.d/<id>.yaml`.

Each drop-in is a jobs.yaml document with one job. Before anything is written, every
job is read with the config's own parser (so a drop-in that is written is one the
daemon accepts) and its id is checked against jobs.yaml and jobs.d: an id that is
taken is refused, naming the file and line that has it. Writing is all or nothing
as far as the checks go, and each file is replaced whole (mode 0600).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from procclaw.config import ConfigError
from procclaw.config.loader import parse_config, read_config_texts
from procclaw.config.yamlsource import LocatedMap, YamlSyntaxError, read_yaml
from procclaw.exporters.export_plan import yaml_text
from procclaw.home import Home
from procclaw.importers.imported import ImportedJob, ImportRefused

DROP_IN_DIR = "jobs.d"


def drop_in_path(home: Home, job_id: str) -> Path:
    return home.root / DROP_IN_DIR / f"{job_id}.yaml"


def drop_in_text(job: ImportedJob, source: str) -> str:
    """The drop-in for `job`: a comment saying where it came from, then the job."""
    notes = [f"# Imported from {source} by `procclaw import`.", *(f"# {n}" for n in job.notes)]
    return "\n".join(notes) + "\n" + yaml_text({"jobs": {job.id: job.body}})


def check_drop_ins(home: Home, jobs: Sequence[ImportedJob], source: str) -> dict[Path, str]:
    """The drop-ins to write (path -> text), once every job reads as valid config and
    no id is taken; else ImportRefused with every problem, one per line."""
    taken = _taken_ids(home)
    problems = []
    seen: set[str] = set()
    for job in jobs:
        if job.id in seen:
            problems.append(f"two imported jobs would be '{job.id}': rename one in {source}")
        seen.add(job.id)
        if job.id in taken:
            problems.append(f"{taken[job.id]}: job '{job.id}' exists already")
    settings_text = read_config_texts(home)[0]
    drop_ins = {}
    for job in jobs:
        path = drop_in_path(home, job.id)
        text = drop_in_text(job, source)
        try:
            parse_config(settings_text, text, str(home.config_file), str(path))
        except ConfigError as err:
            problems.extend(str(problem) for problem in err.problems)
        drop_ins[path] = text
    if problems:
        raise ImportRefused("nothing imported:\n" + "\n".join(problems))
    return drop_ins


def write_drop_ins(drop_ins: dict[Path, str]) -> list[Path]:
    """Write each drop-in whole, private to you; the paths written."""
    from procclaw.atomic_file import write_atomically

    for path, text in drop_ins.items():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        write_atomically(path, text, private=True)
    return list(drop_ins)


def _taken_ids(home: Home) -> dict[str, str]:
    """Every job id in jobs.yaml and jobs.d, with `file:line` where it is."""
    files = [home.jobs_file, *sorted((home.root / DROP_IN_DIR).glob("*.yaml"))]
    taken: dict[str, str] = {}
    for path in files:
        try:
            root = read_yaml(path.read_text(encoding="utf-8")).root
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, YamlSyntaxError) as err:
            raise ImportRefused(f"{path}: cannot be read to check the ids in it: {err}") from None
        jobs = root.get("jobs") if isinstance(root, LocatedMap) else None
        if isinstance(jobs, LocatedMap):
            for job_id in jobs:
                taken.setdefault(job_id, f"{path}:{jobs.key_lines[job_id]}")
    return taken
