"""Exact tables from gymnasium's toy-text environments (FrozenLake, CliffWalking, Taxi).

These environments expose their model as `env.unwrapped.P`, where `P[s][a]` is a list of
`(probability, next_state, reward, terminated)` tuples, and their start distribution as
`env.unwrapped.initial_state_distrib`.

Conventions of the conversion:

- The cost is minus the reward: `cost[s, a] = -sum_k probability_k * reward_k` (for a
  deterministic table, minus the one reward).
- Terminal states are absorbing: every state that some `terminated=True` outcome leads to gets
  a self loop for every action, at cost 0. (gymnasium would end the episode there; a
  fixed-horizon model instead stays put for the remaining steps at no cost, which leaves every
  trajectory's cost equal to the episode's cost.) The cost of the step *into* the terminal state
  is kept.
- A fixed horizon replaces gymnasium's time limits.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch

from irlgan.tabular._mdp import StochasticTabularMDP, TabularMDP, TabularProblem

__all__ = ["from_gymnasium"]


def from_gymnasium(
    env_or_id: gymnasium.Env | str,
    horizon: int,
    initial: Any = None,
    *,
    stochastic: bool = False,
    **make_kwargs: Any,
) -> TabularProblem:
    """Reads the exact model of a toy-text gymnasium environment.

    Args:
        env_or_id: an environment, or an id passed to `gymnasium.make` with `make_kwargs`
            (e.g. `from_gymnasium("FrozenLake-v1", 8, is_slippery=False)`).
        horizon: T, the number of actions per trajectory.
        initial: optional start distribution, shape [S]; by default the environment's
            `initial_state_distrib`, or a point mass on state 0 when it has none.
        stochastic: return a `StochasticTabularMDP` (any table is accepted) instead of a
            `TabularMDP` (which requires every outcome list to be a single outcome of
            probability 1).
        **make_kwargs: keyword arguments for `gymnasium.make` when `env_or_id` is an id.

    Returns:
        A `TabularProblem` with the MDP, the cost (minus the reward, shape [S, A]) and the
        environment id as its name. Terminal states are absorbing at cost 0 (module docstring).

    Raises:
        ValueError: if the environment has no readable table `P`, or if `stochastic` is False and
            the table is stochastic.
    """
    if isinstance(env_or_id, str):
        made = gymnasium.make(env_or_id, **make_kwargs)
        try:
            return from_gymnasium(made, horizon, initial, stochastic=stochastic)
        finally:
            made.close()
    if make_kwargs:
        raise ValueError("make_kwargs are only used when env_or_id is an id")
    env = env_or_id
    name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    base = env.unwrapped
    table = getattr(base, "P", None)
    if not isinstance(table, dict):
        raise ValueError(
            f"env_or_id: {name} has no transition table env.unwrapped.P "
            "(only toy-text style environments can be converted)"
        )
    if getattr(base, "fickle_passenger", False):
        raise ValueError(
            f"env_or_id: {name} has fickle_passenger=True, whose dynamics are not in its table P"
        )
    num_states = int(base.observation_space.n)
    num_actions = int(base.action_space.n)
    transition = np.zeros((num_states, num_actions, num_states), dtype=np.float64)
    cost = np.zeros((num_states, num_actions), dtype=np.float64)
    terminal = np.zeros(num_states, dtype=bool)
    deterministic = True
    for s in range(num_states):
        for a in range(num_actions):
            outcomes = table[s][a]
            if len(outcomes) != 1 or float(outcomes[0][0]) != 1.0:
                deterministic = False
            for probability, successor, reward, terminated in outcomes:
                transition[s, a, int(successor)] += float(probability)
                cost[s, a] -= float(probability) * float(reward)
                if terminated:
                    terminal[int(successor)] = True
    if not deterministic and not stochastic:
        raise ValueError(
            f"env_or_id: the transition table of {name} is stochastic (some P[s][a] has several "
            "outcomes or a probability below 1); use from_gymnasium(..., stochastic=True) to get "
            "a StochasticTabularMDP, or make the environment deterministic (e.g. "
            "is_slippery=False for FrozenLake)"
        )
    transition[terminal] = np.eye(num_states)[terminal][:, None, :]
    cost[terminal] = 0.0
    if initial is None:
        initial = getattr(base, "initial_state_distrib", None)
        if initial is None:
            initial = np.eye(num_states)[0]
    initial = torch.as_tensor(np.asarray(initial, dtype=np.float64))
    transition_t = torch.from_numpy(transition)
    if stochastic:
        mdp: TabularMDP | StochasticTabularMDP = StochasticTabularMDP(
            transition_t, initial, horizon
        )
    else:
        mdp = TabularMDP(transition_t.argmax(-1), initial, horizon)
    return TabularProblem(mdp, torch.from_numpy(cost), name)
