"""`procclaw import`: supervisord programs or pm2 apps as jobs.

Usage:
  procclaw import supervisord <file> [--dry-run] [--json]
  procclaw import pm2 <file> [--dry-run] [--json]

Options:
  --dry-run   Print the drop-ins that would be written, and write nothing
  --json      Print {"source", "files": {path: text}, "written", "warnings"} as JSON

supervisord: a supervisord.conf, its [include] files followed; each [program:x]
becomes a job (numprocs = N: N jobs). pm2: an ecosystem file in JSON ({"apps": [...]}),
or the output of `pm2 jlist`. Each job is written to jobs.d/<id>.yaml under
PROCCLAW_HOME (mode 0600), after every job has been checked as `config --validate`
checks jobs.yaml; an id that exists already refuses the import, naming where it is.
What has no equivalent is a warning on stderr naming the program and the key.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from procclaw.cli.errors import CliFailure
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home

USAGE = __doc__


def run(argv: list[str]) -> int:
    from procclaw.importers.drop_ins import check_drop_ins, write_drop_ins
    from procclaw.importers.imported import ImportRefused
    from procclaw.importers.pm2 import read_pm2
    from procclaw.importers.supervisord import read_supervisord

    args = parse_args(USAGE, argv)
    source = "supervisord" if args["supervisord"] else "pm2"
    path = Path(args["<file>"])
    home = Home.from_env()
    try:
        imported = (read_supervisord if source == "supervisord" else read_pm2)(path)
        for warning in imported.warnings:
            print(f"procclaw: warning: {warning}", file=sys.stderr)
        if not imported.jobs:
            raise CliFailure(f"{path}: no program to import")
        drop_ins = check_drop_ins(home, imported.jobs, str(path))
        written = [] if args["--dry-run"] else write_drop_ins(drop_ins)
    except ImportRefused as exc:
        raise CliFailure(str(exc)) from None
    except OSError as exc:
        raise CliFailure(f"cannot write {exc.filename}: {exc.strerror or exc}") from None
    if args["--json"]:
        warnings = [asdict(warning) for warning in imported.warnings]
        files = {str(path): text for path, text in drop_ins.items()}
        found = {"source": source, "files": files, "written": [str(p) for p in written]}
        print(json.dumps({**found, "warnings": warnings}, indent=2))
    elif args["--dry-run"]:
        for index, (path, text) in enumerate(drop_ins.items()):
            print(f"{'' if index == 0 else chr(10)}==> {path} <==")
            print(text, end="")
    else:
        for path in written:
            print(f"wrote {path}")
        print("run `procclaw reload` to apply them")
    return 0
