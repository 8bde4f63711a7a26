"""Tuned settings shipped as data: one TOML file per family in this folder.

Each file maps a key to a table of settings; a nested table sets the fields of a nested dataclass
(TOML's ``["Pendulum-v1".ppo]`` or a dotted key ``ppo.gamma = 0.95``), and every value carries a
comment with the measurement that chose it ("default, not tuned" where there is none). A key
without a table has no preset: its settings are the dataclass defaults.

Families:

``experts`` (``experts.toml``)
    Key: the gymnasium id (``"Pendulum-v1"``); the tables set `irlgan.rl.ExpertConfig` fields
    (`irlgan.rl.default_expert_config`).
``control`` (``control.toml``)
    Key: ``"<algorithm>/<env_id>"`` (``"airl/Pendulum-v1"``; the algorithm is the part before the
    first ``/``, so ``"airl/irlgan/PointMass-v0"`` is AIRL on ``irlgan/PointMass-v0``). An
    optional shared section ``"*/<env_id>"`` applies to every algorithm on that task;
    `load_preset` merges the algorithm's own section over it, table by table, so a value in
    ``"airl/<env_id>"`` wins over the same value in ``"*/<env_id>"``. The tables set
    `irlgan.control.ControlRunConfig` run fields and `irlgan.AdversarialConfig` fields
    (`irlgan.control.default_config` decides which is which).

Example (``control.toml``; the values are placeholders):

```toml
["*/Pendulum-v1"]
total_steps = 1_000_000  # <the measurement that chose it>
ppo.gamma = 0.95         # <...>

["airl/Pendulum-v1"]
entropy_weight = 0.1     # <...>
```

The files are read with `tomllib` (Python >= 3.11) or `tomli` (3.10) through
`importlib.resources`, so they are found in an installed package as in a source checkout.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import sys
from collections.abc import Mapping
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from irlgan.config import apply_overrides

__all__ = ["apply_preset", "load_preset", "preset_families", "preset_keys"]

T = TypeVar("T")

SHARED = "*"
"""The algorithm part of a ``control`` section that every algorithm shares."""

_SHARED_FAMILIES = frozenset({"control"})
"""Families whose keys are "<algorithm>/<key>" on top of a shared "*/<key>" section."""


def preset_families() -> tuple[str, ...]:
    """The families that have a preset file, sorted (``("control", "experts", ...)``)."""
    root = importlib.resources.files(__name__)
    return tuple(sorted(entry.name[:-len(".toml")] for entry in root.iterdir()
                        if entry.name.endswith(".toml") and entry.is_file()))


@functools.cache
def _read(family: str) -> dict[str, Any]:
    families = preset_families()
    if family not in families:
        raise ValueError(f"unknown preset family {family!r}; known: {', '.join(families)}")
    resource = importlib.resources.files(__name__).joinpath(f"{family}.toml")
    try:
        table = tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"preset file {family}.toml is not valid TOML: {error}") from None
    for key, value in table.items():
        if not isinstance(value, dict):
            raise ValueError(f"preset file {family}.toml: {key!r} must be a table "
                             f"([{key!r}]), got {value!r}")
    return table


def preset_keys(family: str) -> tuple[str, ...]:
    """The keys with a section in the family's file, in file order (shared sections included)."""
    return tuple(_read(family))


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `top`, nested tables merged key by key."""
    merged = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_preset(family: str, key: str) -> dict[str, Any]:
    """The preset of `key` in `family` as nested overrides (`irlgan.config.apply_overrides`).

    Args:
        family: the file's name without ``.toml`` (``"experts"``, ``"control"``).
        key: the section (``"Pendulum-v1"``; for ``control``, ``"<algorithm>/<env_id>"``, its
            ``"*/<env_id>"`` section merged underneath).

    Returns:
        A fresh nested dict of values (``{"num_envs": 16, "ppo": {"gamma": 0.95}}``); ``{}`` when
        the key has no section.

    Raises:
        ValueError: an unknown family, a file that is not valid TOML, or (``control``) a key
            without an algorithm part.
    """
    table = _read(family)
    if family in _SHARED_FAMILIES:
        algorithm, sep, rest = key.partition("/")
        if not sep or not algorithm or not rest:
            raise ValueError(f"{family} preset keys are '<algorithm>/<env_id>', got {key!r}")
        return _merge(table.get(f"{SHARED}/{rest}", {}), table.get(key, {}))
    return copy.deepcopy(table.get(key, {}))


def apply_preset(cfg: T, family: str, key: str) -> T:
    """`cfg` with the preset of `key` in `family` applied (unchanged when there is none).

    Raises:
        ValueError: as `load_preset`, or a preset value that names no field of `cfg` or does not
            have its type (`irlgan.config.apply_overrides` with ``parse_text=False``: a TOML
            string never stands for a number, a boolean or a list).
    """
    preset = load_preset(family, key)
    try:
        return apply_overrides(cfg, preset, parse_text=False)
    except ValueError as error:
        raise ValueError(f"preset {family}.toml [{key!r}]: {error}") from error
