"""Exact tables read from gymnasium's toy-text environments."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from irlgan.tabular import (
    StochasticTabularMDP,
    TabularMDP,
    brute_force_log_partition,
    from_gymnasium,
    log_partition,
    soft_value_iteration,
)

CASES = [
    ("FrozenLake-v1", {"is_slippery": False}),
    ("CliffWalking-v1", {}),
    ("Taxi-v4", {}),  # gymnasium 1.4 registers Taxi-v4; Taxi-v3 is deprecated there
]


def _rollouts_agree(env_id: str, kwargs: dict, problem, episodes: int = 30) -> None:
    """Steps the real environment with random actions and compares with the table."""
    env = gymnasium.make(env_id, **kwargs)
    rng = np.random.default_rng(0)
    mdp, cost = problem
    for episode in range(episodes):
        state, _ = env.reset(seed=episode)
        assert mdp.initial[state] > 0
        for _ in range(60):
            action = int(rng.integers(mdp.num_actions))
            successor, reward, terminated, truncated, _ = env.step(action)
            assert successor == int(mdp.next_state[state, action])
            assert reward == pytest.approx(-float(cost[state, action]))
            state = successor
            if terminated:
                # Terminal states are absorbing at cost zero in the table.
                assert torch.equal(mdp.next_state[state], torch.full_like(mdp.next_state[0], state))
                assert torch.equal(cost[state], torch.zeros_like(cost[state]))
                break
            if truncated:
                break
    env.close()


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_from_gymnasium_deterministic_tables(env_id: str, kwargs: dict) -> None:
    problem = from_gymnasium(env_id, 6, **kwargs)
    mdp, cost = problem
    assert isinstance(mdp, TabularMDP)
    assert problem.name == env_id
    env = gymnasium.make(env_id, **kwargs)
    assert mdp.num_states == env.observation_space.n
    assert mdp.num_actions == env.action_space.n
    np.testing.assert_allclose(mdp.initial.numpy(), env.unwrapped.initial_state_distrib)
    env.close()
    _rollouts_agree(env_id, kwargs, problem)
    value, _, policy = soft_value_iteration(mdp, cost)
    assert torch.isfinite(value).all()
    torch.testing.assert_close(policy.sum(-1), torch.ones_like(policy[..., 0]))


def test_from_gymnasium_accepts_an_env_instance() -> None:
    env = gymnasium.make("CliffWalking-v1")
    problem = from_gymnasium(env, 4)
    assert problem.name == "CliffWalking-v1"
    start = int(problem.mdp.initial.argmax())
    assert start == 36 and float(problem.mdp.initial[start]) == 1.0
    # Stepping right from the start walks into the cliff: cost 100, back to the start.
    assert int(problem.mdp.next_state[start, 1]) == start
    assert float(problem.cost[start, 1]) == 100.0
    env.close()


def test_from_gymnasium_refuses_slippery_frozen_lake() -> None:
    with pytest.raises(ValueError, match="stochastic") as error:
        from_gymnasium("FrozenLake-v1", 5)
    assert "StochasticTabularMDP" in str(error.value)
    assert "stochastic=True" in str(error.value)


def test_from_gymnasium_stochastic_table() -> None:
    problem = from_gymnasium("FrozenLake-v1", 2, stochastic=True)
    mdp, cost = problem
    assert isinstance(mdp, StochasticTabularMDP)
    assert not mdp.is_deterministic
    np.testing.assert_allclose(mdp.transition.sum(-1).numpy(), 1.0, atol=1e-12)
    torch.testing.assert_close(
        log_partition(mdp, cost), brute_force_log_partition(mdp, cost), rtol=0, atol=1e-10
    )
    causal = soft_value_iteration(mdp, cost, kind="causal")[0][0]
    assert bool((causal <= log_partition(mdp, cost) + 1e-12).all())


def test_from_gymnasium_rejects_environments_without_tables() -> None:
    with pytest.raises(ValueError, match="transition table"):
        from_gymnasium("CartPole-v1", 3)
