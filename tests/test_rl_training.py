"""Seeded MaxEnt PPO training runs on the true reward that must reach stated thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from irlgan.rl import EVAL_SEED_BASE, evaluate_policy, normalized_return, random_returns
from irlgan.rl._expert import train_expert
from irlgan.rl._vec_env import run_episodes

pytestmark = pytest.mark.slow


def _greedy_point_mass_return(episodes: int) -> float:
    """A hand-written controller (full speed toward the goal, gain 2): the reference expert."""
    goal = np.array([1.0, 1.0])
    returns, _ = run_episodes("irlgan/PointMass-v0",
                              [EVAL_SEED_BASE + i for i in range(episodes)],
                              lambda obs: np.clip(2.0 * (goal - obs), -1.0, 1.0))
    return float(returns.mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_point_mass_expert_matches_a_hand_written_controller(seed):
    result = train_expert("irlgan/PointMass-v0", 40_000, seed)
    returns = evaluate_policy(result.policy, "irlgan/PointMass-v0", 20)
    score = normalized_return(float(returns.mean()), _greedy_point_mass_return(20),
                              float(random_returns("irlgan/PointMass-v0", 20).mean()))
    assert score >= 0.95, score


def test_pendulum_swings_up_within_200k_steps():
    result = train_expert("Pendulum-v1", 200_000, 0)
    returns = evaluate_policy(result.policy, "Pendulum-v1", 20)
    random_mean = float(random_returns("Pendulum-v1", 20).mean())
    assert random_mean < -900
    assert float(returns.mean()) > -250, returns.mean()


def test_mountain_car_finds_the_flag_with_wide_initial_exploration():
    result = train_expert("MountainCarContinuous-v0", 100_000, 0)
    returns = evaluate_policy(result.policy, "MountainCarContinuous-v0", 20)
    assert float(random_returns("MountainCarContinuous-v0", 20).mean()) < 0
    assert float(returns.mean()) > 50, returns.mean()  # reaching the flag pays +100


def test_maze_expert_goes_round_the_wall_where_a_greedy_controller_stays_below_it():
    env_id = "irlgan/PointMazeLeft-v0"
    goal = np.array([0.0, 0.7])
    greedy, _ = run_episodes(env_id, [EVAL_SEED_BASE + i for i in range(20)],
                             lambda obs: np.clip(2.0 * (goal - obs), -1.0, 1.0))
    result = train_expert(env_id, 200_000, 0)  # the maze's preset (presets/experts.toml)
    returns = evaluate_policy(result.policy, env_id, 20)
    assert float(greedy.mean()) < -40, greedy.mean()  # it presses against the wall's middle
    assert float(returns.mean()) > -20, returns.mean()
