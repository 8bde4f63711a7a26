r"""Continuous-control demonstrations: float observations and actions, episodes of unequal length.

On-disk format (the tabular format's layout, its own format name): a directory holding

- `arrays.npz` (`numpy.savez`, read with `allow_pickle=False`), exactly the keys
    - `obs`: float32 [N, T+1, d_obs], $x_0, \dots, x_{L_i}$ of trajectory $i$, then zeros;
    - `actions`: float32 [N, T, d_act], $u_0, \dots, u_{L_i-1}$, then zeros;
    - `lengths`: int64 [N], $L_i \in [1, T]$, the steps of each trajectory;
    - `returns`: float64 [N], the environment return of each trajectory;
- `metadata.json`, an object with the keys `format` (`"irlgan.continuous-demonstrations"`),
  `format_version` (1), `env_id`, `count` (N), `horizon` (T, the longest trajectory), `obs_dim`,
  `act_dim`, `seed` (integer or null), `deterministic` (whether the actions are the expert's
  mode or samples from it), `expert_return` and `random_return` (the reference returns of the
  normalised score, numbers or null).

Both files are written atomically (temporary file, fsync, `os.replace`). `load_continuous_
demonstrations` checks every field and names the file and field in its errors. The padding
beyond a trajectory's length must be zero, so a file has a single valid form.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from irlgan.data._demonstrations import (
    _existing_files,
    _is_int,
    _read_arrays,
    _read_json_object,
    _write_files,
)

__all__ = [
    "CONTINUOUS_FORMAT_NAME",
    "CONTINUOUS_FORMAT_VERSION",
    "ContinuousDemonstrations",
    "load_continuous_demonstrations",
    "save_continuous_demonstrations",
]

CONTINUOUS_FORMAT_NAME = "irlgan.continuous-demonstrations"
CONTINUOUS_FORMAT_VERSION = 1
_ARRAY_KEYS = ("obs", "actions", "lengths", "returns")
_METADATA_KEYS = (
    "format",
    "format_version",
    "env_id",
    "count",
    "horizon",
    "obs_dim",
    "act_dim",
    "seed",
    "deterministic",
    "expert_return",
    "random_return",
)


def _optional_number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number or None, got {value!r}")
    return float(value)


@dataclass(frozen=True, eq=False)
class ContinuousDemonstrations:
    """Demonstration trajectories of a continuous-control task, padded to a common length.

    Attributes:
        obs: float32 [N, T+1, d_obs]; rows beyond `lengths[i] + 1` are zero.
        actions: float32 [N, T, d_act]; rows beyond `lengths[i]` are zero.
        lengths: int64 [N], values in [1, T].
        returns: float64 [N], the environment return of each trajectory.
        env_id: the gymnasium id.
        seed: the seed that generated them, or None.
        deterministic: True if the actions are the policy's mode, False if sampled.
        expert_return: the expert's mean deterministic return on held-out seeds, or None.
        random_return: the mean return of uniformly random actions there, or None.
        format_version: the on-disk format version.
    """

    obs: Tensor
    actions: Tensor
    lengths: Tensor
    returns: Tensor
    env_id: str
    seed: int | None = None
    deterministic: bool = False
    expert_return: float | None = None
    random_return: float | None = None
    format_version: int = CONTINUOUS_FORMAT_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.env_id, str):
            raise ValueError(f"env_id must be a string, got {self.env_id!r}")
        if self.seed is not None and not _is_int(self.seed):
            raise ValueError(f"seed must be an integer or None, got {self.seed!r}")
        if not isinstance(self.deterministic, bool):
            raise ValueError(f"deterministic must be a bool, got {self.deterministic!r}")
        if self.format_version != CONTINUOUS_FORMAT_VERSION:
            raise ValueError(f"format_version must be {CONTINUOUS_FORMAT_VERSION}, "
                             f"got {self.format_version!r}")
        for name in ("expert_return", "random_return"):
            object.__setattr__(self, name, _optional_number(name, getattr(self, name)))
        obs = torch.as_tensor(self.obs)
        actions = torch.as_tensor(self.actions)
        lengths = torch.as_tensor(self.lengths)
        returns = torch.as_tensor(self.returns)
        for name, value, dtype in (
            ("obs", obs, torch.float32),
            ("actions", actions, torch.float32),
            ("lengths", lengths, torch.int64),
            ("returns", returns, torch.float64),
        ):
            if value.dtype != dtype:
                raise ValueError(f"{name} must have dtype {dtype}, got {value.dtype}")
        if actions.ndim != 3 or actions.shape[0] < 1 or actions.shape[1] < 1 or (
            actions.shape[2] < 1
        ):
            raise ValueError(f"actions must have shape [N, T, d_act] with N, T, d_act >= 1, "
                             f"got {list(actions.shape)}")
        count, horizon, _ = actions.shape
        if obs.ndim != 3 or obs.shape[:2] != (count, horizon + 1) or obs.shape[2] < 1:
            raise ValueError(f"obs must have shape [{count}, {horizon + 1}, d_obs], "
                             f"got {list(obs.shape)}")
        if tuple(lengths.shape) != (count,):
            raise ValueError(f"lengths must have shape [{count}], got {list(lengths.shape)}")
        if tuple(returns.shape) != (count,):
            raise ValueError(f"returns must have shape [{count}], got {list(returns.shape)}")
        if (lengths < 1).any() or (lengths > horizon).any():
            raise ValueError(f"lengths must lie in [1, {horizon}]")
        if not (torch.isfinite(obs).all() and torch.isfinite(actions).all()):
            raise ValueError("obs and actions must be finite")
        if not torch.isfinite(returns).all():
            raise ValueError("returns must be finite")
        steps = torch.arange(horizon + 1)
        if (obs[steps[None, :] > lengths[:, None]] != 0).any():
            raise ValueError("obs must be zero beyond each trajectory's length")
        if (actions[steps[None, :horizon] >= lengths[:, None]] != 0).any():
            raise ValueError("actions must be zero beyond each trajectory's length")
        for name, value in (("obs", obs), ("actions", actions), ("lengths", lengths),
                            ("returns", returns)):
            object.__setattr__(self, name, value)

    @property
    def count(self) -> int:
        """N, the number of trajectories."""
        return int(self.actions.shape[0])

    @property
    def horizon(self) -> int:
        """T, the padded length (the longest trajectory)."""
        return int(self.actions.shape[1])

    @property
    def obs_dim(self) -> int:
        """d_obs."""
        return int(self.obs.shape[2])

    @property
    def act_dim(self) -> int:
        """d_act."""
        return int(self.actions.shape[2])

    @property
    def mask(self) -> Tensor:
        """bool [N, T], True on real steps (t < lengths[i])."""
        return torch.arange(self.horizon)[None, :] < self.lengths[:, None]

    def metadata(self) -> dict[str, Any]:
        """The contents of `metadata.json`."""
        return {
            "format": CONTINUOUS_FORMAT_NAME,
            "format_version": self.format_version,
            "env_id": self.env_id,
            "count": self.count,
            "horizon": self.horizon,
            "obs_dim": self.obs_dim,
            "act_dim": self.act_dim,
            "seed": self.seed,
            "deterministic": self.deterministic,
            "expert_return": self.expert_return,
            "random_return": self.random_return,
        }

    @classmethod
    def from_episodes(
        cls,
        episodes: list[tuple[np.ndarray, np.ndarray, float]],
        env_id: str,
        **metadata: Any,
    ) -> ContinuousDemonstrations:
        """Pads a list of episodes (obs [L+1, d_obs], actions [L, d_act], return) into a batch.

        Args:
            episodes: the episodes, each with at least one step.
            env_id: the environment.
            **metadata: `seed`, `deterministic`, `expert_return`, `random_return`.
        """
        if not episodes:
            raise ValueError("episodes must not be empty")
        lengths = [int(np.asarray(a).shape[0]) for _, a, _ in episodes]
        horizon = max(lengths)
        obs_dim = int(np.asarray(episodes[0][0]).shape[-1])
        act_dim = int(np.asarray(episodes[0][1]).shape[-1])
        obs = np.zeros((len(episodes), horizon + 1, obs_dim), dtype=np.float32)
        actions = np.zeros((len(episodes), horizon, act_dim), dtype=np.float32)
        for i, (episode_obs, episode_actions, _) in enumerate(episodes):
            length = lengths[i]
            episode_obs = np.asarray(episode_obs, dtype=np.float32)
            if episode_obs.shape != (length + 1, obs_dim):
                raise ValueError(f"episode {i}: obs must have shape [{length + 1}, {obs_dim}], "
                                 f"got {list(episode_obs.shape)}")
            obs[i, : length + 1] = episode_obs
            actions[i, :length] = np.asarray(episode_actions, dtype=np.float32)
        return cls(
            obs=torch.from_numpy(obs),
            actions=torch.from_numpy(actions),
            lengths=torch.tensor(lengths, dtype=torch.int64),
            returns=torch.tensor([float(r) for _, _, r in episodes], dtype=torch.float64),
            env_id=env_id,
            **metadata,
        )


def save_continuous_demonstrations(
    demos: ContinuousDemonstrations, directory: str | os.PathLike[str]
) -> Path:
    """Writes `arrays.npz` and `metadata.json` into `directory` (created if needed), atomically.

    Returns:
        The directory as a `Path`.
    """
    if not isinstance(demos, ContinuousDemonstrations):
        raise ValueError(f"demos must be ContinuousDemonstrations, got {type(demos)!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {key: getattr(demos, key).numpy() for key in _ARRAY_KEYS}
    _write_files(directory, arrays, demos.metadata())
    return directory


def _read_metadata(path: Path) -> dict[str, Any]:
    metadata = _read_json_object(path)
    if metadata.get("format") != CONTINUOUS_FORMAT_NAME:
        raise ValueError(f"{path}: field 'format' must be {CONTINUOUS_FORMAT_NAME!r}, "
                         f"got {metadata.get('format')!r}")
    missing = [key for key in _METADATA_KEYS if key not in metadata]
    if missing:
        raise ValueError(f"{path}: missing field(s) {missing}")
    if metadata["format_version"] != CONTINUOUS_FORMAT_VERSION or not _is_int(
        metadata["format_version"]
    ):
        raise ValueError(f"{path}: field 'format_version' must be {CONTINUOUS_FORMAT_VERSION}, "
                         f"got {metadata['format_version']!r}")
    for key in ("count", "horizon", "obs_dim", "act_dim"):
        if not _is_int(metadata[key]) or metadata[key] < 1:
            raise ValueError(
                f"{path}: field {key!r} must be a positive integer, got {metadata[key]!r}"
            )
    return metadata


def load_continuous_demonstrations(directory: str | os.PathLike[str]) -> ContinuousDemonstrations:
    """Loads and validates demonstrations written by `save_continuous_demonstrations`.

    Raises:
        FileNotFoundError: if the directory or one of its files is missing.
        ValueError: for malformed content; the message names the file and the field.
    """
    directory = Path(directory)
    arrays_path, metadata_path = _existing_files(directory)
    metadata = _read_metadata(metadata_path)
    arrays = _read_arrays(arrays_path, _ARRAY_KEYS)
    count, horizon = metadata["count"], metadata["horizon"]
    expected = {
        "obs": ((count, horizon + 1, metadata["obs_dim"]), np.float32),
        "actions": ((count, horizon, metadata["act_dim"]), np.float32),
        "lengths": ((count,), np.int64),
        "returns": ((count,), np.float64),
    }
    for key, (shape, dtype) in expected.items():
        array = arrays[key]
        if array.dtype != dtype:
            raise ValueError(f"{arrays_path}: field {key!r} must have dtype {np.dtype(dtype)}, "
                             f"got {array.dtype}")
        if array.shape != shape:
            raise ValueError(f"{arrays_path}: field {key!r} must have shape {list(shape)} "
                             f"(from {metadata_path.name}), got {list(array.shape)}")
    try:
        return ContinuousDemonstrations(
            obs=torch.from_numpy(arrays["obs"].copy()),
            actions=torch.from_numpy(arrays["actions"].copy()),
            lengths=torch.from_numpy(arrays["lengths"].copy()),
            returns=torch.from_numpy(arrays["returns"].copy()),
            env_id=metadata["env_id"],
            seed=metadata["seed"],
            deterministic=metadata["deterministic"],
            expert_return=metadata["expert_return"],
            random_return=metadata["random_return"],
            format_version=metadata["format_version"],
        )
    except ValueError as error:
        raise ValueError(f"{directory}: {error}") from error
