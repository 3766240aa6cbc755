"""What an importer hands back: the jobs it made, as jobs.yaml data, and its warnings.

Importers only read and map; checking the jobs and writing them is
`procclaw.importers.drop_ins`, the same for every source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NOT_IN_ID = re.compile(r"[^A-Za-z0-9_-]+")
# Variable names that usually hold a credential.
_SECRET_LIKE = re.compile(r"(?i).*(secret|token|passw(or)?d|api_?key|private_?key|credential).*")


class ImportRefused(Exception):
    """The file cannot be imported (unreadable, not the format, an id taken)."""


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """A setting of a program that has no equivalent, or changes meaning, in ProcClaw."""

    program: str
    key: str
    why: str

    def __str__(self) -> str:
        return f"program '{self.program}': {self.key}: {self.why}"


@dataclass
class ImportedJob:
    """One job: its id, its keys as jobs.yaml would hold them, and notes written above
    it as comments (where it came from, what order it had)."""

    id: str
    body: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class Imported:
    """Everything read from one file: its jobs in file order, and its warnings."""

    jobs: list[ImportedJob] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)

    def warn(self, program: str, key: str, why: str) -> None:
        warning = ImportWarning(program, key, why)
        if warning not in self.warnings:  # once, not once per process of the program
            self.warnings.append(warning)

    def warn_clear_secrets(self, program: str, env: dict[str, str]) -> None:
        """Values that look like credentials would sit in a drop-in in the clear: say how
        to keep them in the keyring instead."""
        for name, value in env.items():
            if _SECRET_LIKE.fullmatch(name) and value and "${secret:" not in value:
                self.warn(
                    program,
                    f"env {name}",
                    f"written in the clear; `procclaw secret set {name}` and write"
                    f" ${{secret:{name}}} instead",
                )


def job_id(name: str) -> str:
    """A program's name as a job id: what ids cannot hold becomes '-'."""
    return _NOT_IN_ID.sub("-", name).strip("-_")[:63] or "job"


def seconds_text(value: float) -> str:
    """A duration as jobs.yaml takes it: '1.5s', '30s'."""
    return f"{value:g}s"


def restart_job(job: ImportedJob, schedule: str, source: str) -> ImportedJob:
    """A scheduled job that restarts `job` at `schedule`: how a cron restart is kept."""
    return ImportedJob(
        id=f"{job.id}-cron-restart"[:63],
        body={
            "cmd": ["procclaw", "restart", job.id],
            "type": "scheduled",
            "schedule": schedule,
        },
        notes=[f"restarts '{job.id}' on its {source} schedule"],
    )
