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
from collections.abc import Callable
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
        return {
            name: getattr(self, name) if plain is None else plain(getattr(self, name))
            for name, (_check, _required, plain) in _shape(type(self)).items()
        }

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        if not isinstance(data, dict):
            raise _refused(cls, f"not a map but {type(data).__name__}")
        shape = _shape(cls)
        if not shape.keys() >= data.keys():
            unknown = set(data) - set(shape)
            raise _refused(cls, f"unknown field {sorted(map(str, unknown))[0]!r}")
        values = {}
        for name, (check, required, _plain) in shape.items():
            if name in data:
                values[name] = check(data[name])
            elif required:
                raise _refused(cls, f"field {name!r} is missing")
        return cls(**values)


# A field's check: the value as the field holds it, or RecordError.
Check = Callable[[Any], Any]
# How a field's value goes on the wire: None (as it is), or a function of the value.
Plain = Callable[[Any], Any] | None
# A value that goes on the wire as it is.
_AS_IT_IS = (str, int, float, bool, dict)


@cache
def _shape(cls: type) -> dict[str, tuple[Check, bool, Plain]]:
    """Each field's check, whether it is required (has no default), and how its value
    goes on the wire: as it is for a string, number, bool or map (or None), else through
    `_plain`, which looks at the value.

    Built once per record class from its type hints, so a message is checked and put on
    the wire without asking `typing` about its types again."""
    hints = typing.get_type_hints(cls)
    for name, kind in hints.items():
        if len(_not_none(kind)) > 1:
            raise TypeError(f"{cls.__name__}.{name}: a wire field is one type, or it or None")
    shape = {}
    for item in dataclasses.fields(cls):
        kind = hints[item.name]
        inner = _not_none(kind)[0]
        as_it_is = inner in _AS_IT_IS or typing.get_origin(inner) is dict
        shape[item.name] = (
            _check_for(cls, item.name, kind),
            item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING,
            None if as_it_is else _plain,
        )
    return shape


def prepare_every_record() -> None:
    """Build the checks of every record class imported so far: a template process does,
    so that the processes it forks share them instead of each building its own."""
    pending = WireRecord.__subclasses__()
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if dataclasses.is_dataclass(cls):
            _shape(cls)


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


def _check_for(cls: type, name: str, kind: Any) -> Check:
    """The check of field `name` of type `kind`: the value as the field holds it."""
    origin, parts = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return _as_is
    if origin in (types.UnionType, typing.Union):
        [inner] = _not_none(kind)
        check_inner = _check_for(cls, name, inner)
        if type(None) not in parts:
            return check_inner
        return lambda value: None if value is None else check_inner(value)
    if origin in (tuple, list):
        check_item = _check_for(cls, name, parts[0] if parts else Any)
        made = tuple if origin is tuple else list

        def sequence(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise _wrong(cls, name, "a list", value)
            return made(check_item(item) for item in value)

        return sequence
    if origin is dict or kind is dict:

        def mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise _wrong(cls, name, "a map", value)
            return value

        return mapping
    if isinstance(kind, type) and issubclass(kind, WireRecord):
        return kind.from_wire
    if isinstance(kind, type) and issubclass(kind, Enum):
        return _enum_check(cls, name, kind)
    return _scalar_check(cls, name, kind)


def _as_is(value: Any) -> Any:
    return value


def _enum_check(cls: type, name: str, kind: type[Enum]) -> Check:
    def member(value: Any) -> Any:
        try:
            return kind(value)
        except ValueError:
            raise _wrong(cls, name, f"one of {', '.join(m.value for m in kind)}", value) from None

    return member


def _scalar_check(cls: type, name: str, kind: type) -> Check:
    expected = _NAMES.get(kind, kind.__name__)
    if kind is float:

        def number(value: Any) -> Any:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            raise _wrong(cls, name, expected, value)

        return number
    refused = bool if kind is int else ()

    def scalar(value: Any) -> Any:
        if not isinstance(value, kind) or isinstance(value, refused):
            raise _wrong(cls, name, expected, value)
        return value

    return scalar


_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _wrong(cls: type, name: str, expected: str, value: Any) -> RecordError:
    return _refused(cls, f"field {name!r} must be {expected}, not {value!r:.60}")


def _refused(cls: type, why: str) -> RecordError:
    return RecordError(cls, why)
