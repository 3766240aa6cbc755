"""`procclaw export`: the jobs as another system's files, for when one machine is not
enough.

Usage:
  procclaw export systemd [--job=JOB | --tag=TAG]... [-o DIR] [--strict] [--json]
  procclaw export kubernetes [--job=JOB | --tag=TAG]... [--image=IMAGE] [-o DIR] [--strict] [--json]
  procclaw export nomad [--job=JOB | --tag=TAG]... [--image=IMAGE] [-o DIR] [--strict] [--json]
  procclaw export compose [--job=JOB | --tag=TAG]... [--image=IMAGE] [-o DIR] [--strict] [--json]

Options:
  --job=JOB             Export this job (again for more; default: every job)
  --tag=TAG             Export the jobs carrying TAG (again for more)
  --image=IMAGE         The container image (kubernetes, compose; nomad runs the command
                        with raw_exec without one); over every job's export.image
  -o DIR, --output=DIR  Write the files into DIR (made if missing) instead of printing
  --strict              Refuse the export, writing nothing, when it would leave out
                        anything the target cannot express
  --json                Print {"target", "files", "warnings"} as JSON (with -o, "files"
                        lists the paths written)

What a target cannot express is a warning on stderr naming the job and the feature.
The jobs are read from jobs.yaml with the same checks as `config --validate`; no
daemon is needed. Secrets are written as references by name, never their values.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    from procclaw.config import ConfigError, load_config
    from procclaw.exporters.export_plan import TARGETS, ExportRefused, select_jobs

    args = parse_args(USAGE, argv)
    target = next(name for name in TARGETS if args[name])
    if args["--image"] is not None:
        _check_image(args["--image"])
    home = Home.from_env()
    try:
        config = load_config(home)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise CliFailure("nothing exported: fix the config above") from None
    module = importlib.import_module(f"procclaw.exporters.{target}")
    try:
        jobs = select_jobs(config, args["--job"], args["--tag"])
        result = module.export(jobs, args["--image"])
    except ExportRefused as exc:
        raise CliFailure(str(exc)) from None
    for warning in result.warnings:
        print(f"procclaw: warning: {warning}", file=sys.stderr)
    if args["--strict"] and result.warnings:
        count = len(result.warnings)
        raise CliFailure(
            f"nothing exported: {target} cannot express {count} thing{'s' * (count != 1)} "
            "above (--strict)"
        )
    files = _write(result.files, Path(args["--output"])) if args["--output"] else None
    if args["--json"]:
        warnings = [asdict(warning) for warning in result.warnings]
        shown = result.files if files is None else [str(path) for path in files]
        print(json.dumps({"target": target, "files": shown, "warnings": warnings}, indent=2))
    elif files is not None:
        for path in files:
            print(f"wrote {path}")
    else:
        _print(target, result.files)
    return 0


def _check_image(image: str) -> None:
    from procclaw.config.export_settings import image_reference
    from procclaw.config.values import Invalid

    try:
        image_reference(image)
    except Invalid as exc:
        raise CliFailure(f"--image {exc}", exit_code=2) from None


def _write(files: dict[str, str], directory: Path) -> list[Path]:
    from procclaw.atomic_file import write_atomically

    if directory.exists() and not directory.is_dir():
        raise CliFailure(f"-o {directory}: not a directory")
    written = []
    for name, text in files.items():
        path = directory / name
        try:
            write_atomically(path, text, private=True)
        except OSError as exc:
            raise CliFailure(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def _print(target: str, files: dict[str, str]) -> None:
    """One file as it is; several each under its name, or for Kubernetes as one stream
    of documents that `kubectl apply -f -` takes."""
    if target == "kubernetes":
        print("---\n".join(files.values()), end="")
        return
    for index, (name, text) in enumerate(files.items()):
        if len(files) > 1:
            print(f"{'' if index == 0 else chr(10)}==> {name} <==")
        print(text, end="")
