"""YAML text to plain values that remember the line each key and value came from.

PyYAML keeps line numbers only on its node graph and silently lets a duplicate key
overwrite the first one. Walking the nodes ourselves keeps the lines for every message
and turns duplicates into problems instead of surprises. It is also where hostile YAML
stops: a tag other than YAML's plain types (`!!python/...`, `!!binary`, `!custom`) is
refused by name, nesting deeper than MAX_DEPTH is refused with its line, and so is a
number too long to read; a date stays the text it was written as.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from procclaw.config.problems import PathSegment

_YAML_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _YAML_TAG + "merge"
_TIMESTAMP_TAG = _YAML_TAG + "timestamp"
_PLAIN_TAGS = frozenset(_YAML_TAG + name for name in ("str", "int", "float", "bool", "null"))
_COLLECTION_TAGS = frozenset((_YAML_TAG + "map", _YAML_TAG + "seq"))
# Far deeper than any config needs, and far from what a recursive composer's stack allows.
MAX_DEPTH = 64
# An alias repeats what it names, so a small file can stand for a huge config ("billion
# laughs"); what the aliases expand to is bounded too.
MAX_EXPANDED_CHARS = 4 * 1024**2
_NUL = "a NUL character (\\0) in a value: no command, argument or variable can hold one"
# libyaml reads a large file four times as fast as PyYAML's own Python parser.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LocatedMap(dict[str, Any]):
    """A YAML mapping whose keys are the raw key text, with 1-based lines.

    Keys are kept as written, so a job called `on` or `123` stays a string instead of
    turning into YAML 1.1's `True` or an integer.
    """

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.value_lines: dict[str, int] = {}


class LocatedList(list[Any]):
    """A YAML sequence with the 1-based line of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


@dataclass(frozen=True, slots=True)
class Issue:
    """A structural mistake found while reading the YAML, such as a duplicate key."""

    path: tuple[PathSegment, ...]
    line: int
    message: str


class YamlSyntaxError(Exception):
    """The text is not YAML at all; `line` is 1-based or None when unknown."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Document:
    """A parsed file: its top-level value (None when empty) and its structural issues."""

    root: Any
    issues: list[Issue] = field(default_factory=list)


def read_yaml(text: str) -> Document:
    """Parse one YAML document; raise YamlSyntaxError if it is not valid YAML."""
    loader = _Loader(text)
    try:
        _refuse_deep_nesting(text)
        node = loader.get_single_node()
        document = Document(root=None)
        if node is not None:
            document.root = _Converter(loader, document.issues).value(node, ())
        return document
    except RecursionError:  # anchors in keys that are never converted can still nest deep
        raise YamlSyntaxError(None, _TOO_DEEP) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = err.problem or err.context or str(err)
        if "maximum nesting depth" in problem:  # libyaml 0.2.6 has a limit of its own
            problem = _TOO_DEEP
        raise YamlSyntaxError(line, problem) from None
    except yaml.YAMLError as err:
        raise YamlSyntaxError(None, str(err)) from None
    finally:
        loader.dispose()


def _refuse_deep_nesting(text: str) -> None:
    """Both composers recurse once per level (libyaml's crashes the process when too
    deep), so the depth is checked first, on the flat stream of events."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlSyntaxError(event.start_mark.line + 1, _TOO_DEEP)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _Converter:
    """Turns composed nodes into LocatedMap / LocatedList / scalars, recording issues."""

    def __init__(self, loader: _Loader, issues: list[Issue]) -> None:
        self._loader = loader
        self._issues = issues
        # An alias repeats a node: convert it once, and refuse one that contains itself.
        self._done: dict[int, Any] = {}
        self._active: set[int] = set()
        # The characters of every scalar as often as aliases repeat it, and per node.
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def value(self, node: yaml.Node, path: tuple[PathSegment, ...]) -> Any:
        key = id(node)
        if key in self._done:
            self._count(node, self._sizes[key])
            return self._done[key]
        before = self._expanded
        if key in self._active:
            raise YamlSyntaxError(_line(node), "an alias refers to the node that contains it")
        self._active.add(key)
        try:
            if node.tag not in _PLAIN_TAGS | _COLLECTION_TAGS | {_TIMESTAMP_TAG}:
                raise YamlSyntaxError(_line(node), _refused_tag(node.tag))
            if isinstance(node, yaml.MappingNode):
                result: Any = self._mapping(node, path)
            elif isinstance(node, yaml.SequenceNode):
                result = self._sequence(node, path)
            else:
                result = self._scalar(node)
        finally:
            self._active.discard(key)
        self._done[key] = result
        self._sizes[key] = self._expanded - before
        return result

    def _count(self, node: yaml.Node, chars: int) -> None:
        self._expanded += chars
        if self._expanded > MAX_EXPANDED_CHARS:
            raise YamlSyntaxError(
                _line(node),
                f"aliases expand this file past {MAX_EXPANDED_CHARS // 1024**2} MiB of values",
            )

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        self._count(node, len(node.value))
        if "\0" in node.value:  # written as "\0" or "\x00": no program could be given it
            raise YamlSyntaxError(_line(node), _NUL)
        if node.tag == _TIMESTAMP_TAG:
            return node.value  # no config value is a date: keep the text as written
        try:
            return self._loader.construct_object(node, deep=True)
        except ValueError:  # int() refuses more than 4,300 digits
            raise YamlSyntaxError(_line(node), "a number too long to read") from None

    def _sequence(self, node: yaml.SequenceNode, path: tuple[PathSegment, ...]) -> LocatedList:
        items = LocatedList(_line(node))
        for index, item in enumerate(node.value):
            items.append(self.value(item, path + (index,)))
            items.item_lines.append(_line(item))
        return items

    def _mapping(self, node: yaml.MappingNode, path: tuple[PathSegment, ...]) -> LocatedMap:
        mapping = LocatedMap(_line(node))
        merged: list[LocatedMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._issues.append(Issue(path, _line(key_node), "a key must be a plain name"))
                continue
            key = key_node.value
            if key in mapping:
                first = mapping.key_lines[key]
                message = f"duplicate key '{key}' (first at line {first})"
                self._issues.append(Issue(path, _line(key_node), message))
                continue
            mapping[key] = self.value(value_node, path + (key,))
            mapping.key_lines[key] = _line(key_node)
            mapping.value_lines[key] = _line(value_node)
        # `<<: *base` fills in only the keys the mapping does not set itself.
        for source in merged:
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    mapping.key_lines[key] = source.key_lines[key]
                    mapping.value_lines[key] = source.value_lines[key]
        return mapping

    def _merge_sources(self, node: yaml.Node, path: tuple[PathSegment, ...]) -> list[LocatedMap]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for source in nodes:
            value = self.value(source, path)
            if isinstance(value, LocatedMap):
                sources.append(value)
            else:
                message = "'<<' must be given a mapping or a list of mappings"
                self._issues.append(Issue(path, _line(source), message))
        return sources


_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"


def _refused_tag(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag
    return f"the tag '{shown}' is not allowed: ProcClaw reads plain YAML values only"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1
