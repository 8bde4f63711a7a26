r"""A scripted near-optimal expert for `irlgan/PointMass-v0`, for fast tests and the tutorial.

Per axis the point mass is $x_{t+1} = x_t + \delta u_t$ with cost $(x - g)^2 + \rho u^2$. Ignoring
the action bounds and the horizon, the discounted-free infinite-horizon LQR has value $P(x-g)^2$
with $P^2 - P - \rho/\delta^2 = 0$ and the feedback $u = K(g - x)$,
$K = \delta P / (\rho + \delta^2 P)$; the expert applies it clipped to $[-1, 1]$. With
``noise > 0`` the expert samples $u = \tanh(\operatorname{atanh}(\bar u) + \sigma\varepsilon)$,
$\bar u$ the clipped feedback moved inside $(-0.95, 0.95)$: a stochastic expert as the theory
assumes. `irlgan expert` trains an expert with MaxEnt PPO instead; this one needs no training.
"""

from __future__ import annotations

import math
import os

import gymnasium
import numpy as np

import irlgan.envs  # noqa: F401  (registers the environment)
from irlgan.envs import POINT_MASS_ACTION_WEIGHT, POINT_MASS_GOAL

__all__ = ["point_mass_expert_action", "point_mass_expert_demonstrations",
           "point_mass_expert_demos"]

_STEP = 0.2


def _gain(action_weight: float = POINT_MASS_ACTION_WEIGHT, step: float = _STEP) -> float:
    p = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * action_weight / step**2))
    return step * p / (action_weight + step**2 * p)


def point_mass_expert_action(obs: np.ndarray, rng: np.random.Generator | None = None,
                             noise: float = 0.0) -> np.ndarray:
    """The expert's action(s) for positions obs [..., 2] -> [..., 2] in [-1, 1]."""
    act = np.clip(_gain() * (np.asarray(POINT_MASS_GOAL) - obs), -1.0, 1.0)
    if noise > 0:
        if rng is None:
            raise ValueError("a stochastic expert (noise > 0) needs rng")
        pre = np.arctanh(np.clip(act, -0.95, 0.95))
        act = np.tanh(pre + noise * rng.standard_normal(act.shape))
    return act.astype(np.float32)


def _record(episodes: int, seed: int, noise: float, eval_episodes: int
            ) -> tuple[list[tuple[np.ndarray, np.ndarray, float, bool]], float, float]:
    """The expert's episodes (obs, act, return, terminated) and the two reference returns."""
    from irlgan.rl import EVAL_SEED_BASE, random_returns

    if seed + episodes > EVAL_SEED_BASE:
        raise ValueError("demonstration reset seeds must stay below EVAL_SEED_BASE")
    rng = np.random.default_rng(seed)
    env = gymnasium.make("irlgan/PointMass-v0")

    def rollout(reset_seed: int, sigma: float) -> tuple[np.ndarray, np.ndarray, float, bool]:
        obs, _ = env.reset(seed=reset_seed)
        all_obs, all_act, total = [obs], [], 0.0
        done = terminated = False
        while not done:
            act = point_mass_expert_action(obs, rng, sigma)
            obs, reward, terminated, truncated, _ = env.step(act)
            all_obs.append(obs)
            all_act.append(act)
            total += float(reward)
            done = terminated or truncated
        return np.stack(all_obs), np.stack(all_act), total, bool(terminated)

    expert = float(np.mean([rollout(EVAL_SEED_BASE + i, 0.0)[2] for i in range(eval_episodes)]))
    rand = float(np.mean(random_returns("irlgan/PointMass-v0", eval_episodes, EVAL_SEED_BASE)))
    recorded = [rollout(seed + i, noise) for i in range(episodes)]
    env.close()
    return recorded, expert, rand


def point_mass_expert_demonstrations(episodes: int = 64, seed: int = 0, noise: float = 0.3,
                                     eval_episodes: int = 50):
    """Demonstrations of the scripted expert, in memory (`irlgan.envs` exports this).

    Episode i is reset with seed ``seed + i`` (below `irlgan.rl.EVAL_SEED_BASE`, so evaluation
    episodes are never demonstrated). The expert reference return is the deterministic expert's
    mean over `eval_episodes` held-out episodes and the random one that of uniform actions, as
    `irlgan expert` records them.

    Args:
        episodes: the number of demonstrated episodes (50 steps each).
        seed: first reset seed and seed of the action noise.
        noise: sigma of the expert's pre-tanh noise (0: deterministic).
        eval_episodes: episodes behind the reference returns.

    Returns:
        `irlgan.Demonstrations` with `env_id`, `returns`, `expert_return` and `random_return`
        set.
    """
    from irlgan.data import Demonstrations
    from irlgan.rl import EVAL_SEED_BASE

    recorded, expert, rand = _record(episodes, seed, noise, eval_episodes)
    return Demonstrations.from_arrays(
        [obs for obs, _, _, _ in recorded], [act for _, act, _, _ in recorded],
        [term for _, _, _, term in recorded], returns=[ret for _, _, ret, _ in recorded],
        env_id="irlgan/PointMass-v0", expert_return=expert, random_return=rand,
        reference_seeds=[EVAL_SEED_BASE + i for i in range(eval_episodes)])


def point_mass_expert_demos(directory: str | os.PathLike, episodes: int, seed: int,
                            noise: float = 0.3, eval_episodes: int = 50):
    """Writes demonstrations of the scripted expert in the first on-disk format
    (``irlgan.continuous-demonstrations``, version 1), which has no reset seeds for its
    references: the tests use it as a folder written by an earlier irlgan. New code saves
    `point_mass_expert_demonstrations` instead.

    The expert reference return is the deterministic expert's mean over `eval_episodes` held-out
    episodes and the random one that of uniform actions, as `irlgan expert` records them.

    Args:
        directory: output folder.
        episodes: demonstrations to write, reset seeds seed, seed+1, ... (below EVAL_SEED_BASE).
        seed: first reset seed and seed of the action noise.
        noise: sigma of the expert's pre-tanh noise (0: deterministic).
        eval_episodes: episodes behind the reference returns.

    Returns:
        The `ContinuousDemonstrations` written.
    """
    from irlgan.data import ContinuousDemonstrations, save_continuous_demonstrations

    recorded, expert, rand = _record(episodes, seed, noise, eval_episodes)
    demos = ContinuousDemonstrations.from_episodes(
        [(obs, act, ret) for obs, act, ret, _ in recorded], "irlgan/PointMass-v0", seed=seed,
        deterministic=noise == 0, expert_return=expert, random_return=rand)
    save_continuous_demonstrations(demos, directory)
    return demos
