"""`Fields`: read one YAML mapping key by key, reporting every bad or unknown key.

Each reader opens the mapping with the keys it understands; anything else is reported
at once with the closest known key. A bad value is reported at its line and replaced
by the default, so reading always finishes and every problem is seen.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, TypeVar

from procclaw.config.problems import Scope
from procclaw.config.values import Invalid, Reader, describe
from procclaw.config.yamlsource import LocatedList, LocatedMap
from procclaw.suggest import did_you_mean

T = TypeVar("T")


class Fields:
    """The keys of one mapping, with the scope and lines to report problems at.

    `line` is where to report something missing: the line of the key that holds this
    mapping, or of the nearest enclosing key when the mapping is absent altogether.
    `unknown_hint` ends the message about an unknown key when no known key is close.
    """

    def __init__(
        self,
        scope: Scope,
        value: Any,
        line: int | None,
        known: Collection[str],
        unknown_hint: str = "",
    ):
        self.scope = scope
        self.line = line
        # False when the value was not a mapping: callers skip "x is required" noise.
        self.valid = value is None or isinstance(value, LocatedMap)
        if isinstance(value, LocatedMap):
            self._map = value
        else:
            if value is not None:
                scope.error(line, f"expected a mapping, got {describe(value)}")
            self._map = LocatedMap(line or 0)
        for key in self._map:
            if key not in known:
                hint = did_you_mean(key, known) or unknown_hint
                scope.error(self._map.key_lines[key], f"unknown key '{key}'{hint}")
        self._known = known

    def __contains__(self, key: str) -> bool:
        return key in self._map and key in self._known

    def given(self) -> list[str]:
        """The known keys present, in file order."""
        return [key for key in self._map if key in self._known]

    def key_line(self, key: str) -> int | None:
        return self._map.key_lines.get(key, self.line)

    def value_line(self, key: str) -> int | None:
        return self._map.value_lines.get(key, self.line)

    def raw(self, key: str) -> Any:
        return self._map.get(key)

    def get(self, key: str, read: Reader[T], default: T) -> T:
        """The value of `key` read by `read`, or `default` if absent or invalid."""
        if key not in self:
            return default
        try:
            return read(self._map[key])
        except Invalid as err:
            self.scope.at(key).error(self.value_line(key), str(err))
            return default

    def require(self, key: str, read: Reader[T], condition: str = "") -> T | None:
        """Like `get`, but report `key is required{condition}` when it is absent."""
        if key not in self:
            self.scope.sentence(self.line, f"{self.scope.name(key)} is required{condition}")
            return None
        return self.get(key, read, None)

    def reject(self, key: str, reason: str) -> None:
        """Report a known key that cannot be used here, e.g. `is only used by type: http`."""
        self.scope.sentence(self.key_line(key), f"{self.scope.name(key)} {reason}")

    def nested(self, key: str, known: Collection[str]) -> Fields:
        """The mapping under `key` (empty when absent or null)."""
        line = self.key_line(key)
        return Fields(self.scope.at(key), self._map.get(key), line, known)

    def entries(self, key: str, what: str) -> Iterator[tuple[Scope, int, Any]]:
        """Each item of the list under `key` with its scope and line; null is empty."""
        items = self._child(key, LocatedList, what)
        if items is None:
            return
        for index, (item, line) in enumerate(zip(items, items.item_lines, strict=True)):
            yield self.scope.at(key, index), line, item

    def pairs(self, key: str, what: str) -> Iterator[tuple[str, Any, int, int]]:
        """Each (name, value, name line, value line) of a free-form mapping under `key`."""
        mapping = self._child(key, LocatedMap, what)
        if mapping is None:
            return
        for name, item in mapping.items():
            yield name, item, mapping.key_lines[name], mapping.value_lines[name]

    def _child(self, key: str, kind: type[T], what: str) -> T | None:
        """The value under `key` if it is a `kind`; None if absent, null or reported."""
        value = self._map.get(key) if key in self else None
        if value is None or isinstance(value, kind):
            return value
        self.scope.at(key).error(self.value_line(key), f"expected {what}, got {describe(value)}")
        return None

    def list(self, key: str, read_item: Reader[T], what: str) -> tuple[T, ...]:
        """The items under `key` that `read_item` accepts; the others are reported."""
        items = []
        for scope, line, item in self.entries(key, what):
            try:
                items.append(read_item(item))
            except Invalid as err:
                scope.error(line, str(err))
        return tuple(items)
