"""Inverse RL on an environment and a cost of your own, through irlgan's public API only.

Nothing here is shipped in irlgan: the environment (`Reach`, a point steered to a goal, its
position kept in a private attribute) and the cost module (`QuadraticCost`, a learned quadratic
bowl) are the user's. The script records demonstrations from a hand-written controller, trains
AIRL and GAN-GCL on them, saves and loads each model, acts with it, and trains a fresh policy on
AIRL's learned reward alone (`irlgan.wrappers.LearnedReward`), printing the final distance to the
goal of each. The budgets are options (the defaults take a few minutes on one core; the test runs
it with small ones); docs/tutorials/your_env.md walks through it.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import gymnasium
import numpy as np
import torch
from torch import nn

import irlgan
from irlgan.rl import ExpertConfig, PPOConfig, train_expert

GOAL = np.array([0.6, -0.4], dtype=np.float32)


class Reach(gymnasium.Env):
    """A point in [-1, 1]^2 moved by a velocity command; reward -|x - goal|^2 - 0.1 |u|^2."""

    metadata = {"render_modes": []}

    def __init__(self) -> None:
        self.observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._position = np.zeros(2, dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._position = self.np_random.uniform(-1.0, 1.0, 2).astype(np.float32)
        return self._position.copy(), {}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)
        reward = -float(np.sum((self._position - GOAL) ** 2) + 0.1 * np.sum(action ** 2))
        self._position = np.clip(self._position + 0.1 * action, -1.0, 1.0).astype(np.float32)
        return self._position.copy(), reward, False, False, {}


def make_reach() -> gymnasium.Env:
    """A new Reach with a 40-step time limit (irlgan takes any zero-argument factory)."""
    return gymnasium.wrappers.TimeLimit(Reach(), max_episode_steps=40)


class QuadraticCost(nn.Module):
    """c(x, u) = sum_i w_i (x_i - a_i)^2 + v |u|^2 with learned a, log w and log v."""

    def __init__(self) -> None:
        super().__init__()
        self.center = nn.Parameter(torch.zeros(2))
        self.log_weight = nn.Parameter(torch.zeros(2))
        self.log_action_weight = nn.Parameter(torch.tensor(-2.0))

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        state = (self.log_weight.exp() * (obs - self.center) ** 2).sum(-1)
        return state + self.log_action_weight.exp() * (act ** 2).sum(-1)


def record_demonstrations(episodes: int, seed: int) -> irlgan.Demonstrations:
    """Episodes of a noisy proportional controller towards the goal."""
    rng = np.random.default_rng(seed)
    env = make_reach()
    observations, actions, terminated = [], [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        obs_list, act_list, done = [obs], [], False
        while not done:
            act = np.clip(3.0 * (GOAL - obs) + 0.1 * rng.standard_normal(2), -1, 1)
            obs, _, term, trunc, _ = env.step(act)
            obs_list.append(obs)
            act_list.append(act.astype(np.float32))
            done = term or trunc
        observations.append(np.array(obs_list))
        actions.append(np.array(act_list))
        terminated.append(bool(term))
    return irlgan.Demonstrations.from_arrays(observations, actions, terminated)


def final_distance(model, episodes: int = 20) -> float:
    """Mean distance to the goal at the end of episodes driven by `model.predict`."""
    env = make_reach()
    distances = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        done = False
        while not done:
            obs, _, term, trunc, _ = env.step(model.predict(obs))
            done = term or trunc
        distances.append(float(np.linalg.norm(obs - GOAL)))
    return float(np.mean(distances))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airl-steps", type=int, default=80_000, help="AIRL's env steps")
    parser.add_argument("--gan-gcl-steps", type=int, default=40_000, help="GAN-GCL's env steps")
    parser.add_argument("--fresh-steps", type=int, default=40_000,
                        help="env steps of the fresh policy on the learned reward")
    parser.add_argument("--out", default=None, help="folder for the saved models")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out or tempfile.mkdtemp(prefix="irlgan-custom-"))
    demos = record_demonstrations(episodes=20, seed=0)
    # the point-mass presets, a similar task (irlgan/presets/control.toml)
    ppo = PPOConfig(gamma=0.95, learning_rate=3e-3, minibatch_size=160)
    config = irlgan.AdversarialConfig(num_envs=8, steps_per_env=40, disc_batch=512,
                                      disc_lr=1e-3, state_only=True, ppo=ppo)
    results = {"expert_distance": float(np.mean([np.linalg.norm(o[-1] - GOAL)
                                                 for o in demos.observations]))}

    airl = irlgan.AIRL(make_reach, demos, config=config, seed=0).learn(args.airl_steps)
    airl.save(out / "airl.pt")
    airl_model = irlgan.load(out / "airl.pt")
    results["airl_distance"] = final_distance(airl_model)

    config = dataclasses.replace(config, disc_lr=3e-3, disc_steps=10, entropy_weight=0.3)
    gan_gcl = irlgan.GANGCL(make_reach, demos, reward_net=QuadraticCost(), config=config,
                            seed=0).learn(args.gan_gcl_steps)
    gan_gcl.save(out / "gan_gcl.pt")
    gan_gcl_model = irlgan.load(out / "gan_gcl.pt", reward_net=QuadraticCost())
    results["gan_gcl_distance"] = final_distance(gan_gcl_model)
    results["gan_gcl_learned_goal_error"] = float(np.linalg.norm(
        gan_gcl_model.discriminator["cost"].center.detach().numpy() - GOAL))

    # A fresh policy that never sees the demonstrations, trained on AIRL's learned reward g.

    fresh = train_expert(
        lambda: irlgan.wrappers.LearnedReward(make_reach(), airl_model, kind="g"),
        args.fresh_steps, seed=1,
        config=ExpertConfig(num_envs=8, steps_per_env=40,
                            ppo=dataclasses.replace(ppo, entropy_weight=0.05)))

    class _Fresh:
        def predict(self, obs):
            with torch.no_grad():
                return fresh.policy.mode(torch.as_tensor(obs[None])).numpy()[0]

    results["fresh_policy_distance"] = final_distance(_Fresh())
    for key, value in results.items():
        print(f"{key}: {value:.3f}")
    return results


if __name__ == "__main__":
    main()
