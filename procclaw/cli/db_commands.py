"""`procclaw db`: check procclaw.db, or repair it while the daemon is stopped.

Usage:
  procclaw db check
  procclaw db repair

`check` says whether procclaw.db can be read (exit 1 when it cannot). `repair` moves a
damaged procclaw.db aside (kept as procclaw.db.damaged-<time>), starts a new one, copies
in every row that can still be read, and says what was kept and what was lost. Jobs are
not in the database: a repair costs history, never a job.
"""

from __future__ import annotations

from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    from procclaw.db_repair import RepairFailed, database_problem, repair
    from procclaw.pidfile import PidFile

    args = parse_args(USAGE, argv)
    home = Home.from_env()
    path = home.db_file
    problem = database_problem(path)
    if args["check"]:
        if problem:
            raise CliFailure(f"{path} is damaged: {problem}; `procclaw db repair` repairs it")
        print(f"{path}: ok" if path.exists() else f"{path} does not exist yet")
        return 0
    if (pid := PidFile(home.pid_file).running_pid()) is not None:
        raise CliFailure(f"the daemon is running (pid {pid}): `procclaw daemon stop` first")
    if problem is None:
        print(f"{path}: ok; nothing to repair" if path.exists() else f"{path} does not exist yet")
        return 0
    try:
        report = repair(path)
    except RepairFailed as exc:
        raise CliFailure(f"not repaired: {exc}") from None
    print(f"repaired {path} ({problem})")
    for line in report.lines():
        print(f"  {line}")
    return 0
