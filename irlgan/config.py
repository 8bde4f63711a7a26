"""Typed run configurations: `--set KEY=VALUE` overrides, presets and JSON round trips.

Every trainer's settings are a frozen dataclass with one docstring line per field; a setting
inside a nested dataclass is named by a dotted path (``ppo.gamma``, ``algo.ppo.value_hidden``).
The command line passes overrides as strings, which `apply_overrides` parses against the field's
type hint:

- ``int``, ``float`` (an integer is accepted), ``str``, ``bool`` (``true``/``false``,
  ``yes``/``no``, ``on``/``off``, ``1``/``0``);
- ``Literal[...]`` (one of its values), ``X | None`` (``none`` or ``null`` for None);
- tuples (``hidden=(64,64)``, ``hidden=64,64``, ``hidden=()`` for the empty tuple, tuples of
  floats ``(0.5,1e-3)``).

Presets (`irlgan.presets`) and saved runs pass typed values instead (TOML/JSON numbers, lists,
nested tables), which are checked against the same hints. A nested dataclass is never set from
one string; its fields are set one by one. `config_to_dict` and `config_from_dict` turn a
configuration into JSON-ready data and back.
"""

from __future__ import annotations

import dataclasses
import numbers
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = [
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "flatten_overrides",
    "parse_overrides",
]

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NONE = {"none", "null"}


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """Turns ["key=value", ...] into a dict (ValueError for an item without '=').

    Args:
        items: the `--set` items; a key may be dotted (``ppo.gamma=0.95``).

    Returns:
        {key: value text}; a repeated key keeps its last value.
    """
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        result[key] = value.strip()
    return result


def flatten_overrides(overrides: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables of settings as one dict with dotted keys.

    Args:
        overrides: e.g. ``{"num_envs": 8, "ppo": {"gamma": 0.95}}`` (a preset).
        prefix: put in front of every key (``"algo."``).

    Returns:
        e.g. ``{"num_envs": 8, "ppo.gamma": 0.95}``.
    """
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            flat.update(flatten_overrides(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# ---------------------------------------------------------------------------------------------
# type hints


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception as error:  # an annotation that does not resolve at run time
        raise ValueError(f"the type hints of {cls.__name__} do not resolve: {error}") from None


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def _dataclass_in(kind: Any) -> type | None:
    """The dataclass that `kind` names (also inside ``X | None``), else None."""
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return kind
    if _is_union(kind):
        found = [a for a in typing.get_args(kind) if isinstance(a, type)
                 and dataclasses.is_dataclass(a)]
        return found[0] if len(found) == 1 else None
    return None


def _init_fields(cls_or_obj: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(cls_or_obj) if f.init]


def _describe(cls_or_obj: Any, hints: dict[str, Any]) -> str:
    """The valid settings of one level: plain names, ``group.*`` for nested dataclasses."""
    return ", ".join(f"{name}.*" if _dataclass_in(hints[name]) else name
                     for name in _init_fields(cls_or_obj))


def _unknown(name: str, prefix: str, cls_or_obj: Any, hints: dict[str, Any]) -> ValueError:
    where = f" of {prefix[:-1]}" if prefix else ""
    hint = ""
    for group in _init_fields(cls_or_obj):
        nested = _dataclass_in(hints[group])
        if nested is not None and name in _init_fields(nested):
            hint = f" (did you mean {prefix}{group}.{name}?)"
            break
    return ValueError(f"unknown setting {prefix + name!r}{hint}; valid settings{where}: "
                      f"{_describe(cls_or_obj, hints)}")


# ---------------------------------------------------------------------------------------------
# values


def _split_sequence(name: str, text: str) -> list[str]:
    body = text.strip()
    if len(body) >= 2 and (body[0], body[-1]) in {("(", ")"), ("[", "]")}:
        body = body[1:-1].strip()
    if not body:
        return []
    parts = [p.strip() for p in body.split(",")]
    if parts[-1] == "":  # a trailing comma: "64," is (64,)
        parts.pop()
    if any(not p or p[0] in "([" for p in parts):
        raise ValueError(f"{name} must be a comma-separated list such as (64,64), got {text!r}")
    return parts


def _sequence_kinds(name: str, kind: Any, count: int) -> list[Any]:
    """The element type of each of `count` items of a tuple or list type."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) is list or (len(args) == 2 and args[1] is Ellipsis):
        return [args[0] if args else Any] * count
    if not args:
        return [Any] * count
    if len(args) != count:
        raise ValueError(f"{name} must have {len(args)} items, got {count}")
    return list(args)


def _parse(name: str, text: str, kind: Any) -> Any:
    """The value of the override text `text` for a field of type `kind` (named `name`)."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any:
        return text
    if _is_union(kind):
        if text.strip().lower() in _NONE and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _parse(name, text, option)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError("; ".join(errors))
    if origin is typing.Literal:
        for option in args:
            if str(option) == text or (isinstance(option, bool)
                                       and text.lower() in (_TRUE if option else _FALSE)):
                return option
        raise ValueError(f"{name} must be one of {list(args)}, got {text!r}")
    if origin in (tuple, list):
        parts = _split_sequence(name, text)
        kinds = _sequence_kinds(name, kind, len(parts))
        values = [_parse(name, part, inner) for part, inner in zip(parts, kinds, strict=True)]
        return tuple(values) if origin is tuple else values
    if origin is dict:
        raise ValueError(f"{name} is a table; set its entries one by one, e.g. "
                         f"{name}.KEY=VALUE")
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        raise ValueError(f"{name} is a group of settings ({kind.__name__}) and cannot be set from "
                         f"one string; set its fields, e.g. {name}.FIELD=VALUE")
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


def _coerce(name: str, value: Any, kind: Any) -> Any:
    """`value` (already typed: Python, TOML or JSON data) checked and converted to `kind`."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any:
        return value
    if _is_union(kind):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(name, value, option)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError("; ".join(errors) or f"{name} cannot be None")
    if origin is typing.Literal:
        for option in args:
            if value == option and type(value) is type(option):
                return option
        raise ValueError(f"{name} must be one of {list(args)}, got {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} must be a list, got {value!r}")
        kinds = _sequence_kinds(name, kind, len(value))
        items = [_coerce(name, v, inner) for v, inner in zip(value, kinds, strict=True)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ValueError(f"{name} must be a table, got {value!r}")
        key_kind, value_kind = args if args else (Any, Any)
        return {_coerce(name, k, key_kind): _coerce(f"{name}.{k}", v, value_kind)
                for k, v in value.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if isinstance(value, kind):
            return value
        if isinstance(value, Mapping):
            return _from_dict(kind, value, f"{name}.")
        raise ValueError(f"{name} must be a table of {kind.__name__} settings, got {value!r}")
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{name} must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if kind is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{name} must be a number, got {value!r}")
    if kind is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"{name} must be a string, got {value!r}")
    if isinstance(kind, type) and isinstance(value, kind):
        return value
    raise ValueError(f"{name} must be of type {kind}, got {value!r}")


# ---------------------------------------------------------------------------------------------
# building


def _build(cls: type[T], kwargs: dict[str, Any], prefix: str, base: Any = None) -> T:
    """`cls(**kwargs)` (or `replace(base, **kwargs)`); a nested one's errors name its path."""
    try:
        return cls(**kwargs) if base is None else dataclasses.replace(base, **kwargs)
    except (ValueError, TypeError) as error:
        where = f"{prefix[:-1]}: " if prefix else ""
        raise ValueError(f"{where}{error}") from error


def _nest(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys (and nested tables) as one tree of dicts; its leaves are the values."""
    tree: dict[str, Any] = {}
    for key, value in flatten_overrides(overrides).items():
        parts = key.split(".")
        if any(not p.strip() for p in parts):
            raise ValueError(f"bad setting name {key!r}")
        node = tree
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part.strip(), {})
            if not isinstance(child, dict):
                raise ValueError(f"{'.'.join(parts[:depth + 1])} is set both as a whole and "
                                 f"field by field ({key})")
            node = child
        last = parts[-1].strip()
        if isinstance(node.get(last), dict):
            raise ValueError(f"{key} is set both as a whole and field by field")
        node[last] = value
    return tree


def _apply(cfg: Any, tree: dict[str, Any], prefix: str, parse_text: bool) -> Any:
    hints = _hints(type(cfg))
    names = _init_fields(cfg)
    changes: dict[str, Any] = {}
    for name, value in tree.items():
        dotted = f"{prefix}{name}"
        if name not in names:
            raise _unknown(name, prefix, cfg, hints)
        kind = hints[name]
        if isinstance(value, dict) and typing.get_origin(kind) is dict:  # keys of a dict field
            key_kind, value_kind = typing.get_args(kind) or (Any, Any)
            merged = dict(getattr(cfg, name))
            for key, item in value.items():
                if isinstance(item, dict):
                    raise ValueError(f"{dotted}.{key} is a nested table; {dotted} takes plain "
                                     f"values")
                merged[_coerce(dotted, key, key_kind)] = (
                    _parse(f"{dotted}.{key}", item, value_kind)
                    if parse_text and isinstance(item, str)
                    else _coerce(f"{dotted}.{key}", item, value_kind))
            changes[name] = merged
        elif isinstance(value, dict):  # a group: set its fields
            nested = _dataclass_in(kind)
            if nested is None:
                raise ValueError(f"{dotted} is not a group of settings; set it as "
                                 f"{dotted}=VALUE")
            current = getattr(cfg, name)
            if current is None:  # e.g. `sac: SACConfig | None = None`: start from defaults
                current = _build(nested, {}, f"{dotted}.")
            changes[name] = _apply(current, value, f"{dotted}.", parse_text)
        elif parse_text and isinstance(value, str):
            changes[name] = _parse(dotted, value, kind)
        else:
            changes[name] = _coerce(dotted, value, kind)
    return _build(type(cfg), changes, prefix, base=cfg)


def apply_overrides(cfg: T, overrides: Mapping[str, Any] | None, *,
                    parse_text: bool = True) -> T:
    """A copy of the dataclass `cfg` with settings changed; `cfg` itself is left as it is.

    Args:
        cfg: a dataclass instance (frozen or not).
        overrides: {key: value}. A key names a field, or with dots a field of a nested
            dataclass at any depth (``ppo.gamma``); a nested dataclass that is None starts from
            its defaults. A string value is parsed against the field's type hint (see the
            module docstring); any other value (int, float, bool, list, None, a nested dict of
            settings, a dataclass instance) is checked against it.
        parse_text: parse string values as override text (the command line); with False,
            every value must already have the field's type, so a string only fits a ``str``
            or string ``Literal`` field (preset files).

    Returns:
        The new configuration, built with `dataclasses.replace` level by level (every
        dataclass's own checks run once, on its final values).

    Raises:
        ValueError: an unknown key (the message lists the valid settings at that level), a value
            that does not fit the field's type (naming the dotted key), a whole nested dataclass
            given as a string, or a configuration that its own checks reject.
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise ValueError(f"cfg must be a dataclass instance, got {cfg!r}")
    if not overrides:
        return cfg
    return _apply(cfg, _nest(overrides), "", parse_text)


# ---------------------------------------------------------------------------------------------
# dicts


def _to_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_to_data(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _to_data(v) for k, v in value.items()}
    return value


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """The dataclass as a JSON-ready dict: nested dataclasses become dicts, tuples lists.

    Args:
        cfg: a dataclass instance.

    Returns:
        {field: value} for every field; `config_from_dict(type(cfg), result)` rebuilds `cfg`.
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise ValueError(f"cfg must be a dataclass instance, got {cfg!r}")
    return _to_data(cfg)


def _from_dict(cls: type[T], data: Mapping[str, Any], prefix: str) -> T:
    if not isinstance(data, Mapping):
        raise ValueError(f"{prefix[:-1] or cls.__name__} must be a table of settings, "
                         f"got {data!r}")
    hints = _hints(cls)
    names = _init_fields(cls)
    derived = {f.name for f in dataclasses.fields(cls) if not f.init}
    unknown = [k for k in data if k not in names and k not in derived]
    if unknown:
        where = f" of {prefix[:-1]}" if prefix else f" of {cls.__name__}"
        raise ValueError(f"unknown setting(s) {', '.join(repr(prefix + k) for k in unknown)}; "
                         f"valid settings{where}: {_describe(cls, hints)}")
    kwargs = {k: _coerce(f"{prefix}{k}", v, hints[k]) for k, v in data.items() if k in names}
    return _build(cls, kwargs, prefix)


def config_from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuilds a (nested, frozen) dataclass from `config_to_dict` output.

    Lists become tuples where the type hint says tuple, nested dicts become the nested
    dataclasses, and every value is checked against its field's type hint. Settings missing
    from `data` keep their defaults (a configuration saved before a field was added still loads).

    Args:
        cls: the dataclass type.
        data: {field: value}, nested dicts for nested dataclasses.

    Returns:
        The configuration.

    Raises:
        ValueError: unknown keys (named, with their dotted path), a value of the wrong type, or
            a configuration that its own checks reject.
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"cls must be a dataclass type, got {cls!r}")
    return _from_dict(cls, data, "")
