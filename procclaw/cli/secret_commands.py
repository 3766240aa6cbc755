"""`procclaw secret`: the secrets jobs refer to as ${secret:NAME} in their env.

Usage:
  procclaw secret set <name> [<value>]
  procclaw secret get <name> [--show]
  procclaw secret list [--json]
  procclaw secret delete <name>

Options:
  --show   Print the value itself (it is masked otherwise)
  --json   list: the names and stores as JSON, [{"name", "store"}] (never a value)

`set` without a value reads it from a prompt that does not echo it (or from stdin when
that is not a terminal), so it stays out of your shell history. A secret goes into the
OS keyring (service `procclaw`) when one is usable, else into $PROCCLAW_HOME/.secrets,
a file only you may read. `list` shows each name and the store that holds it.
"""

from __future__ import annotations

import getpass
import json
import sys

from procclaw.cli.errors import CliFailure
from procclaw.cli.render import table
from procclaw.cli.usage_errors import parse_args
from procclaw.home import Home
from procclaw.secrets import MASK, SecretError, SecretStore

USAGE = __doc__
# The person at the terminal may be unlocking the keyring in a dialog: give them time.
KEYRING_TIMEOUT = 30.0


def run(argv: list[str]) -> int:
    args = parse_args(USAGE, argv)
    store = SecretStore(Home.from_env(), KEYRING_TIMEOUT)
    name = args["<name>"]
    try:
        if args["set"]:
            value = args["<value>"] if args["<value>"] is not None else _read_value(name)
            print(f"stored secret '{name}' {store.set(name, value)}")
        elif args["get"]:
            value = store.get(name)
            print(value if args["--show"] else f"{name}: {MASK}  (--show prints it)")
        elif args["list"]:
            _list(store, args["--json"])
        else:
            print(f"deleted secret '{name}' {store.delete(name)}")
    except SecretError as exc:
        raise CliFailure(str(exc)) from None
    return 0


def _read_value(name: str) -> str:
    """The value from a prompt that does not echo, or from stdin when it is piped."""
    if sys.stdin.isatty():
        try:
            return getpass.getpass(f"value of secret '{name}' (not shown): ")
        except EOFError:
            return ""
    value = sys.stdin.read()
    return value[:-1] if value.endswith("\n") else value  # the newline `echo` adds


def _list(store: SecretStore, as_json: bool) -> None:
    secrets = store.list()
    if as_json:
        listed = [{"name": secret.name, "store": secret.store} for secret in secrets]
        print(json.dumps(listed, indent=2))
        return
    if not secrets:
        print("no secrets yet: add one with `procclaw secret set NAME`")
        return
    print(table(("name", "store"), [(secret.name, secret.store) for secret in secrets]))
