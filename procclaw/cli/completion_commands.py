"""`procclaw completion`: tab completion of commands, options and job ids.

Usage:
  procclaw completion (bash | zsh | fish)
  procclaw completion --ids

Options:
  --ids   Print the ids of the jobs in jobs.yaml, one a line (what the scripts ask for);
          with no daemon needed, and nothing at all, not even an error, if the file
          cannot be read

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
    """The job ids in jobs.yaml, read as it is (not validated: this must stay fast), or
    none when it cannot be read."""
    import yaml

    from procclaw.home import Home

    try:
        with open(Home.from_env().jobs_file, encoding="utf-8") as file:
            config = yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        jobs = config["jobs"]
        if not isinstance(jobs, dict):
            return []
        return [str(job_id) for job_id in jobs if isinstance(job_id, str | int)]
    except Exception:  # a broken config completes nothing, and says nothing while at it
        return []
