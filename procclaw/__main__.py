"""`python -m procclaw` is the `procclaw` command."""

from procclaw.cli.main import run_command

run_command()
