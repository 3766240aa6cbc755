"""`procclaw completion`: tab completion of commands, options and job ids.

Usage:
  procclaw completion (bash | zsh | fish)
  procclaw completion --ids

Options:
  --ids   Print the ids of the jobs in jobs.yaml and jobs.d/, one a line (what the
          scripts ask for); with no daemon needed, and nothing at all, not even an
          error, for a file that cannot be read

Prints the script for the shell; the first lines of each say where to put it.
"""

from __future__ import annotations

import sys

from procclaw.cli.usage_errors import parse_args

USAGE = __doc__


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    if args["--ids"]:
        for job_id in job_ids():
            print(job_id)
        return 0
    from procclaw.cli.completion_scripts import SHELLS, script

    shell = next(name for name in SHELLS if args[name])
    sys.stdout.write(script(shell))
    return 0


def job_ids() -> list[str]:
    """The job ids in jobs.yaml, read as it is (not validated: this must stay fast), and
    those of the drop-ins in jobs.d/ (their file names); none from a file or folder
    that cannot be read."""
    from procclaw.home import Home

    home = Home.from_env()
    return _ids_in_jobs_yaml(home.jobs_file) + _dropin_ids(home.jobs_dir)


def _ids_in_jobs_yaml(path) -> list[str]:
    import yaml

    try:
        with open(path, encoding="utf-8") as file:
            config = yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        jobs = config["jobs"]
        if not isinstance(jobs, dict):
            return []
        return [str(job_id) for job_id in jobs if isinstance(job_id, str | int)]
    except Exception:  # a broken config completes nothing, and says nothing while at it
        return []


def _dropin_ids(directory) -> list[str]:
    import os

    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    # Visible `*.yaml` files, as procclaw/config/dropins.py reads them (not imported:
    # the config package would cost each tab press its import time).
    return [
        name.removesuffix(".yaml")
        for name in names
        if name.endswith(".yaml") and not name.startswith(".")
    ]
