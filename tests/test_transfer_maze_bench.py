"""The checks of benchmarks/transfer.py's diagnosis that need no training: the learned reward
along a policy in the test maze, where its episodes end, and the verdict the table prints."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch
from _benchmarks import FixedActionPolicy, load_benchmark

import irlgan.envs  # noqa: F401  (registers the mazes)


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("transfer")


class _DistanceCost(torch.nn.Module):
    """A cost of the state alone: its distance to the point (0.5, -0.5)."""

    def step_cost(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(obs - torch.tensor([0.5, -0.5]), dim=-1)


def test_the_learned_reward_along_a_policy_and_where_its_episodes_end(bench):
    action = np.array([-0.3, 0.8], dtype=np.float32)  # up and left: the wall stops it
    value, end = bench.learned_reward_on(_DistanceCost(), FixedActionPolicy(action),
                                         episodes=2, seed_base=5)
    env = gymnasium.make("irlgan/PointMazeRight-v0")
    rewards, ends = [], []
    for seed in (5, 6):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            rewards.append(-float(np.hypot(obs[0] - 0.5, obs[1] + 0.5)))
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        ends.append(obs)
    assert len(rewards) == 200  # two whole 100-step episodes
    assert value == pytest.approx(np.mean(rewards), rel=1e-6)
    assert end == pytest.approx(np.mean(ends, axis=0).tolist(), abs=1e-7)
    assert end[0] == -1.0 and -1e-3 < end[1] < 0  # pressed into the left end, under the wall


def _row(own: float, rl: float, retrained: float = -20.0) -> dict:
    return {"method": "airl", "seed": 3, "test_return": -20.0, "retrained_test_return": retrained,
            "learned_reward_own": own, "learned_reward_rl": rl, "end_own": [-1.0, -1.0]}


def test_the_verdict_names_the_reward_or_the_optimiser_and_an_unreproduced_policy(bench):
    (reward_line,) = bench.diagnosis_lines([_row(-1.0, -2.0)])[-1:]
    assert "the reward" in reward_line and "ends (-1.00, -1.00)" in reward_line
    (optimiser_line,) = bench.diagnosis_lines([_row(-3.1, -1.2)])[-1:]
    assert "the optimiser" in optimiser_line and "not the row's" not in optimiser_line
    (other_line,) = bench.diagnosis_lines([_row(-3.1, -1.2, retrained=-150.0)])[-1:]
    assert "retrained policy scores -150.00, not the row's" in other_line
    assert bench.diagnosis_lines([{"method": "gail", "seed": 0}]) == []


def test_the_restart_kept_is_the_one_with_the_most_learned_reward_and_the_table_says_so(bench):
    candidates = [{"seed": 104, "learned_reward": -3.19, "test_return": -195.0, "end": [-1, -1]},
                  {"seed": 204, "learned_reward": -3.18, "test_return": -195.1, "end": [-1, -1]},
                  {"seed": 304, "learned_reward": -0.85, "test_return": -15.8, "end": [0, 0.7]}]
    assert bench.select_by_learned_reward(candidates)["seed"] == 304
    row = {**_row(-3.19, -0.82, retrained=-20.0), "restarts": candidates, "restart_return": -15.8}
    line = bench.diagnosis_lines([row])[-1]
    assert line.split("->")[1].strip() == "-15.80"
    assert "-3.190 / -195.00  -3.180 / -195.10  -0.850 / -15.80" in line
