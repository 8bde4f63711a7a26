r"""Returns on held-out reset seeds, and the normalised return.

Evaluation episodes are reset with seeds `seed_base, ..., seed_base + episodes - 1`; with the
default `EVAL_SEED_BASE` = 10^6 these are never used by training (`RolloutCollector` draws its
reset seeds below it). The normalised return is

$$\frac{R - R_\text{random}}{R_\text{expert} - R_\text{random}},$$

1 for the expert's deterministic mean return and 0 for uniformly random actions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from irlgan.rl._rollout import EVAL_SEED_BASE
from irlgan.rl._vec_env import EnvLike, VecEnv, run_episodes

__all__ = ["EVAL_EPISODES", "evaluate_policy", "normalized_return", "random_returns"]

EVAL_EPISODES = 50
"""Episodes behind the expert and random reference returns."""


def _check_counts(episodes: int, seed_base: int) -> None:
    if not isinstance(episodes, int) or isinstance(episodes, bool) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    if not isinstance(seed_base, int) or isinstance(seed_base, bool) or seed_base < 0:
        raise ValueError(f"seed_base must be a non-negative integer, got {seed_base!r}")


def evaluate_policy(
    policy: nn.Module,
    env: EnvLike,
    episodes: int = EVAL_EPISODES,
    seed_base: int = EVAL_SEED_BASE,
    deterministic: bool = True,
    generator: torch.Generator | None = None,
) -> np.ndarray:
    """Returns of `policy` on episodes reset with seeds seed_base, ..., seed_base+episodes-1.

    Args:
        policy: a policy with `mode(obs)` and `sample(obs, generator)`.
        env: a gymnasium id or a zero-argument callable returning a new `gymnasium.Env`.
        episodes: the number of episodes (run side by side, batched through the policy).
        seed_base: the first reset seed.
        deterministic: act with `mode` (True) or sample (False, from `generator`).
        generator: the torch generator for sampled actions (a fixed one when None).

    Returns:
        float64 [episodes], the undiscounted environment returns.
    """
    _check_counts(episodes, seed_base)
    if not deterministic and generator is None:
        generator = torch.Generator().manual_seed(seed_base)
    parameter = next(policy.parameters())
    dtype, device = parameter.dtype, parameter.device

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        tensor = torch.as_tensor(obs, dtype=dtype, device=device)
        if deterministic:
            return policy.mode(tensor).cpu().numpy()
        return policy.sample(tensor, generator=generator)[0].cpu().numpy()

    return run_episodes(env, [seed_base + i for i in range(episodes)], act)[0]


def random_returns(
    env: EnvLike, episodes: int = EVAL_EPISODES, seed_base: int = EVAL_SEED_BASE
) -> np.ndarray:
    """Returns of uniformly random actions (drawn from a numpy Generator seeded by seed_base).

    Args:
        env: a gymnasium id or a zero-argument callable returning a new `gymnasium.Env`.
        episodes: the number of episodes.
        seed_base: the first reset seed, and the seed of the action generator.

    Returns:
        float64 [episodes].
    """
    _check_counts(episodes, seed_base)
    rng = np.random.default_rng(seed_base)
    probe = VecEnv(env, 1)
    low, high = probe.action_space.low, probe.action_space.high
    probe.close()

    def act(obs: np.ndarray) -> np.ndarray:
        return rng.uniform(low, high, size=(obs.shape[0], low.shape[0]))

    return run_episodes(env, [seed_base + i for i in range(episodes)], act)[0]


def _check_seeds(seeds: list[int]) -> list[int]:
    seeds = [int(s) for s in seeds]
    if not seeds or min(seeds) < 0:
        raise ValueError("evaluation needs at least one non-negative reset seed")
    return seeds


def policy_returns(policy: nn.Module, env: EnvLike, seeds: list[int]) -> np.ndarray:
    """Returns of `policy`'s mode, one episode per reset seed in `seeds` (batched)."""
    seeds = _check_seeds(seeds)
    parameter = next(policy.parameters())
    dtype, device = parameter.dtype, parameter.device

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        return policy.mode(torch.as_tensor(obs, dtype=dtype, device=device)).cpu().numpy()

    return run_episodes(env, seeds, act)[0]


def random_returns_on(env: EnvLike, seeds: list[int]) -> np.ndarray:
    """Returns of uniformly random actions, one episode per reset seed in `seeds`, the actions
    drawn from a numpy Generator seeded by the first seed (for consecutive seeds from
    `seed_base` the same as `random_returns(env, len(seeds), seed_base)`)."""
    seeds = _check_seeds(seeds)
    rng = np.random.default_rng(seeds[0])
    probe = VecEnv(env, 1)
    low, high = probe.action_space.low, probe.action_space.high
    probe.close()

    def act(obs: np.ndarray) -> np.ndarray:
        return rng.uniform(low, high, size=(obs.shape[0], low.shape[0]))

    return run_episodes(env, seeds, act)[0]


def normalized_return(
    returns: float | np.ndarray, expert_return: float, random_return: float
) -> float | np.ndarray:
    """(R - R_random) / (R_expert - R_random): 1 at the expert, 0 at random actions.

    Raises:
        ValueError: if the expert does not beat random (the scale would be meaningless).
    """
    if not np.isfinite(expert_return) or not np.isfinite(random_return):
        raise ValueError("expert_return and random_return must be finite")
    if expert_return <= random_return:
        raise ValueError(
            f"expert_return ({expert_return}) must exceed random_return ({random_return})"
        )
    value = (np.asarray(returns, dtype=np.float64) - random_return) / (
        expert_return - random_return
    )
    return float(value) if value.ndim == 0 else value
