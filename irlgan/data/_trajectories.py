r"""Demonstrations of a continuous-control task as lists of episodes: `irlgan.Demonstrations`.

Episode $i$ is observations $x_0, \dots, x_{L_i}$ (an array ``[L_i + 1, d_obs]``), actions
$u_0, \dots, u_{L_i - 1}$ (``[L_i, d_act]``) and whether it ended in a true terminal state
(``terminated[i]``; False for an episode cut by a time limit or by the end of the recording, whose
last state still has a future). That is the whole of what the algorithms read.

On disk (`Demonstrations.save`): a folder with

- `arrays.npz` (`numpy.savez`, read with ``allow_pickle=False``): `observations` float32
  ``[sum(L_i + 1), d_obs]`` and `actions` float32 ``[sum(L_i), d_act]``, the episodes one after
  another; `lengths` int64 ``[N]``; `terminated` and `truncated` bool ``[N]`` (each episode ends
  exactly one way: in a terminal state, or cut by a time limit or the end of the recording);
  `returns` float64 ``[N]`` (NaN where unknown); `rewards` float64 ``[sum(L_i)]``, the reward of
  every step (NaN throughout when the demonstrations have none);
- `metadata.json`: `format` (``"irlgan.demonstrations"``), `format_version` (4), `count`,
  `obs_dim`, `act_dim`, `env_id` (or null), `expert_return`, `random_return` (numbers or null),
  `reference_seeds` (the reset seeds the two reference returns were measured on, a list of
  integers, or null where unknown), `rewards` (whether per-step rewards are recorded),
  `terminated_per_step` (whether `terminated` was given per step, so it comes back that way).

A normalised score compares a policy's return with the reference returns, and start states alone
move a return by several percent, so a score is only meaningful on the seeds the references were
measured on: `irlgan eval` prints one only then (see `reference_seeds`).

`Demonstrations.load` also reads the files of earlier versions: format version 3 (no `rewards`,
and references without seeds), version 2 (also without `truncated`, which is then the complement
of `terminated`), and the folders written by
earlier versions of `irlgan expert` (format ``"irlgan.continuous-demonstrations"``, version 1),
which did not record terminations: there an episode shorter than the environment's time limit is
taken to have terminated.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from irlgan.data._demonstrations import (
    _existing_files,
    _read_arrays,
    _read_json_object,
    _write_files,
)

__all__ = ["DEMONSTRATIONS_FORMAT", "DEMONSTRATIONS_VERSION", "Demonstrations", "describe_seeds"]

DEMONSTRATIONS_FORMAT = "irlgan.demonstrations"
DEMONSTRATIONS_VERSION = 4
_READABLE_VERSIONS = (2, 3, 4)
_ARRAY_KEYS = ("observations", "actions", "lengths", "terminated", "returns")


def _seed_list(value: Any) -> tuple[int, ...] | None:
    """The reference seeds as a tuple of distinct non-negative integers (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ValueError(f"reference_seeds must be a list of integers, got {value!r}")
    seeds = []
    for seed in value:
        if isinstance(seed, np.integer):
            seed = int(seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"reference_seeds must be non-negative integers, got {seed!r}")
        seeds.append(seed)
    if not seeds:
        raise ValueError("reference_seeds must name at least one seed (or be None)")
    if len(set(seeds)) != len(seeds):
        raise ValueError("reference_seeds must not repeat a seed")
    return tuple(seeds)


def describe_seeds(seeds: Sequence[int] | None) -> str:
    """A short form of a seed list: ``1000000-1000049`` for a run of consecutive seeds, else the
    first few and the count."""
    if seeds is None:
        return "unknown seeds"
    seeds = list(seeds)
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    head = ", ".join(str(s) for s in seeds[:3])
    return f"{len(seeds)} seeds ({head}, ...)"


def _number_or_none(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number or None, got {value!r}")
    return float(value)


class Demonstrations:
    """Demonstrated episodes of a task with Box observation and action spaces.

    Build with `from_arrays` or `load`; the attributes hold copies, as float32 numpy arrays.

    Attributes:
        observations: list of N arrays, episode i ``[L_i + 1, d_obs]``.
        actions: list of N arrays, episode i ``[L_i, d_act]``.
        terminated: list of N bools (or of N per-step bool arrays ``[L_i]``, if given that way):
            the episode ended in a true terminal state.
        returns: float64 ``[N]``, each episode's environment return (NaN where unknown).
        rewards: list of N float64 arrays ``[L_i]``, the reward of every step, or None.
        env_id: the gymnasium id they were recorded in, or None.
        expert_return, random_return: reference returns of the normalised score, or None.
        reference_seeds: the reset seeds the reference returns were measured on (a tuple of
            integers), or None where unknown; a normalised score is only given on these seeds.
    """

    def __init__(self, observations: list[np.ndarray], actions: list[np.ndarray],
                 terminated: np.ndarray, *, terminated_per_step: bool = False,
                 returns: np.ndarray | None = None, rewards: list[np.ndarray] | None = None,
                 env_id: str | None = None, expert_return: float | None = None,
                 random_return: float | None = None,
                 reference_seeds: Sequence[int] | None = None) -> None:
        self.observations = observations
        self.actions = actions
        self.rewards = rewards
        self._terminated = np.asarray(terminated, dtype=bool)
        self._per_step = bool(terminated_per_step)
        count = len(observations)
        self.returns = (np.full(count, np.nan) if returns is None
                        else np.asarray(returns, dtype=np.float64).reshape(-1))
        if self.returns.shape != (count,):
            raise ValueError(f"returns must have one value per episode ({count}), "
                             f"got {self.returns.shape[0]}")
        if env_id is not None and not isinstance(env_id, str):
            raise ValueError(f"env_id must be a string or None, got {env_id!r}")
        self.env_id = env_id
        self.expert_return = _number_or_none("expert_return", expert_return)
        self.random_return = _number_or_none("random_return", random_return)
        self.reference_seeds = _seed_list(reference_seeds)
        if self.reference_seeds is not None and expert_return is None and random_return is None:
            raise ValueError("reference_seeds given without reference returns (expert_return, "
                             "random_return)")

    # ------------------------------------------------------------------------------------------
    # Construction and the properties
    # ------------------------------------------------------------------------------------------

    @classmethod
    def from_arrays(cls, observations: Sequence[Any], actions: Sequence[Any],
                    terminated: Sequence[Any], *, truncated: Sequence[Any] | None = None,
                    returns: Sequence[float] | None = None,
                    rewards: Sequence[Any] | None = None,
                    env_id: str | None = None, expert_return: float | None = None,
                    random_return: float | None = None,
                    reference_seeds: Sequence[int] | None = None) -> Demonstrations:
        """Demonstrations from per-episode arrays.

        Args:
            observations: N arrays ``[L_i + 1, d_obs]`` (one more row than the actions).
            actions: N arrays ``[L_i, d_act]``, ``L_i >= 1``.
            terminated: N bools, or N per-step bool arrays ``[L_i]`` whose only possible True is
                the last step.
            truncated: optional, in the same form: whether each episode was cut (by a time limit
                or the end of the recording). Every episode ends exactly one way, so when given
                it must be the complement of `terminated` at each episode's last step.
            returns: optional environment return of each episode (the sum of `rewards` when
                only those are given).
            rewards: optional N arrays ``[L_i]``, the reward of every step; where `returns` are
                given too, each episode's rewards must sum to its return.
            env_id: optional gymnasium id, recorded with them.
            expert_return, random_return: optional reference returns of the normalised score.
            reference_seeds: the reset seeds the reference returns were measured on (None:
                unknown, and scores against them are reported as raw returns).

        Raises:
            ValueError: naming the episode and what is wrong (shapes, non-finite values, ...).
        """
        if isinstance(observations, np.ndarray) or isinstance(actions, np.ndarray):
            raise ValueError("observations and actions must be lists of per-episode arrays "
                             "(one [L+1, d_obs] and one [L, d_act] array per episode)")
        observations, actions = list(observations), list(actions)
        count = len(observations)
        if count == 0:
            raise ValueError("demonstrations need at least one episode")
        if len(actions) != count:
            raise ValueError(f"got {count} observation arrays but {len(actions)} action arrays")
        terminated = list(terminated) if not isinstance(terminated, np.ndarray) else terminated
        if len(terminated) != count:
            raise ValueError(f"got {count} episodes but {len(terminated)} terminated entries")
        obs_out, act_out = [], []
        obs_dim = act_dim = None
        for i, (obs, act) in enumerate(zip(observations, actions, strict=True)):
            obs = np.array(obs, dtype=np.float32, copy=True)
            act = np.array(act, dtype=np.float32, copy=True)
            if act.ndim == 1:
                act = act[:, None]
            if obs.ndim == 1:
                obs = obs[:, None]
            if obs.ndim != 2 or act.ndim != 2:
                raise ValueError(f"episode {i}: observations must be [L+1, d_obs] and actions "
                                 f"[L, d_act], got {list(obs.shape)} and {list(act.shape)}")
            if act.shape[0] < 1:
                raise ValueError(f"episode {i}: has no actions (at least one step is needed)")
            if obs.shape[0] != act.shape[0] + 1:
                raise ValueError(f"episode {i}: observations must have one more row than "
                                 f"actions, got {obs.shape[0]} and {act.shape[0]}")
            obs_dim = obs.shape[1] if obs_dim is None else obs_dim
            act_dim = act.shape[1] if act_dim is None else act_dim
            if obs.shape[1] != obs_dim or act.shape[1] != act_dim:
                raise ValueError(f"episode {i}: widths {obs.shape[1]}/{act.shape[1]} differ from "
                                 f"episode 0's {obs_dim}/{act_dim}")
            for name, array in (("observations", obs), ("actions", act)):
                if not np.isfinite(array).all():
                    raise ValueError(f"episode {i}: {name} contain NaN or inf")
            obs_out.append(obs)
            act_out.append(act)
        per_step = any(np.ndim(t) > 0 for t in terminated)
        flags = np.zeros(count, dtype=bool)
        for i, flag in enumerate(terminated):
            if per_step:
                steps = np.asarray(flag)
                if steps.shape != (act_out[i].shape[0],):
                    raise ValueError(f"episode {i}: per-step terminated must have shape "
                                     f"[{act_out[i].shape[0]}], got {list(steps.shape)}")
                steps = steps.astype(bool)
                if steps[:-1].any():
                    raise ValueError(f"episode {i}: terminated is True before the last step")
                flags[i] = bool(steps[-1])
            else:
                if isinstance(flag, np.ndarray):
                    flag = flag.item()
                if not isinstance(flag, bool | np.bool_ | int) or flag not in (0, 1):
                    raise ValueError(f"episode {i}: terminated must be a bool, got {flag!r}")
                flags[i] = bool(flag)
        if truncated is not None:
            cls._check_truncated(truncated, flags, act_out)
        reward_out = None
        if rewards is not None:
            reward_out = cls._check_rewards(rewards, act_out, returns)
            if returns is None:
                returns = [float(r.sum()) for r in reward_out]
        return cls(obs_out, act_out, flags, terminated_per_step=per_step, returns=returns,
                   rewards=reward_out, env_id=env_id, expert_return=expert_return,
                   random_return=random_return, reference_seeds=reference_seeds)

    @staticmethod
    def _check_rewards(rewards: Sequence[Any], actions: list[np.ndarray],
                       returns: Sequence[float] | None) -> list[np.ndarray]:
        rewards = list(rewards)
        if len(rewards) != len(actions):
            raise ValueError(f"got {len(actions)} episodes but {len(rewards)} reward arrays")
        out = []
        for i, (value, act) in enumerate(zip(rewards, actions, strict=True)):
            steps = np.array(value, dtype=np.float64, copy=True).reshape(-1)
            if steps.shape != (act.shape[0],):
                raise ValueError(f"episode {i}: rewards must have shape [{act.shape[0]}], got "
                                 f"{list(np.shape(value))}")
            if not np.isfinite(steps).all():
                raise ValueError(f"episode {i}: rewards contain NaN or inf")
            out.append(steps)
        if returns is not None:
            given = np.asarray(returns, dtype=np.float64).reshape(-1)
            sums = np.array([r.sum() for r in out])
            if given.shape == sums.shape:
                known = np.isfinite(given)
                scale = np.array([np.abs(r).sum() for r in out]) + 1.0
                bad = known & (np.abs(given - sums) > 1e-5 * scale)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise ValueError(f"episode {i}: its rewards sum to {sums[i]:.6g} but its "
                                     f"return is {given[i]:.6g}")
        return out

    @property
    def terminated(self) -> list[Any]:
        """Per episode: a bool, or a per-step bool array when they were given per step."""
        if not self._per_step:
            return [bool(t) for t in self._terminated]
        out = []
        for flag, act in zip(self._terminated, self.actions, strict=True):
            steps = np.zeros(act.shape[0], dtype=bool)
            steps[-1] = flag
            out.append(steps)
        return out

    @staticmethod
    def _check_truncated(truncated: Sequence[Any], flags: np.ndarray,
                         actions: list[np.ndarray]) -> None:
        truncated = list(truncated) if not isinstance(truncated, np.ndarray) else truncated
        if len(truncated) != len(flags):
            raise ValueError(f"got {len(flags)} episodes but {len(truncated)} truncated entries")
        for i, value in enumerate(truncated):
            steps = np.asarray(value)
            if steps.ndim > 0:
                if steps.shape != (actions[i].shape[0],):
                    raise ValueError(f"episode {i}: per-step truncated must have shape "
                                     f"[{actions[i].shape[0]}], got {list(steps.shape)}")
                if steps[:-1].astype(bool).any():
                    raise ValueError(f"episode {i}: truncated is True before the last step")
                steps = steps[-1]
            if steps.dtype.kind not in "bui" or steps.item() not in (0, 1):
                raise ValueError(f"episode {i}: truncated must be a bool, got {value!r}")
            if bool(steps.item()) == bool(flags[i]):
                both = "both terminated and truncated" if flags[i] else "neither terminated nor "\
                    "truncated"
                raise ValueError(f"episode {i}: is {both}; each episode ends exactly one way")

    @property
    def truncated(self) -> list[Any]:
        """Per episode: whether it was cut (time limit or end of recording) rather than ending in
        a terminal state, in the form `terminated` has (the complement of it)."""
        if not self._per_step:
            return [not bool(t) for t in self._terminated]
        out = []
        for flag, act in zip(self._terminated, self.actions, strict=True):
            steps = np.zeros(act.shape[0], dtype=bool)
            steps[-1] = not flag
            out.append(steps)
        return out

    @property
    def episode_terminated(self) -> np.ndarray:
        """bool [N]: whether each episode ended in a terminal state."""
        return self._terminated.copy()

    def __len__(self) -> int:
        return len(self.observations)

    @property
    def obs_dim(self) -> int:
        """d_obs."""
        return int(self.observations[0].shape[1])

    @property
    def act_dim(self) -> int:
        """d_act."""
        return int(self.actions[0].shape[1])

    @property
    def lengths(self) -> np.ndarray:
        """int64 [N], the steps of each episode."""
        return np.array([a.shape[0] for a in self.actions], dtype=np.int64)

    @property
    def num_steps(self) -> int:
        """The demonstrated transitions in all."""
        return int(self.lengths.sum())

    def __repr__(self) -> str:
        lengths = self.lengths
        return (f"Demonstrations({len(self)} episodes, {self.num_steps} steps, lengths "
                f"{lengths.min()}-{lengths.max()}, obs_dim={self.obs_dim}, act_dim={self.act_dim}"
                f", env_id={self.env_id!r})")

    # ------------------------------------------------------------------------------------------
    # What the algorithms read
    # ------------------------------------------------------------------------------------------

    def padded(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The episodes padded to the longest: obs float32 [N, T+1, d_obs] (rows past an episode's
        end repeat its last state), act [N, T, d_act] (zeros past the end), mask [N, T] float32,
        terminated bool [N]."""
        lengths = self.lengths
        count, horizon = len(self), int(lengths.max())
        obs = np.zeros((count, horizon + 1, self.obs_dim), dtype=np.float32)
        act = np.zeros((count, horizon, self.act_dim), dtype=np.float32)
        mask = np.zeros((count, horizon), dtype=np.float32)
        for i, (o, a) in enumerate(zip(self.observations, self.actions, strict=True)):
            k = a.shape[0]
            obs[i, :k + 1] = o
            obs[i, k + 1:] = o[-1]
            act[i, :k] = a
            mask[i, :k] = 1.0
        return (torch.from_numpy(obs), torch.from_numpy(act), torch.from_numpy(mask),
                torch.from_numpy(self._terminated.copy()))

    def transitions(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Every step as a transition: obs [M, d_obs], act [M, d_act], next_obs [M, d_obs],
        terminated bool [M] (True only on the last step of a terminated episode)."""
        obs = np.concatenate([o[:-1] for o in self.observations])
        nxt = np.concatenate([o[1:] for o in self.observations])
        act = np.concatenate(self.actions)
        term = np.concatenate([np.eye(1, a.shape[0], a.shape[0] - 1, dtype=bool)[0] & flag
                               for a, flag in zip(self.actions, self._terminated, strict=True)])
        return (torch.from_numpy(obs), torch.from_numpy(act), torch.from_numpy(nxt),
                torch.from_numpy(term))

    def with_references(self, expert_return: float | None, random_return: float | None,
                        reference_seeds: Sequence[int] | None) -> Demonstrations:
        """A copy with other reference returns (and the seeds they were measured on)."""
        copy = Demonstrations(self.observations, self.actions, self._terminated.copy(),
                              terminated_per_step=self._per_step, returns=self.returns.copy(),
                              rewards=self.rewards, env_id=self.env_id,
                              expert_return=expert_return, random_return=random_return,
                              reference_seeds=reference_seeds)
        return copy

    def measure_references(self, env: Any, predict: Any, seeds: Sequence[int]) -> Demonstrations:
        """A copy whose reference returns are measured here: `predict` (any callable mapping one
        observation to one action, such as the policy that made the demonstrations) and uniformly
        random actions, each on one episode per reset seed in `seeds`.

        Args:
            env: a gymnasium id, a `gymnasium.Env`, or a zero-argument callable returning one.
            predict: ``predict(obs) -> action`` (a returned tuple's first element is taken, so a
                stable-baselines3 ``model.predict`` works as it is).
            seeds: the reset seeds (at least one).
        """
        from irlgan.data._record import play_episodes, random_predict

        seeds = list(_seed_list(list(seeds)) or ())
        expert = play_episodes(env, predict, seeds)
        rand = play_episodes(env, random_predict(env, seeds[0]), seeds)
        return self.with_references(float(np.mean([e.ret for e in expert])),
                                    float(np.mean([e.ret for e in rand])), seeds)

    # ------------------------------------------------------------------------------------------
    # Other libraries' formats
    # ------------------------------------------------------------------------------------------

    @classmethod
    def from_minari(cls, dataset_id: str) -> Demonstrations:
        """Reads a local Minari dataset (``minari.load_dataset(dataset_id)``; never downloads).

        Terminations and truncations are read per step; an episode that ends with neither was
        cut by the end of the recording and counts as truncated; one that ends with both counts
        as terminated (its last state has no future). Per-step rewards are kept and the returns
        are their sums. The dataset's ``ref_max_score`` and ``ref_min_score`` become the expert
        and random reference returns; Minari does not record the reset seeds of those, so
        scores against them are reported as raw returns unless the dataset was written by
        `to_minari`, which stores the seeds beside it.

        Needs the optional extra ``irlgan[minari]``.
        """
        from irlgan.data._minari import from_minari

        return from_minari(cls, dataset_id)

    def to_minari(self, dataset_id: str, env: Any) -> Any:
        """Writes the demonstrations as a local Minari dataset with Minari's own writer
        (``minari.create_dataset_from_buffers``) and returns it (a ``MinariDataset``).

        Args:
            dataset_id: the new dataset's id (``namespace/name-v0``); an existing one is never
                overwritten.
            env: the environment (a gymnasium id, `gymnasium.Env` or `EnvSpec`) recorded in the
                dataset; its spaces must hold the demonstrations.

        Terminations and truncations are written per step, exactly; per-step rewards must be
        known (demonstrations recorded by `irlgan.data.record`, `irlgan expert` or read from
        Minari have them). Needs the optional extra ``irlgan[minari]``.
        """
        from irlgan.data._minari import to_minari

        return to_minari(self, dataset_id, env)

    # ------------------------------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Writes the folder `path` (created if needed; its two files replaced atomically)."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        rewards = (np.full(self.num_steps, np.nan) if self.rewards is None
                   else np.concatenate(self.rewards).astype(np.float64))
        arrays = {
            "observations": np.concatenate(self.observations).astype(np.float32),
            "actions": np.concatenate(self.actions).astype(np.float32),
            "lengths": self.lengths,
            "terminated": self._terminated.copy(),
            "truncated": ~self._terminated,
            "returns": self.returns.astype(np.float64),
            "rewards": rewards,
        }
        metadata = {
            "format": DEMONSTRATIONS_FORMAT, "format_version": DEMONSTRATIONS_VERSION,
            "count": len(self), "obs_dim": self.obs_dim, "act_dim": self.act_dim,
            "env_id": self.env_id, "expert_return": self.expert_return,
            "random_return": self.random_return,
            "reference_seeds": (None if self.reference_seeds is None
                                else list(self.reference_seeds)),
            "rewards": self.rewards is not None, "terminated_per_step": self._per_step,
        }
        _write_files(directory, arrays, metadata)
        return directory

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Demonstrations:
        """Reads a folder written by `save`, or by an earlier `irlgan expert` (format version 1).

        Raises:
            ValueError: a missing folder or file, or malformed content; the message names the file
                and the field.
        """
        directory = Path(path)
        try:
            arrays_path, metadata_path = _existing_files(directory)
        except FileNotFoundError as error:
            raise ValueError(f"demonstrations {directory}: {error}") from None
        metadata = _read_json_object(metadata_path)
        kind = metadata.get("format")
        if kind == "irlgan.continuous-demonstrations":
            return cls._load_version_1(directory)
        if kind != DEMONSTRATIONS_FORMAT:
            raise ValueError(f"{metadata_path}: field 'format' must be {DEMONSTRATIONS_FORMAT!r}, "
                             f"got {kind!r}")
        version = metadata.get("format_version")
        if isinstance(version, bool) or version not in _READABLE_VERSIONS:
            raise ValueError(f"{metadata_path}: field 'format_version' must be one of "
                             f"{list(_READABLE_VERSIONS)}, got {version!r}")
        keys = (_ARRAY_KEYS + (("truncated",) if version >= 3 else ())
                + (("rewards",) if version >= 4 else ()))
        arrays = _read_arrays(arrays_path, keys)
        lengths = arrays["lengths"]
        if lengths.ndim != 1 or lengths.dtype != np.int64 or (lengths < 1).any():
            raise ValueError(f"{arrays_path}: field 'lengths' must be positive int64 [N]")
        count = int(metadata.get("count", -1))
        if lengths.shape[0] != count:
            raise ValueError(f"{arrays_path}: field 'lengths' has {lengths.shape[0]} entries, "
                             f"{metadata_path.name} says count {count}")
        obs, act = arrays["observations"], arrays["actions"]
        if obs.ndim != 2 or obs.shape[0] != int(lengths.sum()) + count:
            raise ValueError(f"{arrays_path}: field 'observations' must have sum(lengths) + N = "
                             f"{int(lengths.sum()) + count} rows, got {list(obs.shape)}")
        if act.ndim != 2 or act.shape[0] != int(lengths.sum()):
            raise ValueError(f"{arrays_path}: field 'actions' must have sum(lengths) = "
                             f"{int(lengths.sum())} rows, got {list(act.shape)}")
        for key in ("terminated", "returns", "truncated"):
            if key in arrays and arrays[key].shape != (count,):
                raise ValueError(f"{arrays_path}: field {key!r} must have shape [{count}]")
        obs_split = np.split(obs, np.cumsum(lengths + 1)[:-1])
        act_split = np.split(act, np.cumsum(lengths)[:-1])
        rewards = None
        if version >= 4 and metadata.get("rewards"):
            if arrays["rewards"].shape != (int(lengths.sum()),):
                raise ValueError(f"{arrays_path}: field 'rewards' must have sum(lengths) = "
                                 f"{int(lengths.sum())} entries")
            rewards = np.split(arrays["rewards"], np.cumsum(lengths)[:-1])
        terminated: list[Any] = [bool(t) for t in arrays["terminated"]]
        if metadata.get("terminated_per_step"):
            terminated = [np.eye(1, n, n - 1, dtype=bool)[0] & t
                          for n, t in zip(lengths.tolist(), terminated, strict=True)]
        try:
            truncated = None
            if "truncated" in arrays:
                if arrays["truncated"].dtype != bool or arrays["terminated"].dtype != bool:
                    raise ValueError("fields 'terminated' and 'truncated' must be bool")
                truncated = [bool(t) for t in arrays["truncated"]]
            return cls.from_arrays(obs_split, act_split, terminated, truncated=truncated,
                                   returns=arrays["returns"], rewards=rewards,
                                   env_id=metadata.get("env_id"),
                                   expert_return=metadata.get("expert_return"),
                                   random_return=metadata.get("random_return"),
                                   reference_seeds=metadata.get("reference_seeds"))
        except ValueError as error:
            raise ValueError(f"{directory}: {error}") from None

    @classmethod
    def _load_version_1(cls, directory: Path) -> Demonstrations:
        from irlgan.data._continuous import load_continuous_demonstrations
        from irlgan.rl import make_vec_env

        old = load_continuous_demonstrations(directory)
        probe = make_vec_env(old.env_id, 1)
        limit = probe.max_episode_steps
        probe.close()
        lengths = old.lengths.tolist()
        obs = [old.obs[i, :n + 1].numpy() for i, n in enumerate(lengths)]
        act = [old.actions[i, :n].numpy() for i, n in enumerate(lengths)]
        terminated = [limit is not None and n < limit for n in lengths]
        return cls.from_arrays(obs, act, terminated, returns=old.returns.numpy(),
                               env_id=old.env_id, expert_return=old.expert_return,
                               random_return=old.random_return)

    def check_spaces(self, observation_space: Any, action_space: Any) -> None:
        """Raises ValueError unless the demonstrations fit the environment's Box spaces.

        Widths must match; every action must lie in the action space and every observation
        inside the observation space's bounds where those are finite (a tolerance of 1e-5
        relative to the bound's size, for float32 rounding). The message names the worst
        offender: episode, step, dimension, value and bounds.
        """
        for name, arrays, space in (("observation", self.observations, observation_space),
                                    ("action", self.actions, action_space)):
            shape = getattr(space, "shape", None)
            width = arrays[0].shape[1]
            if shape is None or len(shape) != 1 or int(shape[0]) != width:
                raise ValueError(f"demonstrated {name}s have width {width}, the environment's "
                                 f"{name} space has shape {shape}")
            low = np.broadcast_to(np.asarray(space.low, dtype=np.float64), (width,))
            high = np.broadcast_to(np.asarray(space.high, dtype=np.float64), (width,))
            values = np.concatenate(arrays).astype(np.float64)
            scale = np.maximum(1.0, np.maximum(np.abs(np.where(np.isfinite(low), low, 0.0)),
                                               np.abs(np.where(np.isfinite(high), high, 0.0))))
            excess = np.maximum(low - values, values - high) / scale
            excess = np.where(np.isfinite(excess), excess, -np.inf)
            if excess.max(initial=-np.inf) <= 1e-5:
                continue
            row, dim = np.unravel_index(int(np.argmax(excess)), excess.shape)
            steps = np.array([a.shape[0] for a in arrays])
            ends = np.cumsum(steps)
            episode = int(np.searchsorted(ends, row, side="right"))
            step = int(row - (ends[episode - 1] if episode else 0))
            outside = int((excess > 1e-5).any(axis=1).sum())
            raise ValueError(
                f"demonstrated {name} {values[row, dim]:g} (episode {episode}, step {step}, "
                f"dimension {dim}) is outside the environment's {name} space "
                f"[{low[dim]:g}, {high[dim]:g}]; {outside} of {values.shape[0]} {name}s are "
                f"outside (demonstrations of another environment, or unclipped actions?)")

    def content_hash(self) -> str:
        """SHA-256 of everything a run reads from the demonstrations: the episodes' observations,
        actions, lengths, terminations, returns and reference returns, in a canonical byte form.
        Two copies at different paths have the same hash; any changed value changes it. Run
        folders record it, and `--resume` refuses demonstrations with another hash."""
        digest = hashlib.sha256(b"irlgan.demonstrations/content/1\n")
        parts = (("observations", np.concatenate(self.observations).astype("<f4")),
                 ("actions", np.concatenate(self.actions).astype("<f4")),
                 ("lengths", self.lengths.astype("<i8")),
                 ("terminated", self._terminated.astype("u1")),
                 ("returns", self.returns.astype("<f8")))
        for name, array in parts:
            array = np.ascontiguousarray(array)
            digest.update(f"{name}:{array.dtype.str}:{list(array.shape)}\n".encode())
            digest.update(array.tobytes())
        references = [self.expert_return, self.random_return]
        if self.reference_seeds is not None:
            references.append(list(self.reference_seeds))
        references = json.dumps(references)
        digest.update(f"references:{references}\n".encode())
        return digest.hexdigest()

    def metadata(self) -> dict[str, Any]:
        """The JSON-ready description written beside the arrays (without format fields)."""
        return json.loads(json.dumps({
            "count": len(self), "obs_dim": self.obs_dim, "act_dim": self.act_dim,
            "env_id": self.env_id, "expert_return": self.expert_return,
            "random_return": self.random_return,
            "reference_seeds": (None if self.reference_seeds is None
                                else list(self.reference_seeds))}))
