"""irlgan/PointMass-v0: gymnasium API, determinism, the cost formula, the fixed horizon."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from irlgan.envs import (
    POINT_MASS_ACTION_WEIGHT,
    POINT_MASS_GOAL,
    POINT_MASS_HORIZON,
    PointMassEnv,
    point_mass_true_cost,
)


def test_passes_the_gymnasium_env_checker():
    check_env(PointMassEnv(), skip_render_check=True)
    check_env(gymnasium.make("irlgan/PointMass-v0").unwrapped, skip_render_check=True)


def _trajectory(seed: int, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    env = gymnasium.make("irlgan/PointMass-v0")
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for action in actions:
        obs, reward, _, _, _ = env.step(action)
        observations.append(obs)
        rewards.append(reward)
    return np.stack(observations), np.array(rewards)


def test_reset_and_steps_are_deterministic_given_the_seed():
    actions = np.random.default_rng(0).uniform(-1, 1, size=(20, 2)).astype(np.float32)
    first, rewards = _trajectory(3, actions)
    second, rewards_again = _trajectory(3, actions)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(rewards, rewards_again)
    other, _ = _trajectory(4, actions)
    assert not np.array_equal(first[0], other[0])
    starts = np.stack([_trajectory(s, actions[:1])[0][0] for s in range(200)])
    assert np.abs(starts).max() <= 2.0 and starts.std(0).min() > 0.9  # uniform on [-2, 2]^2


def test_reward_is_minus_the_quadratic_cost_of_the_state_the_action_is_taken_in():
    env = gymnasium.make("irlgan/PointMass-v0")
    obs, _ = env.reset(seed=0)
    goal = np.array(POINT_MASS_GOAL)
    rng = np.random.default_rng(1)
    for _ in range(30):
        action = rng.uniform(-1.5, 1.5, size=2).astype(np.float32)  # also beyond the bounds
        state = env.unwrapped.state.copy()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        clipped = np.clip(action.astype(np.float64), -1, 1)
        expected = ((state - goal) ** 2).sum() + POINT_MASS_ACTION_WEIGHT * (clipped**2).sum()
        assert reward == pytest.approx(-expected, rel=1e-12)
        np.testing.assert_allclose(next_obs, np.clip(state + 0.2 * clipped, -3, 3), atol=1e-6)
        torch_cost = env.unwrapped.true_cost(torch.from_numpy(state), torch.from_numpy(action))
        assert float(torch_cost) == pytest.approx(expected, rel=1e-6)
        assert not terminated and not truncated


def test_true_cost_is_zero_only_at_the_goal_with_no_action_and_broadcasts():
    goal = torch.tensor(POINT_MASS_GOAL, dtype=torch.float64)
    assert float(point_mass_true_cost(goal, torch.zeros(2, dtype=torch.float64))) == 0.0
    obs = torch.randn(4, 5, 2, dtype=torch.float64)
    act = torch.randn(4, 5, 2, dtype=torch.float64)
    cost = point_mass_true_cost(obs, act)
    assert cost.shape == (4, 5)
    expected = ((obs - goal) ** 2).sum(-1) + POINT_MASS_ACTION_WEIGHT * (act**2).sum(-1)
    torch.testing.assert_close(cost, expected)
    assert (cost > 0).all()
    with pytest.raises(ValueError, match="shape"):
        point_mass_true_cost(obs, act[..., :1])


def test_episodes_are_truncated_at_the_horizon_and_never_terminate():
    env = gymnasium.make("irlgan/PointMass-v0")
    env.reset(seed=0)
    for step in range(1, POINT_MASS_HORIZON + 1):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not terminated
        assert truncated == (step == POINT_MASS_HORIZON)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"goal": (5.0, 0.0)}, "outside"), ({"start_spread": 0.0}, "start_spread"),
     ({"action_weight": -1.0}, "action_weight"), ({"goal": (1.0,)}, "goal")],
)
def test_bad_settings_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PointMassEnv(**kwargs)
