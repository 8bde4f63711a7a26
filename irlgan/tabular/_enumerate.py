"""Brute-force enumeration of trajectories: the independent cross-check of the dynamic programmes.

Exponential in the horizon by design; the functions refuse problems with more than
`max_trajectories` trajectories per initial state.
"""

from __future__ import annotations

import torch
from torch import Tensor

from irlgan.tabular._mdp import (
    AnyMDP,
    StochasticTabularMDP,
    TabularMDP,
    _check_cost,
    _check_mdp,
    _require_deterministic,
)

__all__ = ["DEFAULT_MAX_TRAJECTORIES", "brute_force_log_partition", "enumerate_trajectories"]

DEFAULT_MAX_TRAJECTORIES = 1_000_000
"""The largest number of trajectories per initial state that enumeration accepts by default."""


def _all_sequences(num_symbols: int, length: int, limit: int, what: str) -> Tensor:
    """All `length`-symbol sequences, lexicographic, shape [num_symbols**length, length]."""
    count = num_symbols**length
    if count > limit:
        raise ValueError(
            f"refusing to enumerate {what}: {num_symbols}^{length} = {count} trajectories exceeds "
            f"max_trajectories={limit}; use a shorter horizon or the dynamic programme"
        )
    index = torch.arange(count, dtype=torch.int64)
    powers = num_symbols ** torch.arange(length - 1, -1, -1, dtype=torch.int64)
    return (index[:, None] // powers) % num_symbols


def enumerate_trajectories(
    mdp: TabularMDP, x0: int, *, max_trajectories: int = DEFAULT_MAX_TRAJECTORIES
) -> tuple[Tensor, Tensor]:
    """Every action sequence from `x0` and the states it visits (deterministic dynamics).

    Args:
        mdp: a deterministic problem.
        x0: the initial state.
        max_trajectories: refuse when $A^T$ exceeds this.

    Returns:
        `(actions, states)`: int64 tensors of shapes [A^T, T] (lexicographic order) and
        [A^T, T+1] with `states[:, 0] == x0`.

    Raises:
        ValueError: for a `StochasticTabularMDP`, an `x0` out of range, or too many trajectories.
    """
    mdp = _require_deterministic(mdp, "enumerate_trajectories")
    if isinstance(x0, bool) or not 0 <= int(x0) < mdp.num_states or int(x0) != x0:
        raise ValueError(f"x0 must be a state in [0, {mdp.num_states}), got {x0!r}")
    actions = _all_sequences(mdp.num_actions, mdp.horizon, max_trajectories, "action sequences")
    states = torch.empty(actions.shape[0], mdp.horizon + 1, dtype=torch.int64)
    states[:, 0] = int(x0)
    for t in range(mdp.horizon):
        states[:, t + 1] = mdp.next_state[states[:, t], actions[:, t]]
    return actions, states


def brute_force_log_partition(
    mdp: AnyMDP, cost: Tensor, *, max_trajectories: int = DEFAULT_MAX_TRAJECTORIES
) -> Tensor:
    r"""$\log Z(x_0)$ for every initial state by summing over all trajectories.

    For a `TabularMDP` the sum runs over the $A^T$ action sequences. For a
    `StochasticTabularMDP` it runs over the $(A S)^T$ sequences of actions and next states, each
    weighted by its transition probabilities: the joint-entropy normaliser of `log_partition`.

    Args:
        mdp: the problem.
        cost: shape [S, A].
        max_trajectories: refuse when the number of sequences per initial state exceeds this.

    Returns:
        shape [S].
    """
    _check_mdp(mdp)
    cost = _check_cost(mdp, cost)
    result = []
    if isinstance(mdp, TabularMDP):
        for x0 in range(mdp.num_states):
            actions, states = enumerate_trajectories(mdp, x0, max_trajectories=max_trajectories)
            total = cost[states[:, :-1], actions].sum(-1)
            result.append(torch.logsumexp(-total, dim=0))
        return torch.stack(result)
    assert isinstance(mdp, StochasticTabularMDP)
    num_states, num_actions = mdp.num_states, mdp.num_actions
    moves = _all_sequences(
        num_actions * num_states, mdp.horizon, max_trajectories, "action and next-state sequences"
    )
    actions, successors = moves // num_states, moves % num_states
    log_transition = torch.log(mdp.transition.to(cost.dtype))
    for x0 in range(num_states):
        here = torch.full((moves.shape[0],), x0, dtype=torch.int64)
        log_weight = torch.zeros(moves.shape[0], dtype=cost.dtype)
        for t in range(mdp.horizon):
            log_weight = (
                log_weight
                - cost[here, actions[:, t]]
                + log_transition[here, actions[:, t], successors[:, t]]
            )
            here = successors[:, t]
        result.append(torch.logsumexp(log_weight, dim=0))
    return torch.stack(result)
