r"""Exact finite-horizon dynamic programmes: soft values, likelihoods, visitation, KL, sampling.

All quantities are computed in log space and follow the dtype of `cost` (float64 by default).
Time runs over $t = 0, \dots, T-1$ for actions and $t = 0, \dots, T$ for states.

Soft value iteration, deterministic dynamics:

$$V_T = 0,\quad Q_t(s, a) = -c(s, a) + V_{t+1}(\mathrm{next}(s, a)),\quad
V_t(s) = \log \sum_a e^{Q_t(s, a)},\quad \pi_t(a \mid s) = e^{Q_t(s, a) - V_t(s)}.$$

Unrolling the recursion gives $V_0(x_0) = \log \sum_{u_{0:T-1}} e^{-c(\tau)} = \log Z(x_0)$, so
$p_\theta(\tau \mid x_0) = \prod_t \pi_t(u_t \mid x_t)$ exactly.

With stochastic dynamics the two classical models differ:

- maximum *causal* entropy (`kind="causal"`): $Q_t = -c + \mathbb{E}_{s' \sim P}[V_{t+1}(s')]$;
  the policy $\pi_t$ is what an agent that does not know the future outcomes would play.
- maximum *joint* entropy (`kind="joint"`): $p(\tau) \propto \rho(x_0) \prod_t P(x_{t+1} \mid x_t,
  u_t)\, e^{-c(\tau)}$, whose normaliser obeys
  $V_t(s) = \log \sum_{a, s'} P(s' \mid s, a)\, e^{-c(s, a) + V_{t+1}(s')}$ and
  $V_0(x_0) = \log Z(x_0)$. This model is "optimistic": it tilts the transitions towards cheap
  futures, which a real agent cannot do.

By Jensen's inequality the causal values never exceed the joint ones; they agree when the dynamics
are deterministic.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from irlgan.tabular._mdp import (
    AnyMDP,
    StochasticTabularMDP,
    TabularMDP,
    _check_cost,
    _check_distribution,
    _check_index_tensor,
    _check_mdp,
    _check_policy,
    _check_policy_rows,
    _check_trajectories,
    _initial_or_default,
    _require_deterministic,
)

__all__ = [
    "exact_kl",
    "log_partition",
    "policy_log_prob",
    "sample_trajectories",
    "soft_value_iteration",
    "state_action_visitation",
    "trajectory_cost",
    "trajectory_log_likelihood",
]

Kind = Literal["causal", "joint"]


def soft_value_iteration(
    mdp: AnyMDP, cost: Tensor, *, kind: Kind = "causal"
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Finite-horizon soft (log-sum-exp) value iteration.

    Differentiable with respect to `cost` (no in-place updates).

    Args:
        mdp: the problem. For a `TabularMDP` both kinds are the same computation.
        cost: shape [S, A]; lower cost means more likely.
        kind: for a `StochasticTabularMDP`, `"causal"` (maximum causal entropy,
            $Q = -c + \mathbb{E}_{s'}[V_{t+1}(s')]$) or `"joint"` (maximum joint entropy,
            $Q = -c + \log \mathbb{E}_{s'}[e^{V_{t+1}(s')}]$, so that $V_0 = \log Z$ of the
            trajectory distribution $\propto \rho \prod P \, e^{-c}$). Under `"joint"` the returned
            policy is the model's marginal action distribution at each state; the model's state
            transitions are then tilted away from $P$.

    Returns:
        `(V, Q, policy)`: V shape [T+1, S] with `V[T] = 0`; Q and policy shape [T, S, A], each
        policy row a distribution over actions.
    """
    _check_mdp(mdp)
    if kind not in ("causal", "joint"):
        raise ValueError(f"kind must be 'causal' or 'joint', got {kind!r}")
    cost = _check_cost(mdp, cost)
    values = [torch.zeros(mdp.num_states, dtype=cost.dtype, device=cost.device)]
    qs = []
    if isinstance(mdp, StochasticTabularMDP):
        transition = mdp.transition.to(cost.dtype)
        log_transition = torch.log(transition)
    for _ in range(mdp.horizon):
        v_next = values[-1]
        if isinstance(mdp, TabularMDP):
            continuation = v_next[mdp.next_state]
        elif kind == "causal":
            continuation = torch.einsum("sap,p->sa", transition, v_next)
        else:
            continuation = torch.logsumexp(log_transition + v_next, dim=-1)
        q = -cost + continuation
        qs.append(q)
        values.append(torch.logsumexp(q, dim=-1))
    value = torch.stack(values[::-1])
    q_table = torch.stack(qs[::-1])
    policy = torch.exp(q_table - value[:-1, :, None])
    return value, q_table, policy


def log_partition(mdp: AnyMDP, cost: Tensor) -> Tensor:
    r"""The log partition function of each initial state, $\log Z(x_0)$.

    For a `TabularMDP`, $Z(x_0) = \sum_{u_{0:T-1}} e^{-\sum_t c(x_t, u_t)}$ over all $A^T$ action
    sequences. For a `StochasticTabularMDP` it is the joint-entropy normaliser
    $Z(x_0) = \sum_\tau \prod_t P(x_{t+1} \mid x_t, u_t)\, e^{-c(\tau)}$ (`kind="joint"` of
    `soft_value_iteration`); the causal soft value $V_0$ is a lower bound of it.

    Args:
        mdp: the problem.
        cost: shape [S, A].

    Returns:
        shape [S], differentiable with respect to `cost`.
    """
    value, _, _ = soft_value_iteration(mdp, cost, kind="joint")
    return value[0]


def trajectory_cost(cost: Tensor, states: Tensor, actions: Tensor) -> Tensor:
    r"""The summed cost $c(\tau) = \sum_{t<T} c(x_t, u_t)$ of each trajectory.

    Args:
        cost: shape [S, A].
        states: integer, shape [N, T+1] (or [N, T]; only the first T columns are used).
        actions: integer, shape [N, T].

    Returns:
        shape [N].
    """
    states = _check_index_tensor(states, "states", 2)
    actions = _check_index_tensor(actions, "actions", 2)
    horizon = actions.shape[1]
    if states.shape[0] != actions.shape[0] or states.shape[1] not in (horizon, horizon + 1):
        raise ValueError(
            f"states must have shape [{actions.shape[0]}, {horizon + 1}], got {list(states.shape)}"
        )
    return cost[states[:, :horizon], actions].sum(-1)


def trajectory_log_likelihood(
    mdp: TabularMDP, cost: Tensor, states: Tensor, actions: Tensor
) -> Tensor:
    r"""Exact $\log p_\theta(\tau \mid x_0) = -c(\tau) - \log Z(x_0)$ under deterministic dynamics.

    Args:
        mdp: a deterministic problem.
        cost: shape [S, A].
        states: integer, shape [N, T+1]; must follow `mdp.next_state`.
        actions: integer, shape [N, T].

    Returns:
        shape [N], differentiable with respect to `cost`.

    Raises:
        ValueError: for a `StochasticTabularMDP`, bad shapes, out-of-range indices or states that
            do not follow the dynamics.
    """
    mdp = _require_deterministic(mdp, "trajectory_log_likelihood")
    cost = _check_cost(mdp, cost)
    states, actions = _check_trajectories(mdp, states, actions)
    return -trajectory_cost(cost, states, actions) - log_partition(mdp, cost)[states[:, 0]]


def policy_log_prob(policy: Tensor, states: Tensor, actions: Tensor) -> Tensor:
    r"""$\sum_t \log \pi_t(u_t \mid x_t)$ for each trajectory.

    Args:
        policy: shape [T, S, A], rows summing to 1.
        states: integer, shape [N, T+1] (or [N, T]).
        actions: integer, shape [N, T].

    Returns:
        shape [N]; `-inf` where a trajectory takes an action of probability zero.
    """
    policy = torch.as_tensor(policy)
    if policy.ndim != 3 or not policy.is_floating_point():
        raise ValueError(f"policy must be a floating tensor of shape [T, S, A], got {policy.shape}")
    _check_policy_rows(policy, "policy")
    horizon, num_states, num_actions = policy.shape
    states = _check_index_tensor(states, "states", 2)
    actions = _check_index_tensor(actions, "actions", 2)
    if actions.shape[1] != horizon:
        raise ValueError(f"actions must have shape [N, {horizon}], got {list(actions.shape)}")
    if states.shape[0] != actions.shape[0] or states.shape[1] not in (horizon, horizon + 1):
        raise ValueError(
            f"states must have shape [{actions.shape[0]}, {horizon + 1}], got {list(states.shape)}"
        )
    if (states < 0).any() or (states >= num_states).any():
        raise ValueError(f"states must lie in [0, {num_states})")
    if (actions < 0).any() or (actions >= num_actions).any():
        raise ValueError(f"actions must lie in [0, {num_actions})")
    steps = torch.arange(horizon)
    return torch.log(policy[steps, states[:, :horizon], actions]).sum(-1)


def state_action_visitation(mdp: AnyMDP, policy: Tensor, initial: Tensor | None = None) -> Tensor:
    r"""Expected state-action visitation $D_t(s, a) = \Pr(x_t = s, u_t = a)$ under a policy.

    Args:
        mdp: the problem (deterministic or stochastic dynamics).
        policy: shape [T, S, A], a time-dependent policy.
        initial: optional start-state distribution, shape [S]; `mdp.initial` when None.

    Returns:
        shape [T, S, A], in the policy's dtype; each `D[t]` sums to 1, and `D.sum(0)` are the
        expected counts per trajectory.
    """
    _check_mdp(mdp)
    policy = _check_policy(mdp, policy)
    state = _initial_or_default(mdp, initial, policy.dtype)
    if isinstance(mdp, StochasticTabularMDP):
        transition = mdp.transition.to(policy.dtype)
    visits = []
    for t in range(mdp.horizon):
        joint = state[:, None] * policy[t]
        visits.append(joint)
        if isinstance(mdp, TabularMDP):
            state = torch.zeros_like(state).index_add(
                0, mdp.next_state.reshape(-1), joint.reshape(-1)
            )
        else:
            state = torch.einsum("sa,sap->p", joint, transition)
    return torch.stack(visits)


def exact_kl(
    mdp: AnyMDP, policy_p: Tensor, policy_q: Tensor, initial: Tensor | None = None
) -> Tensor:
    r"""Exact KL divergence between the trajectory distributions of two policies, in nats.

    Both trajectory distributions share the initial distribution and the dynamics, which cancel:
    $\mathrm{KL}(p \,\|\, q) = \sum_t \sum_{s, a} D^p_t(s, a)\,
    [\log \pi^p_t(a \mid s) - \log \pi^q_t(a \mid s)]$ with $D^p$ the visitation of `policy_p`.

    Args:
        mdp: the problem.
        policy_p: shape [T, S, A].
        policy_q: shape [T, S, A].
        initial: optional start-state distribution, shape [S].

    Returns:
        A 0-d tensor, KL per trajectory; `inf` when q gives zero probability to a step p takes.
    """
    policy_p = _check_policy(mdp, policy_p, "policy_p")
    policy_q = _check_policy(mdp, policy_q, "policy_q")
    visits = state_action_visitation(mdp, policy_p, initial)
    log_ratio = torch.log(policy_p) - torch.log(policy_q)
    terms = torch.where(visits > 0, visits * log_ratio, torch.zeros_like(visits))
    return terms.sum()


def sample_trajectories(
    mdp: AnyMDP,
    policy: Tensor,
    n: int,
    generator: torch.Generator,
    initial: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Samples trajectories from a time-dependent policy.

    Args:
        mdp: the problem; stochastic transitions are sampled too.
        policy: shape [T, S, A].
        n: number of trajectories, at least 1.
        generator: the source of randomness (pass a seeded `torch.Generator`).
        initial: optional start-state distribution, shape [S]; `mdp.initial` when None.

    Returns:
        `(states, actions)`: int64 tensors of shapes [n, T+1] and [n, T].
    """
    _check_mdp(mdp)
    policy = _check_policy(mdp, policy).to(torch.float64)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator)!r}")
    start = mdp.initial if initial is None else _check_distribution(initial, mdp.num_states)
    states = torch.empty(n, mdp.horizon + 1, dtype=torch.int64)
    actions = torch.empty(n, mdp.horizon, dtype=torch.int64)
    states[:, 0] = torch.multinomial(start, n, replacement=True, generator=generator)
    for t in range(mdp.horizon):
        here = states[:, t]
        actions[:, t] = torch.multinomial(policy[t, here], 1, generator=generator)[:, 0]
        if isinstance(mdp, TabularMDP):
            states[:, t + 1] = mdp.next_state[here, actions[:, t]]
        else:
            rows = mdp.transition[here, actions[:, t]]
            states[:, t + 1] = torch.multinomial(rows, 1, generator=generator)[:, 0]
    return states, actions
