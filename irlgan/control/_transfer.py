r"""What a learned cost is worth on its own: correlation with the true cost, and a fresh policy.

* `cost_correlation`: Pearson's $r$ between the learned per-step cost and the true one on the
  state-action pairs the expert visits (costs are identified only up to an affine change, which
  $r$ ignores).
* `train_on_cost`: a new MaxEnt-PPO policy trained from scratch on $-c_\theta$ alone, with no
  discriminator and no demonstrations: if the cost is right, this policy imitates the expert too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from irlgan.algorithms import TrajectoryBatch
from irlgan.rl import PPOConfig

__all__ = ["cost_correlation", "train_on_cost"]

CostFn = Callable[[Tensor, Tensor], Tensor]


def cost_correlation(learned: CostFn, true: CostFn, episodes: TrajectoryBatch) -> float:
    """Pearson correlation of two per-step costs over the real steps of `episodes`.

    Args:
        learned, true: functions (obs [M, d_obs], act [M, d_act]) -> [M].
        episodes: the visited trajectories (e.g. the demonstrations).

    Returns:
        r in [-1, 1].
    """
    obs, act, _, _ = episodes.transitions()
    with torch.no_grad():
        a = learned(obs, act).double()
        b = true(obs, act).double()
    a, b = a - a.mean(), b - b.mean()
    denom = (a.square().sum() * b.square().sum()).sqrt()
    if not bool(denom > 0):
        raise ValueError("a cost is constant on these states; the correlation is undefined")
    return float((a * b).sum() / denom)


def train_on_cost(cost: CostFn, env_id: Any, total_steps: int, seed: int, *,
                  num_envs: int = 16, steps_per_env: int = 50, ppo: PPOConfig | None = None,
                  entropy_weight: float = 1.0, progress: bool = False):
    """Trains a fresh tanh-Gaussian policy with MaxEnt PPO on the reward -cost(x, u).

    Args:
        cost: the learned per-step cost, (obs [M, d_obs], act [M, d_act]) -> [M].
        env_id: the task (its own reward is ignored).
        total_steps: environment steps.
        seed: seeds the policy, the rollouts and PPO.
        num_envs, steps_per_env: rollout shape per iteration.
        ppo: the MaxEnt PPO settings (defaults when None).
        entropy_weight: alpha of the MaxEnt objective (1: the model exp(-c)/Z itself).
        progress: show a progress bar.

    Returns:
        (policy, seconds).
    """
    from irlgan.algorithms import seed_streams
    from irlgan.rl import MaxEntPPO, RolloutCollector, make_policy, make_vec_env

    t0 = time.perf_counter()
    streams = seed_streams(seed)
    vec_env = make_vec_env(env_id, num_envs)
    policy = make_policy(vec_env.observation_space, vec_env.action_space,
                         generator=torch.Generator().manual_seed(streams["policy_init"]))
    agent = MaxEntPPO(policy, vec_env.obs_dim, ppo if ppo is not None else PPOConfig(),
                      torch.Generator().manual_seed(streams["generator"]))
    collector = RolloutCollector(vec_env, policy, steps_per_env, streams["collector"] % 2**32)
    iterations = -(-total_steps // (num_envs * steps_per_env))
    bar = range(iterations)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(bar, desc="policy on learned cost", unit="it", leave=False)
    for _ in bar:
        rollout = collector.collect()
        with torch.no_grad():
            reward = -cost(rollout.obs, rollout.actions)
        agent.update(rollout, reward, entropy_weight=entropy_weight)
    vec_env.close()
    return policy, time.perf_counter() - t0
