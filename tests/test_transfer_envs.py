"""AIRL's transfer tasks as irlgan environments: the shifting point-mass maze and the disabled
Ant."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import irlgan.envs  # noqa: F401  (registers the environments)
from irlgan.envs import MAZE_GOAL, PointMazeEnv, disabled_ant_xml
from irlgan.rl._env_state import capture_env_state


def roll(env_id: str, policy, seed: int = 0) -> tuple[np.ndarray, list[float]]:
    env = gymnasium.make(env_id)
    obs, _ = env.reset(seed=seed)
    path, rewards = [obs], []
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        path.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    env.close()
    return np.array(path), rewards


def via(x_gap: float):
    """Go to the opening at horizontal position x_gap below the wall, up through it, then to the
    goal."""
    def policy(obs):
        x, y = float(obs[0]), float(obs[1])
        if y < 0.05:
            target = np.array([x_gap, -0.1]) if abs(x - x_gap) > 0.02 else np.array([x_gap, 0.2])
        else:
            target = np.array(MAZE_GOAL)
        return np.clip((target - obs) / 0.1, -1, 1).astype(np.float32)
    return policy


@pytest.mark.parametrize("env_id, open_side", [("irlgan/PointMazeLeft-v0", -0.8),
                                               ("irlgan/PointMazeRight-v0", 0.8)])
def test_the_maze_lets_through_only_its_opening(env_id, open_side) -> None:
    path, rewards = roll(env_id, via(open_side))
    assert len(rewards) == 100  # truncated at the time limit
    assert np.hypot(*(path[-1] - MAZE_GOAL)) < 0.05, path[-1]  # reached the goal
    np.testing.assert_allclose(rewards, -np.hypot(*(path[1:] - MAZE_GOAL).T), atol=1e-6)
    blocked, _ = roll(env_id, via(-open_side))  # the other side is wall
    assert (blocked[:, 1] < 0).all() and blocked[:, 1].max() >= -1e-5
    straight, _ = roll(env_id, lambda obs: np.array([0.0, 1.0], np.float32))
    assert (straight[:, 1] < 0).all()  # the middle is wall in both


def test_a_move_that_crosses_the_wall_outside_the_opening_stops_short() -> None:
    env = PointMazeEnv("left")
    env.reset(seed=0)
    env.state = np.array([0.5, -0.05])
    obs, *_ = env.step(np.array([0.0, 1.0]))
    assert obs[1] < 0 and obs[1] == pytest.approx(0.0, abs=1e-5) and obs[0] == 0.5
    env.state = np.array([-0.8, -0.05])
    obs, *_ = env.step(np.array([0.0, 1.0]))
    assert obs[1] == pytest.approx(0.05)  # through the opening
    env.state = np.array([-0.6, -0.05])  # diagonal: crosses at x = -0.55, inside the opening
    obs, *_ = env.step(np.array([1.0, 1.0]))
    assert obs[1] > 0
    with pytest.raises(ValueError, match="opening must be"):
        PointMazeEnv("middle")


def test_the_maze_state_is_captured_for_exact_resume() -> None:
    env = gymnasium.make("irlgan/PointMazeRight-v0")
    env.reset(seed=3)
    assert capture_env_state(env) is not None


def test_the_disabled_ant_has_short_front_legs_and_ants_interface() -> None:
    import mujoco

    ant = gymnasium.make("Ant-v5")
    disabled = gymnasium.make("irlgan/DisabledAnt-v0")
    assert disabled.observation_space == ant.observation_space
    assert disabled.action_space == ant.action_space
    assert disabled.spec.max_episode_steps == ant.spec.max_episode_steps == 1000

    def half_length(env, name: str) -> float:
        model = env.unwrapped.model
        return float(model.geom_size[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name),
                                     1])

    for name in ("left_leg_geom", "left_ankle_geom", "right_leg_geom", "right_ankle_geom"):
        assert half_length(disabled, name) == pytest.approx(0.25 * half_length(ant, name))
    for name in ("back_leg_geom", "third_ankle_geom", "rightback_leg_geom", "aux_1_geom"):
        assert half_length(disabled, name) == pytest.approx(half_length(ant, name))
    obs, _ = disabled.reset(seed=0)
    for _ in range(20):
        obs, reward, terminated, truncated, _ = disabled.step(disabled.action_space.sample())
    assert np.isfinite(obs).all() and np.isfinite(reward)
    assert disabled_ant_xml() == disabled_ant_xml()  # written once, named by its content
    with pytest.raises(ValueError, match="front_leg_scale"):
        disabled_ant_xml(0.0)
    ant.close()
    disabled.close()


def test_a_reward_of_the_state_before_the_move_is_epic_equivalent_to_the_mazes_own():
    """r(s') = r(s) / gamma + gamma Phi(s') - Phi(s) with Phi = r / gamma: the maze's reward
    -|s' - goal| and -|s - goal| are the same reward to EPIC (the transfer benchmark compares
    learned rewards of the state before the move with it)."""
    import torch

    from irlgan.epic import epic_sampled

    goal = torch.tensor(MAZE_GOAL, dtype=torch.float64)
    env = PointMazeEnv(opening="right")

    def states(n, g):
        return torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1

    def coverage(n, g):
        s, a = states(n, g), states(n, g)
        nxt = []
        for x, u in zip(s.numpy(), a.numpy(), strict=True):
            env.state = x.copy()
            nxt.append(env.step(u)[0])
        return s, a, torch.as_tensor(np.array(nxt), dtype=torch.float64)

    def after(obs, act, next_obs):
        return -(next_obs - goal).norm(dim=-1)

    def before(obs, act, next_obs):
        return -(obs - goal).norm(dim=-1)

    def mirrored(obs, act, next_obs):  # a goal below the wall
        return -(obs + goal).norm(dim=-1)

    kwargs = dict(sample_states=states, sample_actions=states, sample_coverage=coverage,
                  n_mean=256, n_coverage=1024)
    assert epic_sampled(after, before, 0.99, **kwargs) < 1e-6
    assert epic_sampled(after, mirrored, 0.99, **kwargs) > 0.3
