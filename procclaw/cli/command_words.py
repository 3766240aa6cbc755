"""The words `procclaw` accepts, read from the commands' own usage texts: what may follow
`procclaw`, `procclaw daemon` and so on, the options each takes, and where a job id or a
tag goes.
Shell completion is built from them, so it cannot drift from what the commands accept.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field

from procclaw.cli.colours import NO_COLOR_OPTION

# Accepted by every command: docopt answers -h and --help; main.py takes --no-color.
EVERYWHERE = ("-h", "--help", NO_COLOR_OPTION)
# A placeholder naming a job, as an argument (`<job>`) or an option's value (`--job=JOB`).
JOB_PLACEHOLDERS = ("<job>", "JOB")
TAG_PLACEHOLDER = "TAG"  # an option's value that is a job's tag (`--tag=TAG`)
_TOKEN = re.compile(r"<[^>]+>|--?[A-Za-z][\w-]*(?:=[\w-]+)?|[\w-]+")


@dataclass
class Place:
    """A point in a command line (`procclaw daemon`): what may come next."""

    words: set[str] = field(default_factory=set)  # subcommands, or `bash`, `zsh`, ...
    options: set[str] = field(default_factory=set)
    jobs: bool = False  # job ids may come next
    job_options: set[str] = field(default_factory=set)  # options whose value is a job id
    tag_options: set[str] = field(default_factory=set)  # options whose value is a tag


def places() -> dict[str, Place]:
    """Every place, keyed by the words that lead to it: "" is `procclaw` itself, then
    "daemon", "daemon start", ..."""
    from procclaw.cli import main

    found = {"": Place(words=set(main.COMMANDS))}
    for line in usage_lines(main.__doc__):
        _read_line(line, found[""])
    for module_name in sorted(set(main.COMMANDS.values())):
        module = importlib.import_module(f"procclaw.cli.{module_name}")
        for line in usage_lines(module.USAGE):
            command, rest = line[0], line[1:]
            place = found.setdefault(command, Place())
            words = [token for token in rest if re.fullmatch(r"[a-z][a-z0-9-]*", token)]
            for word in words:
                place.words.add(word)
                _read_line(rest, found.setdefault(f"{command} {word}", Place()))
            if not words:
                _read_line(rest, place)
    return found


def usage_lines(doc: str) -> list[list[str]]:
    """The tokens of each line of a docopt `Usage:` section, after `procclaw`."""
    from procclaw.cli.usage_errors import fold_usage_lines

    section = doc[doc.index("Usage:") + len("Usage:") :].split("\n\n")[0]
    return [
        _TOKEN.findall(line)[1:]
        for line in fold_usage_lines(section.splitlines())
        if line.startswith("procclaw")
    ]


def _read_line(tokens: list[str], place: Place) -> None:
    previous = ""
    for token in tokens:
        if token.startswith("-"):
            name, _, value = token.partition("=")
            place.options.add(name)
            if value in JOB_PLACEHOLDERS:
                place.job_options.add(name)
            elif value == TAG_PLACEHOLDER:
                place.tag_options.add(name)
        elif token == TAG_PLACEHOLDER and previous.startswith("-"):
            place.tag_options.add(previous)
        elif token in JOB_PLACEHOLDERS:
            if previous.startswith("-"):
                place.job_options.add(previous)  # `-j JOB`, the value apart
            else:
                place.jobs = True
        previous = token
