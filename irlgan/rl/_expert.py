"""Experts: MaxEnt PPO on the true reward, and the policies it trains.

`train_expert` runs the same `MaxEntPPO` that the IRL algorithms use as their generator, with the
environment's reward in place of a learned one. `default_expert_config` holds the settings
measured to work for each registered task (`irlgan/presets/experts.toml`, from
`benchmarks/results/rl_expert.txt`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import Tensor
from tqdm.auto import tqdm

from irlgan.checkpoint import load_checkpoint, save_checkpoint
from irlgan.config import config_to_dict
from irlgan.models import TanhGaussianPolicy
from irlgan.presets import apply_preset
from irlgan.rl._ppo import MaxEntPPO, PPOConfig
from irlgan.rl._rollout import Rollout, RolloutCollector
from irlgan.rl._vec_env import EnvLike, VecEnv
from irlgan.seeding import seed_streams

__all__ = [
    "EXPERT_POLICY_KIND",
    "ExpertConfig",
    "ExpertResult",
    "default_expert_config",
    "expert_config_to_dict",
    "load_policy",
    "make_policy",
    "save_policy",
    "train_expert",
]


@dataclass(frozen=True)
class ExpertConfig:
    """Settings of `train_expert` (frozen: derive variants with `dataclasses.replace` or
    `irlgan.config.apply_overrides`; the PPO settings are the nested `ppo`)."""

    num_envs: int = 16
    """E, environments stepped side by side."""
    steps_per_env: int = 64
    """T, steps of each environment per iteration (E * T steps per PPO update)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the policy's mean network."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the policy (before the tanh)."""
    normalize_obs: bool = False
    """Scale the observation box onto [-1, 1] at the policy's and value's input."""
    anneal_lr: bool = True
    """Decay both learning rates linearly to zero over the run (a stable final policy)."""
    demo_episodes: int = 50
    """Demonstration trajectories written by `irlgan expert`."""
    demo_deterministic: bool = False
    """Record the expert's mode actions (True) or samples from it (False)."""
    eval_episodes: int = 50
    """Held-out episodes behind the expert and random reference returns."""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """The MaxEnt PPO settings (`--set ppo.gamma=0.95`)."""


def default_expert_config(env_id: str) -> ExpertConfig:
    """Settings measured to train a good expert on `env_id` (the defaults for other ids).

    The values are the ``experts`` presets, `irlgan/presets/experts.toml`, each with the
    measurement that chose it.
    """
    return apply_preset(ExpertConfig(), "experts", env_id)


def make_policy(
    observation_space: spaces.Box,
    action_space: spaces.Box,
    hidden: tuple[int, ...] = (64, 64),
    log_std_init: float = 0.0,
    generator: torch.Generator | None = None,
    normalize_obs: bool = False,
) -> TanhGaussianPolicy:
    """A `TanhGaussianPolicy` for 1-D Box spaces, squashed into the action bounds.

    With `normalize_obs`, the observation box (which must be finite) is scaled onto [-1, 1].
    """
    if not isinstance(observation_space, spaces.Box) or not isinstance(action_space, spaces.Box):
        raise ValueError("observation_space and action_space must be gymnasium Boxes")
    bounds: dict[str, Any] = {}
    if normalize_obs:
        if not (np.isfinite(observation_space.low).all()
                and np.isfinite(observation_space.high).all()):
            raise ValueError("normalize_obs needs a finite observation box")
        bounds = {"obs_low": torch.as_tensor(observation_space.low),
                  "obs_high": torch.as_tensor(observation_space.high)}
    return TanhGaussianPolicy(
        int(observation_space.shape[0]),
        int(action_space.shape[0]),
        torch.as_tensor(action_space.low),
        torch.as_tensor(action_space.high),
        hidden=hidden,
        log_std_init=log_std_init,
        generator=generator,
        **bounds,
    )


@dataclass
class ExpertResult:
    """What `train_expert` returns.

    Attributes:
        policy: the trained policy.
        ppo: the `MaxEntPPO` that trained it (value network, optimisers).
        history: one dict per iteration: `iteration`, `env_steps`, `episode_return` (mean of
            the episodes that ended in it, NaN if none), and the PPO metrics.
        env_steps: environment steps taken.
        wall_s: training time in seconds; `rollout_s` and `update_s` split it.
        rollout_s: time spent collecting rollouts.
        update_s: time spent in PPO updates.
    """

    policy: TanhGaussianPolicy
    ppo: MaxEntPPO
    history: list[dict[str, float]]
    env_steps: int
    wall_s: float
    rollout_s: float
    update_s: float


def train_expert(
    env_id: EnvLike,
    steps: int,
    seed: int,
    config: ExpertConfig | None = None,
    quiet: bool = True,
    callback: Callable[[dict[str, float]], Any] | None = None,
    reward_fn: Callable[[Rollout], Tensor] | None = None,
) -> ExpertResult:
    """Trains a policy on the environment's true reward (or `reward_fn`) with `MaxEntPPO`.

    Args:
        env_id: the gymnasium id, or a zero-argument callable returning a new `gymnasium.Env`
            (for example a task with changed keywords, ``functools.partial(gymnasium.make,
            "Ant-v5", terminate_when_unhealthy=False)``).
        steps: environment steps (rounded up to whole iterations of E * T steps).
        seed: the run's seed; the policy initialisation, the rollouts and the minibatch order
            each draw from their own stream (`irlgan.seeding.seed_streams`).
        config: the settings (when None: `default_expert_config(env_id)` for an id, the
            defaults of `ExpertConfig` for a callable).
        quiet: hide the progress bar.
        callback: called with each iteration's history row.
        reward_fn: the reward PPO trains on, ``rollout -> float32 [T, E]`` (for example a
            learned reward on a changed task, computed once per rollout in a batch, where
            `irlgan.wrappers.LearnedReward` does it per step for any learner); None: the
            environment's own reward. The history's ``episode_return`` stays the environment's
            return either way.

    Returns:
        An `ExpertResult`.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if config is None:
        config = default_expert_config(env_id) if isinstance(env_id, str) else ExpertConfig()
    if config.num_envs < 1 or config.steps_per_env < 1:
        raise ValueError("num_envs and steps_per_env must be positive")
    streams = seed_streams(seed)
    vec_env = VecEnv(env_id, config.num_envs)
    policy = make_policy(vec_env.observation_space, vec_env.action_space, config.hidden,
                         config.log_std_init,
                         generator=torch.Generator().manual_seed(streams["policy_init"]),
                         normalize_obs=config.normalize_obs)
    ppo = MaxEntPPO(policy, vec_env.obs_dim, config.ppo,
                    generator=torch.Generator().manual_seed(streams["generator"]))
    collector = RolloutCollector(vec_env, policy, config.steps_per_env,
                                 streams["collector"] % 2**32)
    per_iteration = config.num_envs * config.steps_per_env
    iterations = math.ceil(steps / per_iteration)
    history: list[dict[str, float]] = []
    rollout_s = update_s = 0.0
    start = time.perf_counter()
    bar = tqdm(range(iterations), desc=f"expert {vec_env.env_id}", disable=quiet, unit="it")
    for iteration in bar:
        if config.anneal_lr:
            ppo.set_learning_rate_fraction(1.0 - iteration / iterations)
        tick = time.perf_counter()
        rollout = collector.collect()
        tock = time.perf_counter()
        if reward_fn is None:
            reward = rollout.env_reward
        else:
            with torch.no_grad():
                reward = reward_fn(rollout)
            if tuple(reward.shape) != tuple(rollout.env_reward.shape) or not bool(
                    torch.isfinite(reward).all()):
                raise ValueError(f"reward_fn must return finite values of shape "
                                 f"{list(rollout.env_reward.shape)}, got "
                                 f"{list(reward.shape)}")
            reward = reward.to(rollout.env_reward.dtype)
        metrics = ppo.update(rollout, reward)
        rollout_s += tock - tick
        update_s += time.perf_counter() - tock
        episode_return = (float(rollout.episode_returns.mean())
                          if rollout.episode_returns.numel() else float("nan"))
        row = {"iteration": float(iteration + 1), "env_steps": float(collector.total_steps),
               "episode_return": episode_return, **metrics}
        history.append(row)
        if callback is not None:
            callback(row)
        if not np.isnan(episode_return):
            bar.set_postfix(ret=f"{episode_return:.1f}")
    vec_env.close()
    return ExpertResult(
        policy=policy,
        ppo=ppo,
        history=history,
        env_steps=collector.total_steps,
        wall_s=time.perf_counter() - start,
        rollout_s=rollout_s,
        update_s=update_s,
    )


def expert_config_to_dict(config: ExpertConfig) -> dict[str, Any]:
    """The config as a JSON-ready dict (`irlgan.config.config_to_dict`: tuples become lists)."""
    return config_to_dict(config)


EXPERT_POLICY_KIND = "expert-policy"
"""The checkpoint kind of a saved expert policy."""


def save_policy(path: str | os.PathLike[str], policy: TanhGaussianPolicy, env_id: str,
                hidden: tuple[int, ...]) -> Path:
    """Writes a tanh-Gaussian policy and what rebuilds it (`irlgan.checkpoint`, atomic)."""
    payload = {
        "env_id": env_id,
        "hidden": [int(h) for h in hidden],
        "obs_dim": policy.obs_dim,
        "act_dim": policy.act_dim,
        "action_low": (policy.action_center - policy.action_scale).clone(),
        "action_high": (policy.action_center + policy.action_scale).clone(),
        "state_dict": policy.state_dict(),
    }
    return save_checkpoint(path, payload, kind=EXPERT_POLICY_KIND)


def load_policy(path: str | os.PathLike[str]) -> TanhGaussianPolicy:
    """Rebuilds a policy saved by `save_policy` (a file, or an `irlgan expert` folder).

    Raises:
        irlgan.checkpoint.CheckpointError: for a missing, corrupt or foreign file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "policy.pt"
    payload = load_checkpoint(path, kind=EXPERT_POLICY_KIND)
    policy = TanhGaussianPolicy(
        payload["obs_dim"], payload["act_dim"], payload["action_low"], payload["action_high"],
        hidden=tuple(payload["hidden"]),
    )
    policy.load_state_dict(payload["state_dict"])
    return policy
