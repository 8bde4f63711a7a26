"""Typed run configurations: `--set KEY=VALUE` overrides and JSON round trips.

Every trainer's settings are a frozen dataclass with one docstring line per field. The command
line passes overrides as strings; `apply_overrides` parses each against the field's type and
names the field in any error.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

__all__ = ["apply_overrides", "config_to_dict", "parse_overrides"]

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """Turns ["key=value", ...] into a dict (ValueError for an item without '=')."""
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        result[key] = value.strip()
    return result


def _parse(name: str, text: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if text.lower() in {"none", "null"} and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _parse(name, text, option)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError("; ".join(errors))
    if origin is typing.Literal:
        for option in args:
            if str(option) == text:
                return option
        raise ValueError(f"{name} must be one of {list(args)}, got {text!r}")
    if origin in (tuple, list):
        parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
        inner = args[0] if args else str
        values = [_parse(name, p.strip(), inner) for p in parts]
        return tuple(values) if origin is tuple else values
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{name} must be true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{name} must be an integer, got {text!r}") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {text!r}") from None
    if kind is str:
        return text
    raise ValueError(f"{name} cannot be set from the command line (type {kind})")


def apply_overrides(cfg: T, overrides: dict[str, str] | None) -> T:
    """A copy of the dataclass `cfg` with fields set from strings.

    Raises:
        ValueError: an unknown key (the message lists the valid ones) or a value that does not
            parse as the field's type; the dataclass's own checks also run on the result.
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise ValueError(f"cfg must be a dataclass instance, got {cfg!r}")
    if not overrides:
        return cfg
    hints = typing.get_type_hints(type(cfg))
    names = [f.name for f in dataclasses.fields(cfg)]
    changes = {}
    for key, text in overrides.items():
        if key not in names:
            raise ValueError(f"unknown setting {key!r}; valid settings: {', '.join(names)}")
        changes[key] = _parse(key, text, hints[key])
    return dataclasses.replace(cfg, **changes)


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """The dataclass as a JSON-ready dict (tuples become lists)."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise ValueError(f"cfg must be a dataclass instance, got {cfg!r}")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()}
