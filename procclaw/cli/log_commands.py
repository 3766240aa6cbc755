"""`procclaw logs <job>`: a job's output, as its log files hold it.

Usage:
  procclaw logs <job> [-f] [-n N] [--stderr]

Options:
  -f          Follow the log as it grows, across rotations (Ctrl-C to stop)
  -n N        How many lines to show first [default: 50]
  --stderr    Show the error log (<job>.error.log) instead of stdout (<job>.log)
"""

from __future__ import annotations

from procclaw.cli.arguments import line_count
from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    from procclaw.logfiles import show_file

    args = parse_args(USAGE, argv)
    home = Home.from_env()
    job_id = args["<job>"]
    _require_known_job(home, job_id)
    lines = line_count(args["-n"])
    path = home.job_log(job_id, "stderr" if args["--stderr"] else "stdout")
    if not path.exists() and not args["-f"]:
        print(f"{job_id}: no output yet ({path})")
        return 0
    return show_file(path, lines=lines, follow=args["-f"])


def _require_known_job(home: Home, job_id: str) -> None:
    """Refuse a job name the daemon (or, when it is down, the config) does not know."""
    from procclaw.client import Client, ClientError
    from procclaw.config import ConfigError, load_config
    from procclaw.suggest import did_you_mean

    client = Client(home)
    try:
        known = [job["id"] for job in client.call("list")] if client.daemon_pid() else None
    except ClientError:
        known = None
    if known is None:
        try:
            known = list(load_config(home).job_ids)
        except ConfigError:
            return  # cannot tell; the log file decides
    if job_id not in known:
        raise CliFailure(f"no job '{job_id}'{did_you_mean(job_id, known)}")
