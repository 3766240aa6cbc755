"""`procclaw logs`: jobs' output, as their log files hold it.

Usage:
  procclaw logs ((<job> | --tag=TAG)... | --all) [-f] [-n N] [--stdout | --stderr]

Options:
  --tag=TAG   Every job carrying this tag, as if named (again for more tags)
  --all       Every job
  -f          Follow the logs as they grow, across rotations (Ctrl-C to stop)
  -n N        How many lines of each log to show first [default: 50]
  --stdout    Only the jobs' stdout (<job>.log)
  --stderr    Only the jobs' stderr (<job>.error.log)

One job shows its stdout as written (or its stderr, with --stderr). Several jobs, a
tag or --all show stdout and stderr together, each line prefixed by its job (in a
colour of its own on a terminal), in time order where the jobs log with timestamps.
"""

from __future__ import annotations

from procclaw.cli.arguments import line_count
from procclaw.cli.errors import CliFailure
from procclaw.cli.job_selection import chosen_jobs, config_jobs, require_known
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    from procclaw.cli.colours import wanted
    from procclaw.cli.merged_logs import show_logs
    from procclaw.logfiles import show_file

    args = parse_args(USAGE, argv)
    home = Home.from_env()
    lines = line_count(args["-n"])
    names = list(dict.fromkeys(args["<job>"]))
    jobs = config_jobs(home)
    if jobs is not None:
        require_known(names, [job["id"] for job in jobs])
    elif args["--tag"] or args["--all"]:
        raise CliFailure("cannot tell which jobs: see `procclaw config --validate`")
    if len(names) == 1 and not args["--tag"]:
        path = home.job_log(names[0], "stderr" if args["--stderr"] else "stdout")
        if not path.exists() and not args["-f"]:
            print(f"{names[0]}: no output yet ({path})")
            return 0
        return show_file(path, lines=lines, follow=args["-f"])
    if args["--all"]:
        names = [job["id"] for job in jobs or ()]
    elif args["--tag"]:
        names = chosen_jobs(jobs or (), names, args["--tag"])
    if not names:
        print("no jobs configured")
        return 0
    streams = ("stdout",) if args["--stdout"] else ("stderr",) if args["--stderr"] else None
    return show_logs(home, names, streams or ("stdout", "stderr"), lines, args["-f"], wanted())
