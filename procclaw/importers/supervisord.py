"""Reading a supervisord.conf: each `[program:x]` becomes a continuous job.

Files named by `[include] files = ...` (globs, relative to the including file) are read
too, as supervisord does. Values are expanded as supervisord expands them
(`%(program_name)s`, `%(process_num)02d`, `%(here)s`, `%(ENV_HOME)s`), and
`numprocs = N` gives N jobs named by `process_name`. Defaults are supervisord's, so a
program that leaves a key out behaves here as it did there.
"""

from __future__ import annotations

import configparser
import glob
import os
import shlex
from pathlib import Path
from typing import Any

from procclaw.importers.imported import Imported, ImportedJob, ImportRefused, job_id, seconds_text

# Keys with no equivalent here: supervisord's default (which is what ProcClaw does, so
# it needs no warning), and what happens instead of any other value.
_NO_EQUIVALENT = {
    "user": (None, "jobs run as the user running ProcClaw"),
    "umask": (None, "jobs get the umask the daemon was started with"),
    "serverurl": ("auto", "jobs do not talk to ProcClaw over XML-RPC"),
    "stdout_capture_maxbytes": ("0", "ProcClaw has no process communication events"),
    "stderr_capture_maxbytes": ("0", "ProcClaw has no process communication events"),
    "stdout_events_enabled": ("false", "ProcClaw publishes job events on its bus instead"),
    "stderr_events_enabled": ("false", "ProcClaw publishes job events on its bus instead"),
    "stdout_syslog": ("false", "output goes to the job's log files only"),
    "stderr_syslog": ("false", "output goes to the job's log files only"),
}
_MAPPED = {
    "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart",
    "startsecs", "startretries", "autorestart", "exitcodes", "stopsignal", "stopwaitsecs",
    "stopasgroup", "killasgroup", "redirect_stderr", "stdout_logfile", "stderr_logfile",
    "stdout_logfile_maxbytes", "stdout_logfile_backups", "stderr_logfile_maxbytes",
    "stderr_logfile_backups", "environment", "directory",
}  # fmt: skip
_TRUE = ("true", "yes", "on", "1")
_RESTART = {"true": "always", "unexpected": "on-failure", "false": "never"}


def read_supervisord(path: Path) -> Imported:
    """The jobs of the programs in `path` and the files it includes."""
    result = Imported()
    sections = _read_files(path, set())
    groups = _groups(sections)
    for name, (values, here) in sections.items():
        kind, _, program = name.partition(":")
        if kind == "program":
            _program(program, values, here, groups.get(program, []), result)
        elif kind in ("eventlistener", "fcgi-program"):
            result.warn(program, f"[{name}]", "not imported: ProcClaw has no such kind of program")
    return result


def _read_files(path: Path, seen: set[Path]) -> dict[str, tuple[dict[str, str], Path]]:
    """Every section of `path` and its includes, with the directory each came from."""
    real = path.resolve()
    if real in seen:
        return {}
    seen.add(real)
    parser = configparser.RawConfigParser(
        comment_prefixes=(";", "#"), inline_comment_prefixes=(";",), strict=False
    )
    try:
        with path.open(encoding="utf-8") as file:
            parser.read_file(file)
    except OSError as err:
        raise ImportRefused(f"cannot read {path}: {err.strerror or err}") from None
    except (configparser.Error, UnicodeDecodeError) as err:
        reason = str(err).splitlines()[0]
        raise ImportRefused(f"{path} is not a supervisord config file: {reason}") from None
    here = path.parent.resolve()
    sections = {name: (dict(parser[name]), here) for name in parser.sections()}
    include = sections.pop("include", None)
    if include is not None:
        for pattern in include[0].get("files", "").split():
            full = pattern if os.path.isabs(pattern) else str(path.parent / pattern)
            for found in sorted(glob.glob(full)):
                sections.update(_read_files(Path(found), seen))
    return sections


def _groups(sections: dict[str, tuple[dict[str, str], Path]]) -> dict[str, list[str]]:
    """program -> the `[group:x]` names it is in: kept as the job's tags."""
    found: dict[str, list[str]] = {}
    for name, (values, _) in sections.items():
        if name.startswith("group:"):
            for program in values.get("programs", "").split(","):
                found.setdefault(program.strip(), []).append(name.partition(":")[2])
    return found


def _program(
    name: str, values: dict[str, str], here: Path, tags: list[str], result: Imported
) -> None:
    for key, value in values.items():
        if key in _NO_EQUIVALENT:
            default, why = _NO_EQUIVALENT[key]
            if value.strip().lower() != default:
                result.warn(name, key, why)
        elif key not in _MAPPED:
            result.warn(name, key, "not a supervisord program key ProcClaw knows: left out")
    count = _number(name, values, "numprocs", "1")
    first = _number(name, values, "numprocs_start", "0")
    default_name = "%(program_name)s" + ("_%(process_num)02d" if count > 1 else "")
    for number in range(first, first + count):
        names = _expansions(name, number, count, here)
        expanded = {key: _expand(name, key, value, names) for key, value in values.items()}
        process = expanded.get("process_name", default_name % names)
        job = ImportedJob(job_id(process), _job_body(name, expanded, tags, result))
        job.notes.append(f"[program:{name}]" + (f" process {number}" if count > 1 else ""))
        if "priority" in values:
            job.notes.append(
                f"supervisord priority {values['priority']}: ProcClaw starts jobs in parallel;"
                " use depends_on to keep an order"
            )
        result.jobs.append(job)


def _expansions(name: str, number: int, count: int, here: Path) -> dict[str, Any]:
    names: dict[str, Any] = {f"ENV_{key}": value for key, value in os.environ.items()}
    names.update(program_name=name, group_name=name, process_num=number, numprocs=count)
    names.update(here=str(here), host_node_name=os.uname().nodename)
    return names


def _job_body(name: str, values: dict[str, str], tags: list[str], result: Imported) -> dict:
    body: dict[str, Any] = {"cmd": values.get("command", "")}
    if "directory" in values:
        body["cwd"] = values["directory"]
    body["type"] = "continuous"
    body["restart"] = _RESTART.get(values.get("autorestart", "unexpected").lower(), "on-failure")
    if values.get("autostart", "true").lower() not in _TRUE:
        body["enabled"] = False
    if tags:
        body["tags"] = tags
    if "environment" in values:
        body["env"] = _environment(values["environment"])
        result.warn_clear_secrets(name, body["env"])
    retries = _number(name, values, "startretries", "3")
    if retries > 0:  # supervisord waits one second more before each try
        delays = [seconds_text(n) for n in range(1, retries + 1)]
        body["retry"] = {"delays": delays, "max_attempts": retries}
    else:
        body["retry"] = {"preset": "none"}
    if retries > 0:
        body["retry"]["reset_after"] = seconds_text(_number(name, values, "startsecs", "1"))
    signal = values.get("stopsignal", "TERM").upper()
    body["shutdown"] = {
        "signal": signal if signal.startswith("SIG") else f"SIG{signal}",
        "grace_period": seconds_text(_number(name, values, "stopwaitsecs", "10")),
    }
    log = _log(name, values, result)
    if log:
        body["log"] = log
    _warn_changed(name, values, result)
    return body


def _environment(text: str) -> dict[str, str]:
    """supervisord's `KEY="value",KEY2=value2`, read as supervisord reads it."""
    lexer = shlex.shlex(text, posix=True)
    lexer.wordchars += "/.+-():$%@~*?[]{}!#^&|<>'\\"
    lexer.whitespace_split = False
    tokens = list(lexer)
    env = {}
    for index in range(0, len(tokens), 4):
        if index + 2 < len(tokens) and tokens[index + 1] == "=":
            env[tokens[index]] = tokens[index + 2]
    return env


def _log(name: str, values: dict[str, str], result: Imported) -> dict[str, Any]:
    for key, stream in (("stdout_logfile", "log"), ("stderr_logfile", "error.log")):
        if key in values and values[key].upper() != "AUTO":
            result.warn(name, key, f"output goes to logs/<job>.{stream} under PROCCLAW_HOME")
    log: dict[str, Any] = {}
    max_bytes = values.get("stdout_logfile_maxbytes")
    if max_bytes is not None and max_bytes.strip() not in ("0", ""):
        log["max_bytes"] = max_bytes.strip()
    elif max_bytes is not None:
        result.warn(name, "stdout_logfile_maxbytes", "ProcClaw always rotates: 10MB is kept")
    if "stdout_logfile_backups" in values:
        log["backups"] = _number(name, values, "stdout_logfile_backups", "0")
    for key in ("stderr_logfile_maxbytes", "stderr_logfile_backups"):
        if key in values:
            result.warn(name, key, "both logs of a job rotate alike, as stdout_logfile_* says")
    return log


def _warn_changed(name: str, values: dict[str, str], result: Imported) -> None:
    """Keys ProcClaw does in its own way, warned when set otherwise."""
    for key in ("stopasgroup", "killasgroup"):
        if key in values and values[key].lower() not in _TRUE:
            result.warn(name, key, "ProcClaw always signals the job's whole process group")
    if values.get("exitcodes", "0").replace(" ", "") != "0":
        result.warn(name, "exitcodes", "only exit code 0 is an expected exit")
    if values.get("redirect_stderr", "false").lower() in _TRUE:
        result.warn(name, "redirect_stderr", "stderr goes to the job's own error log")


def _number(program: str, values: dict[str, str], key: str, default: str) -> int:
    text = values.get(key, default).strip()
    if not text.isdigit():
        raise ImportRefused(f"program '{program}': {key}: expected a whole number, got {text!r}")
    return int(text)


def _expand(program: str, key: str, value: str, names: dict[str, Any]) -> str:
    """`value` with supervisord's `%(name)s` expansions filled in."""
    if "%(" not in value:
        return value
    try:
        return value % names
    except (KeyError, ValueError, TypeError) as err:
        raise ImportRefused(
            f"program '{program}': {key}: cannot expand {value!r} ({err!s} is not known)"
        ) from None
