"""`procclaw completion`: tab completion of commands, options, job ids and tags.

Usage:
  procclaw completion (bash | zsh | fish)
  procclaw completion (--ids | --tags)

Options:
  --ids   Print the ids of the jobs in jobs.yaml and jobs.d/, one a line (what the
          scripts ask for); with no daemon needed, and nothing at all, not even an
          error, for a file that cannot be read
  --tags  Print the tags of those jobs, one a line, in the same way

Prints the script for the shell; the first lines of each say where to put it.
"""

from __future__ import annotations

import sys

from procclaw.cli.usage_errors import parse_args

USAGE = __doc__


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    if args["--ids"] or args["--tags"]:
        jobs = _jobs()
        words = jobs if args["--ids"] else _tags(jobs.values())
        for word in words:
            print(word)
        return 0
    from procclaw.cli.completion_scripts import SHELLS, script

    shell = next(name for name in SHELLS if args[name])
    sys.stdout.write(script(shell))
    return 0


def _jobs() -> dict[str, object]:
    """The jobs of jobs.yaml and of the drop-ins in jobs.d/ by id, read as they are (not
    validated: this must stay fast); none from a file or folder that cannot be read."""
    from procclaw.home import Home

    home = Home.from_env()
    jobs = _yaml(home.jobs_file).get("jobs")
    found = {str(key): job for key, job in jobs.items()} if isinstance(jobs, dict) else {}
    for name in _dropin_names(home.jobs_dir):
        found.setdefault(name.removesuffix(".yaml"), _yaml(home.jobs_dir / name))
    return found


def _yaml(path) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as file:
            found = yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # a broken config completes nothing, and says nothing while at it
        return {}
    return found if isinstance(found, dict) else {}


def _dropin_names(directory) -> list[str]:
    import os

    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    # Visible `*.yaml` files, as procclaw/config/dropins.py reads them (not imported:
    # the config package would cost each tab press its import time).
    return [name for name in names if name.endswith(".yaml") and not name.startswith(".")]


def _tags(jobs) -> list[str]:
    """Every tag the jobs carry, each once, in the order first met."""
    found = [
        str(tag)
        for job in jobs
        if isinstance(job, dict) and isinstance(job.get("tags"), list)
        for tag in job["tags"]
        if isinstance(tag, str | int)
    ]
    return list(dict.fromkeys(found))
