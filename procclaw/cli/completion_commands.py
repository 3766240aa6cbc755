"""`procclaw completion`: tab completion of commands, options, job ids and tags.

Usage:
  procclaw completion (bash | zsh | fish)
  procclaw completion (--ids | --tags)

Options:
  --ids   Print the ids of the jobs in jobs.yaml, one a line (what the scripts ask for);
          with no daemon needed, and nothing at all, not even an error, if the file
          cannot be read
  --tags  Print the tags of the jobs in jobs.yaml, one a line, in the same way

Prints the script for the shell; the first lines of each say where to put it.
"""

from __future__ import annotations

import sys

from procclaw.cli.usage_errors import parse_args

USAGE = __doc__


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    if args["--ids"] or args["--tags"]:
        jobs = _jobs_yaml()
        words = jobs if args["--ids"] else _tags(jobs.values())
        for word in words:
            print(word)
        return 0
    from procclaw.cli.completion_scripts import SHELLS, script

    shell = next(name for name in SHELLS if args[name])
    sys.stdout.write(script(shell))
    return 0


def _jobs_yaml() -> dict[str, object]:
    """The jobs in jobs.yaml by id, read as it is (not validated: this must stay fast),
    or none when it cannot be read."""
    import yaml

    from procclaw.home import Home

    try:
        with open(Home.from_env().jobs_file, encoding="utf-8") as file:
            config = yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        jobs = config["jobs"]
        if not isinstance(jobs, dict):
            return {}
        return {str(job_id): job for job_id, job in jobs.items() if isinstance(job_id, str | int)}
    except Exception:  # a broken config completes nothing, and says nothing while at it
        return {}


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
