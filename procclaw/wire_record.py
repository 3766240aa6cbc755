"""Typed records on the wire: a dataclass travels as a msgpack map of its fields, and is
checked field by field where it enters a process.

A record class inherits `WireRecord`. `to_wire()` gives the map (the same names as the
fields: nothing is renamed between layers); `from_wire(data)` gives the record back or
raises ProtocolError naming the record and the field, so a malformed message is refused
at the door instead of failing deep inside a handler.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, Self

from procclaw.protocol import ErrorCode, ProtocolError


class RecordError(ProtocolError):
    """`data` is not a `record`; `why` says what is wrong, for the reply."""

    def __init__(self, record: type, why: str):
        super().__init__(ErrorCode.BAD_REQUEST, f"malformed {record.__name__}: {why}")
        self.why = why


class WireRecord:
    """A dataclass that crosses process boundaries (see the module docstring)."""

    def to_wire(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name)) for name in _shape(type(self))}

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        if not isinstance(data, dict):
            raise _refused(cls, f"not a map but {type(data).__name__}")
        shape = _shape(cls)
        unknown = set(data) - set(shape)
        if unknown:
            raise _refused(cls, f"unknown field {sorted(map(str, unknown))[0]!r}")
        values = {}
        for name, (kind, required) in shape.items():
            if name in data:
                values[name] = _checked(cls, name, kind, data[name])
            elif required:
                raise _refused(cls, f"field {name!r} is missing")
        return cls(**values)


@cache
def _shape(cls: type) -> dict[str, tuple[Any, bool]]:
    """Each field's type and whether it is required (has no default)."""
    hints = typing.get_type_hints(cls)
    for name, kind in hints.items():
        if len(_not_none(kind)) > 1:
            raise TypeError(f"{cls.__name__}.{name}: a wire field is one type, or it or None")
    return {
        item.name: (
            hints[item.name],
            item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING,
        )
        for item in dataclasses.fields(cls)
    }


def _not_none(kind: Any) -> list[Any]:
    """The types of a union but None (a plain type: itself)."""
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        return [part for part in typing.get_args(kind) if part is not type(None)]
    return [kind]


def _plain(value: Any) -> Any:
    if isinstance(value, WireRecord):
        return value.to_wire()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _checked(cls: type, name: str, kind: Any, value: Any) -> Any:
    """`value` as field `name` of type `kind` holds it; ProtocolError if it cannot."""
    origin, parts = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in parts:
            return None
        [inner] = _not_none(kind)
        return _checked(cls, name, inner, value)
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise _wrong(cls, name, "a list", value)
        inner = parts[0] if parts else Any
        items = [_checked(cls, name, inner, item) for item in value]
        return tuple(items) if origin is tuple else items
    if origin is dict or kind is dict:
        if not isinstance(value, dict):
            raise _wrong(cls, name, "a map", value)
        return value
    if isinstance(kind, type) and issubclass(kind, WireRecord):
        return kind.from_wire(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(value)
        except ValueError:
            raise _wrong(cls, name, f"one of {', '.join(m.value for m in kind)}", value) from None
    return _scalar(cls, name, kind, value)


def _scalar(cls: type, name: str, kind: type, value: Any) -> Any:
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool):
        raise _wrong(cls, name, _NAMES[int], value)
    if not isinstance(value, kind):
        raise _wrong(cls, name, _NAMES.get(kind, kind.__name__), value)
    return value


_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _wrong(cls: type, name: str, expected: str, value: Any) -> RecordError:
    return _refused(cls, f"field {name!r} must be {expected}, not {value!r:.60}")


def _refused(cls: type, why: str) -> RecordError:
    return RecordError(cls, why)
