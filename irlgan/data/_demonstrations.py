"""Demonstrations: exact soft-optimal sampling, an on-disk format, and strict validation.

On-disk format (version 1): a directory holding two files.

- `arrays.npz` (written with `numpy.savez`, read with `allow_pickle=False`), exactly the keys
    - `states`: int64 [N, T+1], the visited states $x_0, \\dots, x_T$;
    - `actions`: int64 [N, T], the actions $u_0, \\dots, u_{T-1}$;
    - `returns`: float64 [N], minus the true cost of each trajectory, $-c(\\tau)$.
- `metadata.json`, an object with the keys
    - `format`: the string `"irlgan.demonstrations"`;
    - `format_version`: the integer 1;
    - `env_id`: the environment the demonstrations come from (a string, may be empty);
    - `horizon`: T; `count`: N; `seed`: the sampling seed (integer or null);
    - `num_states`, `num_actions`: S and A, the ranges of `states` and `actions`.

Each file is written to a temporary name in the same directory and moved into place with
`os.replace`, so a reader never sees a half-written file. `load_demonstrations` checks everything
above and, given the MDP, that every step follows its dynamics; errors name the file and field.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from irlgan._io import atomic_write
from irlgan.tabular import (
    StochasticTabularMDP,
    TabularMDP,
    sample_trajectories,
    soft_value_iteration,
    trajectory_cost,
)

__all__ = [
    "ARRAYS_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_FILE",
    "TabularDemonstrations",
    "load_demonstrations",
    "sample_demonstrations",
    "save_demonstrations",
]

FORMAT_NAME = "irlgan.demonstrations"
FORMAT_VERSION = 1
ARRAYS_FILE = "arrays.npz"
METADATA_FILE = "metadata.json"
_ARRAY_KEYS = ("states", "actions", "returns")
_METADATA_KEYS = (
    "format",
    "format_version",
    "env_id",
    "horizon",
    "count",
    "seed",
    "num_states",
    "num_actions",
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, eq=False)
class TabularDemonstrations:
    """A batch of demonstration trajectories and where they come from.

    Attributes:
        states: int64, shape [N, T+1], values in [0, num_states).
        actions: int64, shape [N, T], values in [0, num_actions).
        returns: float64, shape [N]; minus the true cost of each trajectory.
        env_id: the environment id (may be empty).
        horizon: T.
        seed: the sampling seed, or None.
        num_states: S.
        num_actions: A.
        format_version: the on-disk format version.
    """

    states: Tensor
    actions: Tensor
    returns: Tensor
    env_id: str
    horizon: int
    seed: int | None
    num_states: int
    num_actions: int
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        for name in ("horizon", "num_states", "num_actions"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.seed is not None and not _is_int(self.seed):
            raise ValueError(f"seed must be an integer or None, got {self.seed!r}")
        if not isinstance(self.env_id, str):
            raise ValueError(f"env_id must be a string, got {self.env_id!r}")
        if self.format_version != FORMAT_VERSION:
            raise ValueError(
                f"format_version must be {FORMAT_VERSION}, got {self.format_version!r}"
            )
        states = torch.as_tensor(self.states)
        actions = torch.as_tensor(self.actions)
        returns = torch.as_tensor(self.returns)
        for name, value, dtype in (
            ("states", states, torch.int64),
            ("actions", actions, torch.int64),
            ("returns", returns, torch.float64),
        ):
            if value.dtype != dtype:
                raise ValueError(f"{name} must have dtype {dtype}, got {value.dtype}")
        count = states.shape[0] if states.ndim >= 1 else -1
        if states.ndim != 2 or states.shape[1] != self.horizon + 1 or count < 1:
            raise ValueError(
                f"states must have shape [N, {self.horizon + 1}] with N >= 1, "
                f"got {list(states.shape)}"
            )
        if tuple(actions.shape) != (count, self.horizon):
            raise ValueError(
                f"actions must have shape [{count}, {self.horizon}], got {list(actions.shape)}"
            )
        if tuple(returns.shape) != (count,):
            raise ValueError(f"returns must have shape [{count}], got {list(returns.shape)}")
        if (states < 0).any() or (states >= self.num_states).any():
            raise ValueError(f"states must lie in [0, {self.num_states})")
        if (actions < 0).any() or (actions >= self.num_actions).any():
            raise ValueError(f"actions must lie in [0, {self.num_actions})")
        if not torch.isfinite(returns).all():
            raise ValueError("returns must be finite")
        object.__setattr__(self, "states", states)
        object.__setattr__(self, "actions", actions)
        object.__setattr__(self, "returns", returns)

    @property
    def count(self) -> int:
        """N, the number of trajectories."""
        return int(self.states.shape[0])

    def metadata(self) -> dict[str, Any]:
        """The contents of `metadata.json`."""
        return {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "env_id": self.env_id,
            "horizon": self.horizon,
            "count": self.count,
            "seed": self.seed,
            "num_states": self.num_states,
            "num_actions": self.num_actions,
        }

    def check_dynamics(self, mdp: TabularMDP | StochasticTabularMDP) -> None:
        """Raises ValueError unless the trajectories are possible under `mdp`.

        Checks S, A and T, and that every step goes to `mdp.next_state` (deterministic) or to a
        state of positive transition probability (stochastic).
        """
        if not isinstance(mdp, TabularMDP | StochasticTabularMDP):
            raise ValueError(f"mdp must be a TabularMDP or StochasticTabularMDP, got {mdp!r}")
        for name, mine, theirs in (
            ("num_states", self.num_states, mdp.num_states),
            ("num_actions", self.num_actions, mdp.num_actions),
            ("horizon", self.horizon, mdp.horizon),
        ):
            if mine != theirs:
                raise ValueError(f"field {name!r} is {mine} but the mdp has {theirs}")
        here, there = self.states[:, :-1], self.states[:, 1:]
        if isinstance(mdp, TabularMDP):
            bad = mdp.next_state[here, self.actions] != there
        else:
            bad = mdp.transition[here, self.actions, there] <= 0
        if bad.any():
            row, step = (int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"field 'states' does not follow the mdp dynamics: trajectory {row}, step {step}"
            )


def sample_demonstrations(
    mdp: TabularMDP | StochasticTabularMDP,
    cost: Tensor,
    n: int,
    seed: int,
    env_id: str = "",
) -> TabularDemonstrations:
    """Samples demonstrations from the exact soft-optimal policy of `cost`.

    The policy is that of `soft_value_iteration(mdp, cost)` (maximum causal entropy for
    stochastic dynamics), started from `mdp.initial`.

    Args:
        mdp: the problem.
        cost: the true cost, shape [S, A].
        n: the number of trajectories.
        seed: seeds the `torch.Generator` used for sampling.
        env_id: recorded in the metadata.

    Returns:
        `TabularDemonstrations` with `returns` $= -c(\\tau)$ under `cost`.
    """
    if not _is_int(seed):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    cost = torch.as_tensor(cost, dtype=torch.float64)
    _, _, policy = soft_value_iteration(mdp, cost)
    generator = torch.Generator().manual_seed(seed)
    states, actions = sample_trajectories(mdp, policy, n, generator)
    returns = -trajectory_cost(cost, states, actions)
    return TabularDemonstrations(
        states=states,
        actions=actions,
        returns=returns,
        env_id=env_id,
        horizon=mdp.horizon,
        seed=seed,
        num_states=mdp.num_states,
        num_actions=mdp.num_actions,
    )


def _write_files(directory: Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Writes `arrays.npz` and `metadata.json` into `directory`, each atomically."""
    atomic_write(directory / ARRAYS_FILE, lambda handle: np.savez(handle, **arrays))
    text = json.dumps(metadata, indent=2, sort_keys=True) + "\n"
    atomic_write(directory / METADATA_FILE, lambda handle: handle.write(text.encode()))


def _existing_files(directory: Path) -> tuple[Path, Path]:
    """The paths of `arrays.npz` and `metadata.json` in `directory` (FileNotFoundError if a
    path is missing)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: demonstrations directory not found")
    arrays_path, metadata_path = directory / ARRAYS_FILE, directory / METADATA_FILE
    for path in (arrays_path, metadata_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: file not found")
    return arrays_path, metadata_path


def _read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in `path`; ValueError naming the file otherwise."""
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: must hold a JSON object")
    return metadata


def save_demonstrations(demos: TabularDemonstrations, directory: str | os.PathLike[str]) -> Path:
    """Writes `arrays.npz` and `metadata.json` into `directory` (created if needed), atomically.

    Args:
        demos: the demonstrations.
        directory: the target directory.

    Returns:
        The directory as a `Path`.
    """
    if not isinstance(demos, TabularDemonstrations):
        raise ValueError(f"demos must be TabularDemonstrations, got {type(demos)!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "states": demos.states.numpy(),
        "actions": demos.actions.numpy(),
        "returns": demos.returns.numpy(),
    }
    _write_files(directory, arrays, demos.metadata())
    return directory


def _read_metadata(path: Path) -> dict[str, Any]:
    metadata = _read_json_object(path)
    missing = [key for key in _METADATA_KEYS if key not in metadata]
    if missing:
        raise ValueError(f"{path}: missing field(s) {missing}")
    if metadata["format"] != FORMAT_NAME:
        raise ValueError(
            f"{path}: field 'format' must be {FORMAT_NAME!r}, got {metadata['format']!r}"
        )
    if metadata["format_version"] != FORMAT_VERSION or not _is_int(metadata["format_version"]):
        raise ValueError(
            f"{path}: field 'format_version' must be {FORMAT_VERSION}, "
            f"got {metadata['format_version']!r}"
        )
    if not isinstance(metadata["env_id"], str):
        raise ValueError(f"{path}: field 'env_id' must be a string")
    for key in ("horizon", "count", "num_states", "num_actions"):
        if not _is_int(metadata[key]) or metadata[key] < 1:
            raise ValueError(
                f"{path}: field {key!r} must be a positive integer, got {metadata[key]!r}"
            )
    if metadata["seed"] is not None and not _is_int(metadata["seed"]):
        raise ValueError(f"{path}: field 'seed' must be an integer or null")
    return metadata


def _read_arrays(path: Path, keys: tuple[str, ...] = _ARRAY_KEYS) -> dict[str, np.ndarray]:
    """Exactly the arrays `keys` of an .npz file, read without pickle."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04":
        raise ValueError(f"{path}: not an .npz archive (corrupt, or another program's file)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{path}: not a complete .npz archive (truncated or corrupt: "
                         f"{_first_line(error)})") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz archive (holds a single array)")
    with archive:
        found = set(archive.files)
        if found != set(keys):
            raise ValueError(f"{path}: keys must be exactly {sorted(keys)}, got {sorted(found)}")
        arrays = {}
        for key in keys:
            try:
                arrays[key] = archive[key]
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
                # e.g. an object array (refused without pickle) or a damaged member
                raise ValueError(f"{path}: field {key!r} cannot be read (damaged, or Python "
                                 "objects, which are never loaded)") from error
    return arrays


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def load_demonstrations(
    directory: str | os.PathLike[str], mdp: TabularMDP | StochasticTabularMDP | None = None
) -> TabularDemonstrations:
    """Loads and validates demonstrations written by `save_demonstrations`.

    Args:
        directory: the directory holding `arrays.npz` and `metadata.json`.
        mdp: if given, the demonstrations must match its sizes and follow its dynamics.

    Returns:
        The `TabularDemonstrations`.

    Raises:
        FileNotFoundError: if the directory or one of its files is missing.
        ValueError: for malformed content; the message names the file and the field.
    """
    directory = Path(directory)
    arrays_path, metadata_path = _existing_files(directory)
    metadata = _read_metadata(metadata_path)
    arrays = _read_arrays(arrays_path)
    horizon, count = metadata["horizon"], metadata["count"]
    expected_shapes = {
        "states": (count, horizon + 1),
        "actions": (count, horizon),
        "returns": (count,),
    }
    expected_dtypes = {"states": np.int64, "actions": np.int64, "returns": np.float64}
    for key in _ARRAY_KEYS:
        array = arrays[key]
        if array.dtype != expected_dtypes[key]:
            raise ValueError(
                f"{arrays_path}: field {key!r} must have dtype "
                f"{np.dtype(expected_dtypes[key])}, got {array.dtype}"
            )
        if array.shape != expected_shapes[key]:
            if array.ndim >= 1 and array.shape[0] != count:
                raise ValueError(
                    f"{arrays_path}: field {key!r} holds {array.shape[0]} trajectories but "
                    f"{metadata_path} says count={count}"
                )
            raise ValueError(
                f"{arrays_path}: field {key!r} must have shape {list(expected_shapes[key])} "
                f"(count and horizon from {metadata_path.name}), got {list(array.shape)}"
            )
    for key, bound in (("states", metadata["num_states"]), ("actions", metadata["num_actions"])):
        array = arrays[key]
        if array.size and (array.min() < 0 or array.max() >= bound):
            raise ValueError(f"{arrays_path}: field {key!r} has values outside [0, {bound})")
    if not np.isfinite(arrays["returns"]).all():
        raise ValueError(f"{arrays_path}: field 'returns' must be finite")
    demos = TabularDemonstrations(
        states=torch.from_numpy(arrays["states"].copy()),
        actions=torch.from_numpy(arrays["actions"].copy()),
        returns=torch.from_numpy(arrays["returns"].copy()),
        env_id=metadata["env_id"],
        horizon=horizon,
        seed=metadata["seed"],
        num_states=metadata["num_states"],
        num_actions=metadata["num_actions"],
        format_version=metadata["format_version"],
    )
    if mdp is not None:
        try:
            demos.check_dynamics(mdp)
        except ValueError as error:
            raise ValueError(f"{arrays_path}: does not match the mdp: {error}") from error
    return demos
