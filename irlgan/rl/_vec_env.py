"""Gymnasium's `SyncVectorEnv` with resets under the caller's control and checkpointable state.

`VecEnv` wraps a `gymnasium.vector.SyncVectorEnv` built with ``autoreset_mode=DISABLED``: it never
resets on its own. The caller (`RolloutCollector`) resets the finished sub-environments with
seeds it draws, through the vector environment's ``reset_mask`` option, so the observation that
ends an episode is always returned as it is (no ``final_obs`` bookkeeping) and every reset seed
is under the caller's control. Measured on this machine (Pendulum-v1, 16 environments, one
thread, both in one process): 12.6 us per environment step, 7% more than a plain Python loop over
the same environments (11.8 us), i.e. about 0.4 s of a 500k-step Pendulum run.

The environment is a registered gymnasium id or a zero-argument callable that builds a new
`gymnasium.Env` on every call (`env_factory` turns either into a checked factory and a name).

Checkpoints: `state_dict` captures each sub-environment with `capture_env_state`. Resume is
bit-identical on the CPU wherever the environment's state can be captured (classic control;
MuJoCo through its simulator state and random generator), and otherwise continues from the last
episode boundary: the state is then marked ``exact=False`` and `load_state_dict` leaves the
environments for the caller to reset.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, TypeAlias

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.wrappers import TimeLimit

import irlgan.envs  # noqa: F401  (registers irlgan/PointMass-v0)
from irlgan.rl._env_state import capture_env_state, restore_env_state

__all__ = ["EnvLike", "VecEnv", "env_factory", "make_env", "make_vec_env", "run_episodes"]

EnvLike: TypeAlias = str | Callable[[], gymnasium.Env]
"""A registered gymnasium id, or a zero-argument callable returning a new `gymnasium.Env`."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _check_spaces(env: gymnasium.Env, name: str) -> None:
    for attribute in ("observation_space", "action_space"):
        space = getattr(env, attribute)
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            env.close()
            raise ValueError(_one_line(f"{name}: {attribute} must be a 1-D Box, got {space}"))


def _callable_name(make: Callable[..., Any]) -> str:
    if isinstance(make, partial):
        return _callable_name(make.func)
    name = getattr(make, "__qualname__", None)
    return name if isinstance(name, str) and name else type(make).__qualname__


class _RegisteredFactory:
    """Builds `gymnasium.make(env_id)`, checked to have 1-D Box spaces."""

    def __init__(self, env_id: str) -> None:
        self.env_id = env_id

    def __call__(self) -> gymnasium.Env:
        try:
            env = gymnasium.make(self.env_id)
        except gymnasium.error.Error as error:
            raise ValueError(
                _one_line(f"unknown environment id {self.env_id!r} ({error})")
            ) from error
        _check_spaces(env, self.env_id)
        return env


class _CallableFactory:
    """Calls the user's factory and checks each result: a new `gymnasium.Env` with Box spaces."""

    def __init__(self, make: Callable[[], gymnasium.Env], name: str) -> None:
        self.make = make
        self.name = name
        self._built: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()

    def _seen(self, obj: Any) -> bool:
        return self._built.get(id(obj)) is obj

    def _remember(self, obj: Any) -> None:
        try:
            self._built[id(obj)] = obj
        except TypeError:  # not weakly referenceable: cannot be tracked without keeping it alive
            pass

    def __call__(self) -> gymnasium.Env:
        env = self.make()
        if not isinstance(env, gymnasium.Env):
            raise ValueError(f"{self.name}: the environment factory must return a gymnasium.Env, "
                             f"got {type(env).__name__}")
        if self._seen(env) or self._seen(env.unwrapped):
            raise ValueError(f"{self.name}: the environment factory returned an environment it "
                             f"had returned before; it must build a new one on every call")
        self._remember(env)
        self._remember(env.unwrapped)
        _check_spaces(env, self.name)
        return env


def env_factory(env: EnvLike) -> tuple[Callable[[], gymnasium.Env], str]:
    """A checked factory for `env` and its display name.

    Args:
        env: a registered gymnasium id (e.g. "Pendulum-v1", "HalfCheetah-v5"), or a zero-argument
            callable (a function, a class, a `functools.partial`) returning a NEW `gymnasium.Env`
            on every call.

    Returns:
        (factory, name): calling ``factory()`` builds one environment and checks it (a
        `gymnasium.Env`, not one returned before, 1-D Box observation and action spaces; a
        ValueError names the problem otherwise). The name is the id, or the callable's
        ``__qualname__`` (its class name when it has none).

    Raises:
        ValueError: if `env` is neither a non-empty string nor callable.
    """
    if isinstance(env, str):
        if not env:
            raise ValueError("env must be a gymnasium id or a callable, got an empty string")
        return _RegisteredFactory(env), env
    if not callable(env):
        raise ValueError(f"env must be a registered gymnasium id or a zero-argument callable "
                         f"returning a new gymnasium.Env, got {type(env).__name__}")
    name = _callable_name(env)
    return _CallableFactory(env, name), name


def make_env(env: EnvLike) -> gymnasium.Env:
    """One environment with 1-D Box spaces: `gymnasium.make(env)` for an id, else `env()`.

    Raises:
        ValueError: for an unknown id, a factory that returns no new `gymnasium.Env`, or spaces
            that are not 1-D Boxes.
    """
    factory, _ = env_factory(env)
    return factory()


def _time_limit(env: gymnasium.Env) -> TimeLimit | None:
    while isinstance(env, gymnasium.Wrapper):
        if isinstance(env, TimeLimit):
            return env
        env = env.env
    return None


class VecEnv:
    """`num_envs` copies of one environment in a `SyncVectorEnv`, without automatic resets.

    Args:
        env: a gymnasium id, or a zero-argument callable returning a new `gymnasium.Env` (see
            `env_factory`), with 1-D Box observation and action spaces.
        num_envs: E >= 1.

    Attributes:
        env_id: the display name (the id, or the callable's name).
        factory: the checked factory that built the sub-environments.
        vector: the underlying `gymnasium.vector.SyncVectorEnv` (autoreset disabled).
        envs: its sub-environments (``vector.envs``).
    """

    def __init__(self, env: EnvLike, num_envs: int) -> None:
        if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.factory, self.env_id = env_factory(env)
        self.factory().close()  # a clear error for a bad id or factory before the vector is built
        self.vector = SyncVectorEnv([self.factory] * num_envs, copy=False,
                                    autoreset_mode=AutoresetMode.DISABLED)
        self.envs: list[gymnasium.Env] = self.vector.envs
        self.num_envs = num_envs
        self.observation_space: spaces.Box = self.vector.single_observation_space
        self.action_space: spaces.Box = self.vector.single_action_space
        self.obs_dim = int(self.observation_space.shape[0])
        self.act_dim = int(self.action_space.shape[0])
        self._low = self.action_space.low
        self._high = self.action_space.high
        limit = _time_limit(self.envs[0])
        self.max_episode_steps: int | None = None if limit is None else limit._max_episode_steps

    def reset(self, seeds: list[int]) -> np.ndarray:
        """Resets every environment, environment i with seeds[i]; returns obs [E, d_obs]."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"need {self.num_envs} seeds, got {len(seeds)}")
        obs, _ = self.vector.reset(seed=[int(s) for s in seeds])
        return np.array(obs, dtype=np.float32)  # a copy: the vector reuses its buffer

    def reset_some(self, indices: list[int], seeds: list[int]) -> np.ndarray:
        """Resets environments `indices` (environment indices[k] with seeds[k]).

        Returns:
            their new observations, float32 [len(indices), d_obs].
        """
        if len(indices) != len(seeds):
            raise ValueError(f"got {len(indices)} indices but {len(seeds)} seeds")
        mask = np.zeros(self.num_envs, dtype=np.bool_)
        all_seeds: list[int | None] = [None] * self.num_envs
        for index, seed in zip(indices, seeds, strict=True):
            mask[index] = True
            all_seeds[index] = int(seed)
        obs, _ = self.vector.reset(seed=all_seeds, options={"reset_mask": mask})
        return np.array(obs[list(indices)], dtype=np.float32)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Steps every environment once (actions clipped to the action space).

        Args:
            actions: [E, d_act].

        Returns:
            next_obs float32 [E, d_obs], reward float64 [E], terminated bool [E],
            truncated bool [E]. Finished environments are not reset.
        """
        next_obs, reward, terminated, truncated, _ = self.vector.step(self.clip(actions))
        return (np.array(next_obs, dtype=np.float32), np.asarray(reward, dtype=np.float64),
                np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool))

    def clip(self, actions: np.ndarray) -> np.ndarray:
        """Actions [..., d_act] clipped to the action space, in its dtype."""
        dtype = self.action_space.dtype
        return np.clip(np.asarray(actions, dtype=dtype), self._low, self._high).astype(dtype)

    def state_dict(self) -> dict[str, Any]:
        """The environments' dynamic state (weights_only-safe); never raises.

        Returns:
            ``{"exact": True, "num_envs": E, "envs": [capture_env_state(env) per environment]}``
            when every environment can be captured, else ``{"exact": False, "num_envs": E}``.
        """
        states = [capture_env_state(env) for env in self.envs]
        if any(state is None for state in states):
            return {"exact": False, "num_envs": self.num_envs}
        return {"exact": True, "num_envs": self.num_envs, "envs": states}

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Restores `state_dict()` output when it is exact (resets, then overwrites each env).

        An inexact state changes nothing: the caller resets the environments itself. A state of
        the earlier layout (``state`` [E, ...] and ``elapsed`` [E] tensors) is read as exact.

        Returns:
            whether the environments were restored exactly.

        Raises:
            ValueError: if the state holds another number of environments, or does not fit them.
        """
        if "exact" not in state and "state" in state:  # the layout before `capture_env_state`
            return self._load_legacy(state)
        count = int(state["num_envs"])
        if count != self.num_envs:
            raise ValueError(f"state holds {count} environments, expected {self.num_envs}")
        if not state["exact"]:
            return False
        self.vector.reset(seed=[0] * self.num_envs)  # clears the vector's bookkeeping
        for env, env_state in zip(self.envs, state["envs"], strict=True):
            restore_env_state(env, env_state)
        return True

    def _load_legacy(self, state: dict[str, Any]) -> bool:
        if tuple(state["elapsed"].shape) != (self.num_envs,):
            raise ValueError(
                f"state holds {state['elapsed'].shape[0]} environments, expected {self.num_envs}"
            )
        self.vector.reset(seed=[0] * self.num_envs)
        for index, env in enumerate(self.envs):
            env.unwrapped.state = state["state"][index].numpy().copy()
            limit = _time_limit(env)
            if limit is not None:
                limit._elapsed_steps = int(state["elapsed"][index])
        return True

    def close(self) -> None:
        """Closes the vector environment and its sub-environments."""
        self.vector.close()


def make_vec_env(env: EnvLike, num_envs: int, seed: int | None = None) -> VecEnv:
    """Builds a `VecEnv` of `num_envs` copies of `env`, reset with seeds seed, seed+1, ....

    Args:
        env: a gymnasium id (e.g. "Pendulum-v1", "irlgan/PointMass-v0", "HalfCheetah-v5") or a
            zero-argument callable returning a new `gymnasium.Env`.
        num_envs: E.
        seed: if given, environment i is reset with seed + i; otherwise left for the caller
            (`RolloutCollector` resets with seeds of its own).
    """
    vec_env = VecEnv(env, num_envs)
    if seed is not None:
        vec_env.reset([int(seed) + i for i in range(num_envs)])
    return vec_env


def run_episodes(
    env: EnvLike,
    seeds: list[int],
    act: Callable[[np.ndarray], np.ndarray],
    record: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
    *,
    on_end: Callable[[int, bool, bool], None] | None = None,
    on_reward: Callable[[int, float], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One whole episode per seed, side by side, each sub-environment stepped until it ends.

    Args:
        env: a gymnasium id or a zero-argument callable returning a new `gymnasium.Env`.
        seeds: the reset seed of each episode.
        act: maps the observations of the running episodes [L, d_obs] to actions [L, d_act].
        record: called as record(episode, action, next_obs float32) after every step, with the
            action as `act` returned it (before clipping to the action space).
        on_end: called as on_end(episode, terminated, truncated) when an episode ends.
        on_reward: called as on_reward(episode, reward) after every step.

    Returns:
        (returns float64 [len(seeds)], initial observations float32 [len(seeds), d_obs]).
    """
    vec_env = VecEnv(env, len(seeds))
    try:
        obs = vec_env.reset(seeds)
        first = obs.copy()
        returns = np.zeros(len(seeds), dtype=np.float64)
        running = np.ones(len(seeds), dtype=bool)
        while running.any():
            live = np.flatnonzero(running)
            actions = np.asarray(act(obs[live]))
            for row, index in enumerate(live):
                step = vec_env.envs[index].step(vec_env.clip(actions[row]))
                next_obs, reward, terminated, truncated = step[:4]
                next_obs = np.asarray(next_obs, dtype=np.float32)
                if record is not None:
                    record(int(index), actions[row], next_obs)
                returns[index] += float(reward)
                if on_reward is not None:
                    on_reward(int(index), float(reward))
                obs[index] = next_obs
                if terminated or truncated:
                    running[index] = False
                    if on_end is not None:
                        on_end(int(index), bool(terminated), bool(truncated))
    finally:
        vec_env.close()
    return returns, first
