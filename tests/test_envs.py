"""The grid world environment and its exact tabular model."""

from __future__ import annotations

import importlib

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import irlgan.envs
from irlgan.envs import (
    DEFAULT_LAYOUT,
    RANDOM_START_LAYOUT,
    GridWorldEnv,
    default_grid_problem,
)
from irlgan.tabular import TabularMDP

IDS = ["irlgan/GridWorld-v0", "irlgan/GridWorldRandomStart-v0"]


@pytest.mark.parametrize("env_id", IDS)
def test_registered_envs_pass_the_checker(env_id: str) -> None:
    env = gymnasium.make(env_id, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    env.reset(seed=0)
    image = env.render()
    assert isinstance(image, np.ndarray)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    rows, cols = len(DEFAULT_LAYOUT), len(DEFAULT_LAYOUT[0])
    assert image.shape[:2] == (rows * 16, cols * 16)
    env.close()


def test_registration_is_idempotent() -> None:
    importlib.reload(irlgan.envs)
    for env_id in IDS:
        assert env_id in gymnasium.registry


def test_default_problem() -> None:
    problem = default_grid_problem()
    mdp, cost = problem
    assert isinstance(mdp, TabularMDP)
    assert mdp.num_states >= 25 and mdp.horizon >= 8 and mdp.num_actions == 5
    assert int((mdp.initial > 0).sum()) == 1
    assert problem.features is not None
    torch.testing.assert_close(problem.features @ torch.tensor([3.0, 0.0, 8.0]).double(), cost)
    random_start = GridWorldEnv(RANDOM_START_LAYOUT).to_tabular()
    assert int((random_start.mdp.initial > 0).sum()) == 4


@pytest.mark.parametrize("env_id", IDS)
def test_tabular_model_agrees_with_env_step(env_id: str) -> None:
    env = gymnasium.make(env_id)
    mdp, cost = env.unwrapped.to_tabular()
    rng = np.random.default_rng(1)
    starts = set()
    for episode in range(40):
        state, _ = env.reset(seed=episode)
        starts.add(state)
        assert mdp.initial[state] > 0
        for step in range(mdp.horizon):
            action = int(rng.integers(mdp.num_actions))
            successor, reward, terminated, truncated, _ = env.step(action)
            assert successor == int(mdp.next_state[state, action])
            assert reward == -float(cost[state, action])
            assert not terminated
            assert truncated == (step == mdp.horizon - 1)
            state = successor
    assert starts == set(torch.nonzero(mdp.initial).flatten().tolist())
    env.close()


def test_walls_and_edges_block_moves_and_costs_follow_arrival_cell() -> None:
    env = GridWorldEnv(["S#G", ".H."], horizon=3, free_cost=1.0, goal_cost=-2.0, hazard_cost=7.0)
    mdp, cost = env.to_tabular()
    # States in row-major order over non-wall cells: S=0, G=1, (1,0)=2, H=3, (1,2)=4.
    stay, up, right, down, left = range(5)
    assert mdp.next_state[0].tolist() == [0, 0, 0, 2, 0]
    assert mdp.next_state[3].tolist() == [3, 3, 4, 3, 2]
    assert mdp.next_state[1].tolist() == [1, 1, 1, 4, 1]
    assert cost[0, right].item() == 1.0  # blocked by the wall: stays on a free cell
    assert cost[2, right].item() == 7.0  # arrives at the hazard
    assert cost[4, up].item() == -2.0  # arrives at the goal
    assert cost[1, stay].item() == -2.0
    env_fixed = GridWorldEnv(["S#G", ".H."], start=(1, 2))
    assert env_fixed.reset(seed=0)[0] == 4


def test_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError, match="layout"):
        GridWorldEnv([])
    with pytest.raises(ValueError, match="layout"):
        GridWorldEnv(["S.", "..."])
    with pytest.raises(ValueError, match="layout"):
        GridWorldEnv(["S.X"])
    with pytest.raises(ValueError, match="'S'"):
        GridWorldEnv(["..G"])
    with pytest.raises(ValueError, match="start"):
        GridWorldEnv(["S#G"], start=(0, 1))
    with pytest.raises(ValueError, match="horizon"):
        GridWorldEnv(horizon=0)
    with pytest.raises(ValueError, match="hazard_cost"):
        GridWorldEnv(hazard_cost=float("nan"))
    with pytest.raises(ValueError, match="render_mode"):
        GridWorldEnv(render_mode="human")
    env = GridWorldEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(5)
