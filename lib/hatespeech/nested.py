"""Nested result dataclasses to JSON and back: what lets a :class:`~hatespeech.results.Result` hold typed rows
(``list[Discrimination]``, ``dict[str, PairedDifference]``) instead of string-keyed dicts, while its metrics
file keeps the same JSON.

:func:`encode` turns a value into plain JSON values; :func:`decode` reads one back by its type hint, field by
field, and raises :class:`ResultShapeError` naming the path of a missing key (``functional.json:
forgetting.encoder.auc lacks 'difference'``), so a renamed nested field fails on reading, not in a sentence of
the report.

Written by hand (about 100 lines) rather than with a library such as pydantic: the nested classes that already
own their JSON keep it (``Interval`` writes NaN as null, ``PairedDifference`` writes its derived verdict and
recomputes it on reading), a JSON key that is no identifier (``balanced_accuracy_at_0.5``) is one field
metadata entry, and the project gains no dependency for it. No torch here: reading a result needs none.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any

#: Field metadata keys: the field's key in the JSON when that is not its name; whether None is left out.
JSON_KEY = "json"
OMIT_NONE = "omit_none"


class ResultShapeError(ValueError):
    """A metrics file lacks a field its result class declares (or holds the wrong kind of value there)."""


def json_key(f: dataclasses.Field) -> str:
    return f.metadata.get(JSON_KEY, f.name)


def json_field(key: str | None = None, *, omit_none: bool = False, **kwargs) -> Any:
    """A dataclass field stored under ``key`` in the JSON (for keys that are not identifiers); with
    ``omit_none`` a None value is left out of the JSON (a key older or smaller runs do not write)."""
    metadata = {OMIT_NONE: omit_none} | ({JSON_KEY: key} if key else {})
    return dataclasses.field(metadata=metadata, **kwargs)


def encode(value: Any) -> Any:
    """``value`` as JSON values: a class's own ``to_json`` first, then dataclass fields (by :func:`json_key`),
    dicts and lists recursively; anything else as it is (numpy values are the JSON writer's job)."""
    if hasattr(value, "to_json") and not isinstance(value, type):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            json_key(f): encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get(OMIT_NONE) and getattr(value, f.name) is None)
        }
    if isinstance(value, dict):
        return {key: encode(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(inner) for inner in value]
    return value


def decode(hint: Any, value: Any, where: str) -> Any:
    """``value`` (parsed JSON) as the type ``hint`` says: a dataclass (its own ``from_json`` when it has one),
    ``list[X]``, ``dict[str, X]`` or ``X | None`` of those; other hints leave the value as it is. Under
    ``X | None`` an empty object or null stands for "none"; a value already of its type is kept. ``where``
    names the place in errors."""
    if not holds_dataclass(hint):
        return value  # plain JSON all the way down: kept as it is (the same object)
    if isinstance(hint, type) and isinstance(value, hint):
        return value  # already typed (a result built in code rather than read from a file)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if value is None or (type(None) in args and value == {}):
            return None
        return decode(inner[0], value, where) if len(inner) == 1 else value
    if origin is list and args:
        _expect(value, list, where)
        return [decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict and len(args) == 2:
        _expect(value, dict, where)
        return {key: decode(args[1], item, f"{where}.{key}") for key, item in value.items()}
    if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
        return value
    _expect(value, dict, where)
    if hasattr(hint, "from_json"):
        try:
            return hint.from_json(value)
        except KeyError as error:
            raise ResultShapeError(f"{where} lacks {error} (a field of {hint.__name__})") from error
    hints = type_hints(hint)
    missing = [
        json_key(f)
        for f in dataclasses.fields(hint)
        if json_key(f) not in value
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ResultShapeError(f"{where} lacks {', '.join(map(repr, missing))} (fields of {hint.__name__})")
    return hint(
        **{
            f.name: decode(hints[f.name], value[json_key(f)], f"{where}.{json_key(f)}")
            for f in dataclasses.fields(hint)
            if json_key(f) in value
        }
    )


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        raise ResultShapeError(f"{where}: expected a JSON {kind.__name__}, got {type(value).__name__}")


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` of a class, once per class."""
    return typing.get_type_hints(cls)


@functools.cache
def holds_dataclass(hint: Any) -> bool:
    """Whether a type hint is, or contains (in a list, dict or union), a dataclass."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return True
    return any(holds_dataclass(arg) for arg in typing.get_args(hint))
