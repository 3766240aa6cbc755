"""Reading a command's arguments by its usage text, and saying what is wrong when they
do not fit: one line, then that command's usage lines, exit status 2.

docopt only says that something did not match (`found unmatched (duplicate?)
arguments [Option(None, '--forse', ...)]`). When it refuses, the arguments are read
again here, the way docopt reads them, to name the first thing wrong:

    procclaw: stop: unknown option --forse (did you mean --force?)
    procclaw: logs: a job is needed
"""

from __future__ import annotations

import re
from typing import Any

from docopt import DocoptExit, docopt, parse_docstring_sections, parse_options

from procclaw.cli.errors import CliFailure

# What a placeholder of a usage line stands for, where its name alone is not enough.
_NAMES = {"cron": "a cron expression", "name": "a secret name"}


class UsageError(CliFailure):
    """Arguments that do not fit the command: the message, then its usage lines."""

    def __init__(self, usage: str, argv: list[str], message: str):
        words = _command_words(_usage_lines(usage), argv)
        lines = _usage_lines(usage, words)
        super().__init__(
            f"{' '.join(words)}: {message}\nUsage:\n" + "\n".join(f"  {line}" for line in lines),
            exit_code=2,
        )


def parse_args(usage: str, argv: list[str]) -> dict[str, Any]:
    """docopt's reading of `argv` (the command first), or a UsageError saying what is wrong."""
    try:
        return docopt(usage, argv=argv)
    except DocoptExit:
        raise UsageError(usage, argv, _what_is_wrong(usage, argv)) from None


def _usage_lines(usage: str, words: list[str] | None = None) -> list[str]:
    """The usage lines (`procclaw stop ...`), only those of `words` if given."""
    body = parse_docstring_sections(usage).usage_body
    lines = fold_usage_lines(body.splitlines())
    if words is None:
        return lines
    mine = [line for line in lines if line.split()[1 : 1 + len(words)] == words]
    return mine or [line for line in lines if line.split()[1] == words[0]]


def fold_usage_lines(lines: list[str]) -> list[str]:
    """Each usage pattern on one line: a line not starting with `procclaw` goes on with
    the one before (as docopt reads it), so a long pattern may wrap."""
    folded: list[str] = []
    for line in lines:
        words = " ".join(line.split())
        if folded and words and not words.startswith("procclaw"):
            folded[-1] += " " + words
        elif words:
            folded.append(words)
    return folded


def _command_words(lines: list[str], argv: list[str]) -> list[str]:
    """`['stop']`, or `['daemon', 'start']` for a command that has sub-commands."""
    subcommands = _subcommands(lines, argv[0])
    if len(argv) > 1 and argv[1] in subcommands:
        return argv[:2]
    return argv[:1]


def _subcommands(lines: list[str], command: str) -> list[str]:
    words = [line.split() for line in lines]
    return [
        w[2] for w in words if len(w) > 2 and w[1] == command and re.fullmatch(r"[a-z][\w-]*", w[2])
    ]


def _what_is_wrong(usage: str, argv: list[str]) -> str:
    all_lines = _usage_lines(usage)
    subcommands = _subcommands(all_lines, argv[0])
    words = _command_words(all_lines, argv)
    if subcommands and len(words) == 1:
        from procclaw.suggest import did_you_mean

        if len(argv) == 1 or argv[1].startswith("-"):
            return f"a command is needed: {', '.join(dict.fromkeys(subcommands))}"
        return f"unknown command '{argv[1]}'{did_you_mean(argv[1], subcommands)}"
    lines = _usage_lines(usage, words)
    text = " ".join(lines)
    options = _options_of(usage, text)
    positionals: list[str] = []
    seen: list[str] = []
    rest = argv[len(words) :]
    while rest:
        token = rest.pop(0)
        if token == "--":
            positionals += rest
            break
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            known = [o for o in options if o.longer == name] or [
                o for o in options if o.longer and o.longer.startswith(name)
            ]
            if len(known) != 1:
                return _unknown(name, [o.longer for o in options if o.longer])
            option = known[0]
            if option.argcount and not eq and (not rest or rest[0] == "--"):
                return f"{option.longer} needs a value"
            if option.argcount and not eq:
                rest.pop(0)
            if not option.argcount and eq:
                return f"{option.longer} takes no value"
            seen.append(option.longer)
        elif token.startswith("-") and token != "-" and not _is_number(token):
            for index, letter in enumerate(token[1:], 1):
                matches = [o for o in options if o.short == f"-{letter}"]
                if not matches:
                    return _unknown(f"-{letter}", [o.short for o in options if o.short])
                option = matches[0]
                seen.append(option.longer or option.short)
                if option.argcount:
                    if index == len(token) - 1:
                        if not rest:
                            return f"{option.short} needs a value"
                        rest.pop(0)
                    break
        else:
            positionals.append(token)
    for name in dict.fromkeys(seen):
        repeatable = re.search(rf"{re.escape(name)}[^\])]*[\])]\.\.\.", text)
        if seen.count(name) > 1 and not repeatable:
            return f"{name} given more than once"
    for first, second in re.findall(r"\[(--[\w-]+) \| (--[\w-]+)\]", text):
        if first in seen and second in seen:
            return f"{first} or {second}, not both"
    return _positional_problem(text, positionals, seen)


def _options_of(usage: str, text: str) -> list:
    """The options the usage lines `text` name, with what the Options section says of them."""
    sections = parse_docstring_sections(usage)
    described = parse_options(sections.before_usage) + parse_options(sections.after_usage)
    named = set(re.findall(r"--?[\w-]+", text)) | {"-h", "--help"}
    return [o for o in described if o.short in named or o.longer in named] + [
        o for o in parse_options("  -h, --help  help") if "--help" not in text
    ]


def _unknown(name: str, candidates: list[str]) -> str:
    from procclaw.suggest import closest

    match = closest(name, candidates)
    return f"unknown option {name}" + (f" (did you mean {match}?)" if match else "")


def _positional_problem(text: str, given: list[str], options: list[str]) -> str:
    """What is missing or too much among the arguments that are not options."""
    placeholders = re.findall(r"<(\w+)>(\.\.\.)?", text)
    # `((<job> | --tag=TAG)... | --all)`: jobs, tags or both, or else --all alone.
    chosen = re.search(r"\(\(<(\w+)> \| (--[\w-]+)=\w+\)\.\.\. \| (--[\w-]+)\)", text)
    if chosen:
        name, tag, alone = chosen.groups()
        if alone in options and (given or tag in options):
            return f"{name}s or {alone}, not both" if given else f"{tag} or {alone}, not both"
        if not given and tag not in options and alone not in options:
            return f"a {name}, {tag} or {alone} is needed"
        return "these arguments do not go together: see the usage below"
    either = re.search(r"\(<(\w+)>(?:\.\.\.)? \| (--[\w-]+)\)", text)
    if either and given and either[2] in options:
        return f"{either[1]}s or {either[2]}, not both"
    if not given and placeholders and not (either and either[2] in options):
        name = placeholders[0][0]
        needed = _NAMES.get(name, f"a {name}")
        return f"{needed} or {either[2]} is needed" if either else f"{needed} is needed"
    repeatable = any(dots for _name, dots in placeholders)
    if not repeatable and len(given) > len(placeholders):
        return f"unexpected argument '{given[len(placeholders)]}'"
    return "these arguments do not go together: see the usage below"


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
