"""What is wrong with a config file, and where: `Problem`, `ConfigError` and `Scope`.

Readers never raise on a bad value; they report it through a `Scope` and carry on with
the default, so one run of `procclaw config --validate` shows every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PathSegment = str | int


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a config file, rendered as `file:line: where: message`."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        location = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.where:
            return f"{location}: {self.where}: {self.message}"
        return f"{location}: {self.message}"


class ConfigError(Exception):
    """The config files cannot be used; `problems` lists every reason, in file order."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[ConfigError], tuple[tuple[Problem, ...]]]:
        # Rebuild from the problems, not the message, when sent to another process.
        return (ConfigError, (self.problems,))


@dataclass
class ProblemLog:
    """The problems found in one file, in the order they were found."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int | None, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, line, where, message))

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda problem: problem.line or 0)


def dotted(path: tuple[PathSegment, ...]) -> str:
    """A key path as the user would write it: `retry.delays[2]`, `depends_on[0].job`."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text


@dataclass(frozen=True, slots=True)
class Scope:
    """Where in a file a reader is, so that its problems name the place.

    Settings problems put the key path in `where` (`daemon.port`). Job problems put the
    job in `where` (`job 'api'`) and start the message with the path inside the job.
    """

    log: ProblemLog
    owner: str = ""
    path: tuple[PathSegment, ...] = ()

    def at(self, *segments: PathSegment) -> Scope:
        return Scope(self.log, self.owner, self.path + segments)

    def name(self, key: PathSegment) -> str:
        """The dotted path of `key` below this scope, for use inside a sentence."""
        return dotted(self.path + (key,))

    def error(self, line: int | None, message: str) -> None:
        """Report `message` about the value at this scope's path."""
        path = dotted(self.path)
        if self.owner:
            self.log.add(line, self.owner, f"{path}: {message}" if path else message)
        else:
            self.log.add(line, path, message)

    def sentence(self, line: int | None, text: str) -> None:
        """Report a message that names its own path, such as `cmd is required`."""
        self.log.add(line, self.owner, text)
