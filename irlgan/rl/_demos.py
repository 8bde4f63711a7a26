"""Demonstrations from a trained policy, in the continuous on-disk format of `irlgan.data`."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from irlgan.data import ContinuousDemonstrations
from irlgan.rl._rollout import EVAL_SEED_BASE
from irlgan.rl._vec_env import run_episodes

__all__ = ["generate_demonstrations"]


@torch.no_grad()
def generate_demonstrations(
    policy: nn.Module,
    env_id: str,
    episodes: int,
    seed: int,
    deterministic: bool = False,
    expert_return: float | None = None,
    random_return: float | None = None,
) -> ContinuousDemonstrations:
    """Runs `episodes` whole episodes of `policy` and packs them as demonstrations.

    Reset seeds are drawn below `EVAL_SEED_BASE` from `numpy.random.default_rng(seed)`, so
    demonstrations never share a start with the evaluation episodes; sampled actions come from a
    `torch.Generator` seeded with `seed`.

    Args:
        policy: a policy with `sample(obs, generator)` and `mode(obs)`.
        env_id: the gymnasium id.
        episodes: N.
        seed: the seed of the reset seeds and of the action noise.
        deterministic: record the policy's mode (True) or samples from it (False).
        expert_return: stored in the metadata.
        random_return: stored in the metadata.

    Returns:
        `ContinuousDemonstrations` of N trajectories with their environment returns.
    """
    if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    parameter = next(policy.parameters())
    dtype, device = parameter.dtype, parameter.device
    seeds = [int(s) for s in rng.integers(0, EVAL_SEED_BASE, size=episodes)]
    act_lists: list[list[np.ndarray]] = [[] for _ in range(episodes)]
    obs_lists: list[list[np.ndarray]] = [[] for _ in range(episodes)]

    def act(obs: np.ndarray) -> np.ndarray:
        tensor = torch.as_tensor(obs, dtype=dtype, device=device)
        if deterministic:
            actions = policy.mode(tensor)
        else:
            actions = policy.sample(tensor, generator=generator)[0]
        return actions.to(torch.float32).cpu().numpy()

    def record(index: int, action: np.ndarray, next_obs: np.ndarray) -> None:
        act_lists[index].append(action)
        obs_lists[index].append(next_obs)

    terminated = np.zeros(episodes, dtype=bool)
    rewards: list[list[float]] = [[] for _ in range(episodes)]

    def end(index: int, done: bool, cut: bool) -> None:
        terminated[index] = done

    returns, first = run_episodes(env_id, seeds, act, record, on_end=end,
                                  on_reward=lambda index, r: rewards[index].append(r))
    for index in range(episodes):
        obs_lists[index].insert(0, first[index].copy())
    packed = [
        (np.stack(obs_lists[i]), np.stack(act_lists[i]), returns[i]) for i in range(episodes)
    ]
    demos = ContinuousDemonstrations.from_episodes(
        packed,
        env_id,
        seed=seed,
        deterministic=deterministic,
        expert_return=expert_return,
        random_return=random_return,
    )
    # how each episode ended, as the environment said (the frozen v1 record has no field for it)
    object.__setattr__(demos, "episode_terminated", terminated)
    object.__setattr__(demos, "episode_rewards", [np.asarray(r) for r in rewards])
    return demos
