"""ProcClaw: a process manager that keeps your jobs running.

Usage:
  procclaw <command> [<args>...]
  procclaw (-h | --help | --version)

Commands:
  init        Create procclaw.yaml and jobs.yaml with sample jobs
  config      Show the config paths, or validate the config
  daemon      Start, stop and inspect the daemon (start, stop, status, logs)
  list        List all jobs
  status      Show one job in detail
  top         Watch the jobs' CPU and memory, live (q quits)
  start       Start jobs (by name, --tag or --all), and wait until each runs
  stop        Stop jobs (by name, --tag or --all): signal, grace period, SIGKILL
  restart     Restart jobs (by name, --tag or --all)
  logs        Show (or follow) jobs' output, several merged with --tag or --all
  runs        List a job's past runs: when, how long, how they ended, who started them
  events      Watch the event bus (job state changes, actors, reloads)
  reload      Re-read the config files and apply what changed
  schedule    List when a cron expression fires (DST included)
  add         Add a job at run time (to jobs.d/<id>.yaml), and apply it
  remove      Remove a job added with `add`, stopping it
  enable      Let a job start by itself again (daemon start, reload, schedule)
  disable     Stop a job and keep it from starting by itself
  pause       Hold jobs down (stopped, not started, runs skipped) until `resume`
  resume      Let paused jobs run again
  secret      Keep the secrets jobs use (set, get, list, delete)
  service     Run the daemon as a systemd user service or a launchd agent
  db          Check procclaw.db, or repair a damaged one (check, repair)
  openclaw    OpenClaw alerts (status) and the agent skill (install-skill)
  export      Write the jobs as systemd units, Kubernetes, Nomad or Compose files
  import      Turn supervisord programs or pm2 apps into jobs (jobs.d drop-ins)
  version     Show the version
  completion  Print tab completion for bash, zsh or fish

Options (every command, before or after it):
  --no-color      No colour, as when NO_COLOR is set or the output is not a terminal

Environment:
  PROCCLAW_HOME   where config, state and logs live (default ~/.procclaw)
  NO_COLOR        when set and not empty, no colour (no-color.org)

Run `procclaw <command> --help` for the options of a command.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import NoReturn

from docopt import DocoptExit, docopt

from procclaw.cli.colours import take_no_color_option
from procclaw.cli.errors import CliFailure, fail

# command -> module in procclaw.cli; each module has USAGE and run(argv) -> int.
COMMANDS = {
    "init": "setup_commands",
    "config": "setup_commands",
    "version": "setup_commands",
    "daemon": "daemon_commands",
    "list": "job_commands",
    "status": "job_commands",
    "top": "top_command",
    "start": "control_commands",
    "stop": "control_commands",
    "restart": "control_commands",
    "logs": "log_commands",
    "runs": "run_commands",
    "events": "event_commands",
    "reload": "reload_commands",
    "schedule": "schedule_commands",
    "pause": "control_commands",
    "resume": "control_commands",
    "secret": "secret_commands",
    "service": "service_commands",
    "db": "db_commands",
    "openclaw": "openclaw_commands",
    "completion": "completion_commands",
    "add": "job_edit_commands",
    "remove": "job_edit_commands",
    "enable": "job_edit_commands",
    "disable": "job_edit_commands",
    "export": "export_commands",
    "import": "import_commands",
}


def main(argv: list[str] | None = None) -> int:
    argv = take_no_color_option(sys.argv[1:] if argv is None else argv)
    from procclaw import __version__

    try:
        args = docopt(__doc__, argv=argv, options_first=True, version=f"procclaw {__version__}")
    except DocoptExit:
        problem = f"unknown option {argv[0]}" if argv else "a command is needed"
        return fail(f"{problem}; see `procclaw --help`", 2)
    command = args["<command>"]
    if command == "help":
        print(__doc__.strip())
        return 0
    module_name = COMMANDS.get(command)
    if module_name is None:
        from procclaw.suggest import did_you_mean

        hint = did_you_mean(command, COMMANDS)
        print(
            f"procclaw: unknown command '{command}'{hint}; see `procclaw --help`", file=sys.stderr
        )
        return 2
    module = importlib.import_module(f"procclaw.cli.{module_name}")
    try:
        return module.run([command, *args["<args>"]])
    except DocoptExit as exc:
        print(exc, file=sys.stderr)
        return 2
    except _user_errors() as exc:
        return fail(str(exc), getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader left (`procclaw list | head`): end quietly, as cat does. Output still
        # buffered would raise again at exit, so it goes to /dev/null instead. signal is
        # imported only here: its enums cost every command 1 ms.
        import signal

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _user_errors() -> tuple[type[Exception], ...]:
    """Failures that are the user's to fix: printed as one line, no traceback.

    Called only when an exception is already on its way, so the imports cost nothing
    on the happy path.
    """
    from procclaw.client import ClientError
    from procclaw.home import HomeError
    from procclaw.platform import PlatformError

    return (CliFailure, ClientError, HomeError, PlatformError)


def run_command() -> NoReturn:
    """The `procclaw` command: `main()`, then out at once.

    When main() returns, the command is done: every request answered, every file it
    wrote closed. The interpreter's teardown of each module would still cost every
    command some ten milliseconds, for nothing; only the standard streams' buffers
    need writing out.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = 128 + 13  # SIGPIPE: the reader left before the last of the output
    os._exit(code)


if __name__ == "__main__":
    run_command()
