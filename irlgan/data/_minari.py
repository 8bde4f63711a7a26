"""Minari datasets as demonstrations, and demonstrations as Minari datasets.

Minari (the Farama Foundation's format for offline reinforcement-learning data) keeps its
datasets under ``MINARI_DATASETS_PATH`` (default ``~/.minari/datasets``). Reading uses
``minari.load_dataset`` without download; writing uses Minari's own writer,
``minari.create_dataset_from_buffers``, in its HDF5 format (``pip install "irlgan[minari]"``
installs ``minari[hdf5]``; Minari's ``DataCollector`` would also need jax, which irlgan does not
use).

Minari records no reset seeds for its reference scores, so `to_minari` stores irlgan's reference
seeds in a small file beside the dataset, ``irlgan.json``, which `from_minari` reads back.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["from_minari", "to_minari"]

_SIDECAR = "irlgan.json"
_SIDECAR_FORMAT = "irlgan.minari-references"


def _minari() -> Any:
    try:
        import minari
    except ImportError:
        raise ValueError('Minari datasets need the optional extra: pip install "irlgan[minari]"'
                         ) from None
    return minari


def _dataset_root(minari: Any, dataset_id: str) -> Path:
    from minari.storage.datasets_root_dir import get_dataset_path

    return Path(get_dataset_path(dataset_id))


def _check_id(dataset_id: Any) -> str:
    if not isinstance(dataset_id, str) or not dataset_id.strip():
        raise ValueError(f"a Minari dataset id is a non-empty string, got {dataset_id!r}")
    return dataset_id


def from_minari(cls: Any, dataset_id: str) -> Any:
    """See `irlgan.Demonstrations.from_minari`."""
    import gymnasium

    minari = _minari()
    dataset_id = _check_id(dataset_id)
    try:
        dataset = minari.load_dataset(dataset_id, download=False)
    except FileNotFoundError:
        root = os.environ.get("MINARI_DATASETS_PATH", "~/.minari/datasets")
        raise ValueError(f"no local Minari dataset {dataset_id!r} (looked in {root}; irlgan "
                         f"never downloads: create or download it with Minari first)") from None
    for what, space in (("observation", dataset.observation_space),
                        ("action", dataset.action_space)):
        if not isinstance(space, gymnasium.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"Minari dataset {dataset_id!r} has {what} space {space}; irlgan "
                             f"reads flat Box spaces only")
    observations, actions, rewards, terminated = [], [], [], []
    for episode in dataset.iterate_episodes():
        obs = np.asarray(episode.observations, dtype=np.float32)
        act = np.asarray(episode.actions, dtype=np.float32)
        term = np.asarray(episode.terminations, dtype=bool).reshape(-1)
        trunc = np.asarray(episode.truncations, dtype=bool).reshape(-1)
        where = f"Minari dataset {dataset_id!r}, episode {episode.id}"
        if act.shape[0] < 1:
            raise ValueError(f"{where}: has no steps")
        if term[:-1].any() or trunc[:-1].any():
            raise ValueError(f"{where}: ends before its last step (terminated or truncated "
                             f"earlier); irlgan reads one episode per Minari episode")
        observations.append(obs)
        actions.append(act.reshape(act.shape[0], -1))
        rewards.append(np.asarray(episode.rewards, dtype=np.float64).reshape(-1))
        terminated.append(bool(term[-1]))
    if not observations:
        raise ValueError(f"Minari dataset {dataset_id!r} holds no episodes")
    env_spec = dataset.spec.env_spec
    env_id = None if env_spec is None else env_spec.id
    stored = dataset.storage.metadata
    expert, rand = stored.get("ref_max_score"), stored.get("ref_min_score")
    seeds = None
    sidecar = _dataset_root(minari, dataset_id) / _SIDECAR
    if sidecar.is_file():
        extra = json.loads(sidecar.read_text(encoding="utf-8"))
        if extra.get("format") != _SIDECAR_FORMAT:
            raise ValueError(f"{sidecar}: not an irlgan references file")
        expert, rand = extra.get("expert_return"), extra.get("random_return")
        seeds = extra.get("reference_seeds")
    try:
        return cls.from_arrays(observations, actions, terminated,
                               truncated=[not t for t in terminated], rewards=rewards,
                               env_id=env_id,
                               expert_return=None if expert is None else float(expert),
                               random_return=None if rand is None else float(rand),
                               reference_seeds=seeds)
    except ValueError as error:
        raise ValueError(f"Minari dataset {dataset_id!r}: {error}") from None


def to_minari(demos: Any, dataset_id: str, env: Any) -> Any:
    """See `irlgan.Demonstrations.to_minari`."""
    import gymnasium

    minari = _minari()
    from minari.data_collector import EpisodeBuffer

    dataset_id = _check_id(dataset_id)
    if demos.rewards is None:
        raise ValueError("these demonstrations have no per-step rewards, which a Minari dataset "
                         "needs (record them with irlgan.data.record or irlgan expert)")
    root = _dataset_root(minari, dataset_id)
    if root.exists():
        raise ValueError(f"Minari dataset {dataset_id!r} already exists ({root}); Minari "
                         f"datasets are never overwritten: choose another id or version")
    if isinstance(env, str):
        made = gymnasium.make(env)
        obs_space, act_space = made.observation_space, made.action_space
        made.close()
    elif isinstance(env, gymnasium.Env):
        obs_space, act_space = env.observation_space, env.action_space
    elif isinstance(env, gymnasium.envs.registration.EnvSpec):
        made = gymnasium.make(env)
        obs_space, act_space = made.observation_space, made.action_space
        made.close()
    else:
        raise ValueError(f"env must be a gymnasium id, Env or EnvSpec, got {env!r}")
    demos.check_spaces(obs_space, act_space)
    buffers = []
    for index, (obs, act, rew, flag) in enumerate(zip(demos.observations, demos.actions,
                                                      demos.rewards, demos.episode_terminated,
                                                      strict=True)):
        steps = act.shape[0]
        term = np.zeros(steps, dtype=bool)
        trunc = np.zeros(steps, dtype=bool)
        (term if flag else trunc)[-1] = True
        buffers.append(EpisodeBuffer(
            id=index, observations=obs.astype(obs_space.dtype),
            actions=act.reshape((steps, *act_space.shape)).astype(act_space.dtype),
            rewards=list(rew.astype(np.float64)), terminations=list(term),
            truncations=list(trunc), infos={}))
    with warnings.catch_warnings():
        # Minari asks for an author, an e-mail address, a code link and an evaluation
        # environment; none is needed to read the data back.
        warnings.simplefilter("ignore", UserWarning)
        dataset = minari.create_dataset_from_buffers(
            dataset_id, buffers, env=env, algorithm_name="irlgan.Demonstrations.to_minari",
            ref_max_score=demos.expert_return, ref_min_score=demos.random_return,
            description=f"{len(demos)} demonstrated episodes written by irlgan",
            data_format="hdf5")
    sidecar = {"format": _SIDECAR_FORMAT, "expert_return": demos.expert_return,
               "random_return": demos.random_return,
               "reference_seeds": (None if demos.reference_seeds is None
                                   else list(demos.reference_seeds))}
    from irlgan._io import atomic_write

    text = json.dumps(sidecar, indent=2) + "\n"
    atomic_write(root / _SIDECAR, lambda handle: handle.write(text.encode()))
    return dataset
