r"""Demonstrations from any policy: `irlgan.data.record(env, predict, episodes, seed)`.

`predict` is any callable from one observation to one action: a stable-baselines3 model's
``predict`` (its ``(action, state)`` tuple is unpacked), a scripted controller, a policy of
another library. Episode ``i`` is reset with seed ``seed + i``; the recording keeps every
observation, the action as `predict` returned it, the reward of every step, and how the episode
ended (terminated by the task, or truncated by its time limit), exactly as the environment said.

The recorded episodes' mean return becomes the expert reference return and uniformly random
actions on the same reset seeds the random one, so that a learned policy evaluated on those seeds
(`irlgan eval --seeds`) has a normalised score measured like for like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

__all__ = ["record"]


@dataclass
class _Episode:
    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool

    @property
    def ret(self) -> float:
        return float(self.rewards.sum())


def _make(env: Any) -> tuple[gymnasium.Env, bool]:
    """(environment, whether we made it and must close it)."""
    if isinstance(env, str):
        return gymnasium.make(env), True
    if isinstance(env, gymnasium.Env):
        return env, False
    if callable(env):
        made = env()
        if not isinstance(made, gymnasium.Env):
            raise ValueError(f"env factory returned {type(made).__name__}, not a gymnasium.Env")
        return made, True
    raise ValueError(f"env must be a gymnasium id, a gymnasium.Env or a factory, got {env!r}")


def _box(space: Any, what: str) -> gymnasium.spaces.Box:
    if not isinstance(space, gymnasium.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"irlgan records flat Box {what} spaces, the environment has {space}")
    return space


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    out = []
    for seed in seeds:
        if isinstance(seed, np.integer):
            seed = int(seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"reset seeds must be non-negative integers, got {seed!r}")
        out.append(seed)
    if not out:
        raise ValueError("at least one reset seed is needed")
    return out


def _action(predict: Callable[[Any], Any], obs: np.ndarray, space: gymnasium.spaces.Box,
            episode: int, step: int) -> np.ndarray:
    out = predict(obs)
    if isinstance(out, tuple):  # stable-baselines3: (action, recurrent state)
        out = out[0]
    action = np.asarray(out, dtype=np.float32).reshape(-1)
    if action.shape != (int(np.prod(space.shape)),):
        raise ValueError(f"predict returned an action of shape {list(np.shape(out))} at episode "
                         f"{episode}, step {step}; the action space has shape {list(space.shape)}")
    if not np.isfinite(action).all():
        raise ValueError(f"predict returned a non-finite action at episode {episode}, step "
                         f"{step}: {action}")
    return action


def play_episodes(env: Any, predict: Callable[[Any], Any], seeds: Sequence[int],
                  max_steps: int = 1_000_000) -> list[_Episode]:
    """One episode of `predict` per reset seed, recorded step by step.

    Raises:
        ValueError: a bad environment, action or seed, or an episode longer than `max_steps`
            (an environment without a time limit).
    """
    seeds = _check_seeds(seeds)
    environment, owned = _make(env)
    try:
        _box(environment.observation_space, "observation")
        act_space = _box(environment.action_space, "action")
        episodes = []
        for index, seed in enumerate(seeds):
            obs, _ = environment.reset(seed=seed)
            observations = [np.asarray(obs, dtype=np.float32).reshape(-1)]
            actions, rewards = [], []
            while True:
                action = _action(predict, obs, act_space, index, len(actions))
                obs, reward, terminated, truncated, _ = environment.step(action)
                observations.append(np.asarray(obs, dtype=np.float32).reshape(-1))
                actions.append(action)
                rewards.append(float(reward))
                if terminated or truncated:
                    break
                if len(actions) >= max_steps:
                    raise ValueError(f"episode {index} (reset seed {seed}) did not end within "
                                     f"{max_steps} steps; give the environment a time limit")
            episodes.append(_Episode(np.stack(observations), np.stack(actions),
                                     np.asarray(rewards, dtype=np.float64), bool(terminated)))
        return episodes
    finally:
        if owned:
            environment.close()


def random_predict(env: Any, seed: int) -> Callable[[Any], np.ndarray]:
    """Uniformly random actions in `env`'s action space, from a numpy generator seeded `seed`."""
    environment, owned = _make(env)
    space = _box(environment.action_space, "action")
    low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
    if owned:
        environment.close()
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError("random reference actions need a bounded action space")
    rng = np.random.default_rng(seed)
    return lambda obs: rng.uniform(low, high).astype(np.float32)


def record(env: Any, predict: Callable[[Any], Any], episodes: int, seed: int, *,
           references: bool = True) -> Any:
    """Records demonstrations of `predict` in `env`.

    Args:
        env: a gymnasium id, a `gymnasium.Env` (used as it is, not closed) or a zero-argument
            callable returning one; flat Box observation and action spaces.
        predict: ``predict(obs) -> action`` for one observation; a returned tuple's first
            element is the action (so ``model.predict`` of stable-baselines3 works as it is; pass
            ``lambda obs: model.predict(obs, deterministic=True)`` for its mode).
        episodes: the number of episodes, reset with seeds ``seed, ..., seed + episodes - 1``.
        seed: the first reset seed.
        references: also measure uniformly random actions on the same reset seeds and store the
            reference returns (expert: the recorded episodes' mean return) with their seeds.

    Returns:
        `irlgan.Demonstrations` with per-step rewards, terminations and truncations.

    Example:
        ```python
        from stable_baselines3 import SAC
        model = SAC.load("sac-pendulum.zip")
        demos = irlgan.data.record("Pendulum-v1",
                                   lambda obs: model.predict(obs, deterministic=True),
                                   episodes=50, seed=100_000)
        demos.save("demos/sb3-pendulum")
        ```
    """
    from irlgan.data._trajectories import Demonstrations

    if isinstance(episodes, bool) or not isinstance(episodes, int | np.integer) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seeds = list(range(int(seed), int(seed) + int(episodes)))
    recorded = play_episodes(env, predict, seeds)
    env_id = env if isinstance(env, str) else _env_id(env)
    expert_return = random_return = reference_seeds = None
    if references:
        expert_return = float(np.mean([e.ret for e in recorded]))
        baseline = play_episodes(env, random_predict(env, int(seed)), seeds)
        random_return = float(np.mean([e.ret for e in baseline]))
        reference_seeds = seeds
    return Demonstrations.from_arrays(
        [e.observations for e in recorded], [e.actions for e in recorded],
        [e.terminated for e in recorded], truncated=[not e.terminated for e in recorded],
        rewards=[e.rewards for e in recorded], env_id=env_id, expert_return=expert_return,
        random_return=random_return, reference_seeds=reference_seeds)


def _env_id(env: Any) -> str | None:
    spec = getattr(env, "spec", None)
    return getattr(spec, "id", None) if spec is not None else None
