"""Exact tabular machinery against brute-force enumeration (float64)."""

from __future__ import annotations

import pytest
import torch

from irlgan.tabular import (
    StochasticTabularMDP,
    TabularMDP,
    TabularProblem,
    brute_force_log_partition,
    enumerate_trajectories,
    exact_kl,
    log_partition,
    policy_log_prob,
    sample_trajectories,
    soft_value_iteration,
    state_action_visitation,
    trajectory_log_likelihood,
)

TOLERANCE = 1e-10


def random_mdp(seed: int) -> tuple[TabularMDP, torch.Tensor]:
    """A random deterministic MDP (S <= 6, A <= 3, T <= 5) with a random cost."""
    generator = torch.Generator().manual_seed(seed)
    num_states = int(torch.randint(1, 7, (), generator=generator))
    num_actions = int(torch.randint(1, 4, (), generator=generator))
    horizon = int(torch.randint(1, 6, (), generator=generator))
    next_state = torch.randint(0, num_states, (num_states, num_actions), generator=generator)
    weights = torch.rand(num_states, generator=generator, dtype=torch.float64)
    weights[torch.rand(num_states, generator=generator) < 0.3] = 0.0
    if weights.sum() == 0:
        weights[0] = 1.0
    cost = 3.0 * torch.randn(num_states, num_actions, generator=generator, dtype=torch.float64)
    return TabularMDP(next_state, weights / weights.sum(), horizon), cost


def random_policy(mdp: TabularMDP | StochasticTabularMDP, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    shape = (mdp.horizon, mdp.num_states, mdp.num_actions)
    logits = 2.0 * torch.randn(shape, generator=generator, dtype=torch.float64)
    return torch.softmax(logits, dim=-1)


def random_stochastic_mdp(seed: int) -> tuple[StochasticTabularMDP, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    num_states, num_actions, horizon = 3, 2, 3
    weights = torch.rand(num_states, num_actions, num_states, generator=generator).double()
    weights[torch.rand(weights.shape, generator=generator) < 0.4] = 0.0
    weights[..., 0] += 1e-3
    transition = weights / weights.sum(-1, keepdim=True)
    initial = torch.full((num_states,), 1.0 / num_states, dtype=torch.float64)
    cost = torch.randn(num_states, num_actions, generator=generator, dtype=torch.float64)
    return StochasticTabularMDP(transition, initial, horizon), cost


SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_values_and_policy_equal_brute_force(seed: int) -> None:
    mdp, cost = random_mdp(seed)
    value, q_table, policy = soft_value_iteration(mdp, cost)
    horizon = mdp.horizon
    assert value.shape == (horizon + 1, mdp.num_states)
    assert q_table.shape == policy.shape == (horizon, mdp.num_states, mdp.num_actions)
    assert torch.equal(value[horizon], torch.zeros(mdp.num_states, dtype=torch.float64))
    torch.testing.assert_close(
        log_partition(mdp, cost), brute_force_log_partition(mdp, cost), rtol=0, atol=TOLERANCE
    )
    for t in range(horizon):
        remaining = mdp.with_horizon(horizon - t)
        torch.testing.assert_close(
            value[t], brute_force_log_partition(remaining, cost), rtol=0, atol=TOLERANCE
        )
        for x0 in range(mdp.num_states):
            actions, states = enumerate_trajectories(remaining, x0)
            log_weight = -cost[states[:, :-1], actions].sum(-1)
            probability = torch.softmax(log_weight, dim=0)
            first_action = torch.zeros(mdp.num_actions, dtype=torch.float64)
            first_action.index_add_(0, actions[:, 0], probability)
            torch.testing.assert_close(policy[t, x0], first_action, rtol=0, atol=TOLERANCE)
    torch.testing.assert_close(
        policy.sum(-1), torch.ones(horizon, mdp.num_states, dtype=torch.float64)
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_trajectory_likelihoods_normalise_and_match_policy(seed: int) -> None:
    mdp, cost = random_mdp(seed)
    _, _, policy = soft_value_iteration(mdp, cost)
    for x0 in range(mdp.num_states):
        actions, states = enumerate_trajectories(mdp, x0)
        assert actions.shape == (mdp.num_actions**mdp.horizon, mdp.horizon)
        assert torch.equal(states[:, 0], torch.full_like(states[:, 0], x0))
        log_likelihood = trajectory_log_likelihood(mdp, cost, states, actions)
        assert abs(float(torch.logsumexp(log_likelihood, 0))) < TOLERANCE
        torch.testing.assert_close(
            log_likelihood, policy_log_prob(policy, states, actions), rtol=0, atol=TOLERANCE
        )


def _brute_force_visitation(mdp: TabularMDP, policy: torch.Tensor) -> torch.Tensor:
    visits = torch.zeros(mdp.horizon, mdp.num_states, mdp.num_actions, dtype=torch.float64)
    steps = torch.arange(mdp.horizon)
    for x0 in range(mdp.num_states):
        actions, states = enumerate_trajectories(mdp, x0)
        probability = mdp.initial[x0] * torch.exp(policy_log_prob(policy, states, actions))
        for index in range(actions.shape[0]):
            visits[steps, states[index, :-1], actions[index]] += probability[index]
    return visits


@pytest.mark.parametrize("seed", SEEDS)
def test_visitation_equals_brute_force(seed: int) -> None:
    mdp, cost = random_mdp(seed)
    for policy in (soft_value_iteration(mdp, cost)[2], random_policy(mdp, seed)):
        visits = state_action_visitation(mdp, policy)
        torch.testing.assert_close(
            visits, _brute_force_visitation(mdp, policy), rtol=0, atol=TOLERANCE
        )
        torch.testing.assert_close(visits.sum((1, 2)), torch.ones(mdp.horizon, dtype=torch.float64))


def test_visitation_with_given_start_distribution() -> None:
    mdp, cost = random_mdp(3)
    policy = random_policy(mdp, 0)
    start = torch.zeros(mdp.num_states, dtype=torch.float64)
    start[-1] = 1.0
    expected = _brute_force_visitation(mdp.with_initial(start), policy)
    torch.testing.assert_close(state_action_visitation(mdp, policy, start), expected)


@pytest.mark.parametrize("seed", range(20))
def test_exact_kl_matches_brute_force(seed: int) -> None:
    mdp, _ = random_mdp(seed)
    policy_p, policy_q = random_policy(mdp, 2 * seed), random_policy(mdp, 2 * seed + 1)
    assert abs(float(exact_kl(mdp, policy_p, policy_p))) < TOLERANCE
    expected = torch.zeros((), dtype=torch.float64)
    for x0 in range(mdp.num_states):
        actions, states = enumerate_trajectories(mdp, x0)
        log_p = policy_log_prob(policy_p, states, actions)
        log_q = policy_log_prob(policy_q, states, actions)
        expected = expected + mdp.initial[x0] * (torch.exp(log_p) * (log_p - log_q)).sum()
    kl = exact_kl(mdp, policy_p, policy_q)
    assert abs(float(kl - expected)) < TOLERANCE
    assert float(kl) >= 0.0


def test_exact_kl_is_infinite_off_support() -> None:
    mdp = TabularMDP(torch.tensor([[0, 0]]), torch.tensor([1.0], dtype=torch.float64), 1)
    policy_p = torch.tensor([[[0.5, 0.5]]], dtype=torch.float64)
    policy_q = torch.tensor([[[1.0, 0.0]]], dtype=torch.float64)
    assert torch.isinf(exact_kl(mdp, policy_p, policy_q))
    assert torch.isfinite(exact_kl(mdp, policy_q, policy_p))


def test_sampling_follows_dynamics_and_visitation() -> None:
    mdp, cost = random_mdp(7)
    _, _, policy = soft_value_iteration(mdp, cost)
    states, actions = sample_trajectories(mdp, policy, 20000, torch.Generator().manual_seed(0))
    assert states.dtype == actions.dtype == torch.int64
    assert torch.equal(mdp.next_state[states[:, :-1], actions], states[:, 1:])
    again = sample_trajectories(mdp, policy, 20000, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], states) and torch.equal(again[1], actions)
    empirical = torch.zeros(mdp.horizon, mdp.num_states, mdp.num_actions, dtype=torch.float64)
    steps = torch.arange(mdp.horizon).expand_as(actions)
    empirical.index_put_(
        (steps, states[:, :-1], actions), torch.ones((), dtype=torch.float64), accumulate=True
    )
    visits = state_action_visitation(mdp, policy)
    assert float((empirical / 20000 - visits).abs().max()) < 0.02


def test_log_partition_is_differentiable_and_gradient_is_visitation() -> None:
    mdp, cost = random_mdp(11)
    cost = cost.clone().requires_grad_(True)
    start = mdp.initial
    (gradient,) = torch.autograd.grad((start * log_partition(mdp, cost)).sum(), cost)
    _, _, policy = soft_value_iteration(mdp, cost.detach())
    torch.testing.assert_close(-gradient, state_action_visitation(mdp, policy).sum(0))


def test_float32_cost_gives_float32_results() -> None:
    mdp, cost = random_mdp(5)
    value, _, policy = soft_value_iteration(mdp, cost.float())
    assert value.dtype == policy.dtype == torch.float32
    torch.testing.assert_close(value[0].double(), log_partition(mdp, cost), rtol=1e-5, atol=1e-4)


# Stochastic dynamics: maximum causal entropy versus maximum joint entropy.


@pytest.mark.parametrize("seed", range(10))
def test_joint_log_partition_equals_brute_force(seed: int) -> None:
    mdp, cost = random_stochastic_mdp(seed)
    joint = log_partition(mdp, cost)
    torch.testing.assert_close(joint, brute_force_log_partition(mdp, cost), rtol=0, atol=1e-10)
    causal = soft_value_iteration(mdp, cost, kind="causal")[0][0]
    assert bool((causal <= joint + 1e-12).all())


@pytest.mark.parametrize("seed", range(10))
def test_causal_value_is_entropy_regularised_return_of_its_policy(seed: int) -> None:
    mdp, cost = random_stochastic_mdp(seed)
    value, _, policy = soft_value_iteration(mdp, cost, kind="causal")
    for x0 in range(mdp.num_states):
        start = torch.nn.functional.one_hot(torch.tensor(x0), mdp.num_states).double()
        visits = state_action_visitation(mdp, policy, start)
        soft_return = (visits * (-cost - torch.log(policy))).sum()
        assert abs(float(soft_return - value[0, x0])) < 1e-10


def test_causal_and_joint_differ_on_a_gamble() -> None:
    # State 0: action 0 is a coin flip between a cheap state 1 and an expensive state 2, action 1
    # goes to state 1 at a higher cost. The joint model "chooses" the coin's outcome.
    transition = torch.zeros(3, 2, 3, dtype=torch.float64)
    transition[0, 0, 1] = transition[0, 0, 2] = 0.5
    transition[0, 1, 1] = 1.0
    transition[1, :, 1] = 1.0
    transition[2, :, 2] = 1.0
    cost = torch.tensor([[0.0, 1.0], [0.0, 0.0], [5.0, 5.0]], dtype=torch.float64)
    initial = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    mdp = StochasticTabularMDP(transition, initial, 2)
    causal = soft_value_iteration(mdp, cost, kind="causal")[0][0, 0]
    joint = log_partition(mdp, cost)[0]
    log2 = torch.log(torch.tensor(2.0, dtype=torch.float64))
    v1, v2 = log2, -5.0 + log2  # one remaining step from states 1 and 2
    expected_causal = torch.logsumexp(torch.stack([0.5 * v1 + 0.5 * v2, -1.0 + v1]), 0)
    expected_joint = torch.log(0.5 * torch.exp(v1) + 0.5 * torch.exp(v2) + torch.exp(-1.0 + v1))
    torch.testing.assert_close(causal, expected_causal, rtol=0, atol=1e-12)
    torch.testing.assert_close(joint, expected_joint, rtol=0, atol=1e-12)
    assert float(joint - causal) > 0.3


@pytest.mark.parametrize("seed", range(10))
def test_causal_and_joint_agree_on_deterministic_dynamics(seed: int) -> None:
    mdp, cost = random_mdp(seed)
    stochastic = mdp.to_stochastic()
    reference = soft_value_iteration(mdp, cost)
    for kind in ("causal", "joint"):
        for mine, theirs in zip(
            soft_value_iteration(stochastic, cost, kind=kind), reference, strict=True
        ):
            torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-12)
    assert stochastic.is_deterministic
    assert torch.equal(stochastic.to_deterministic().next_state, mdp.next_state)


def test_deterministic_functions_refuse_stochastic_tables() -> None:
    mdp, cost = random_stochastic_mdp(0)
    states = torch.zeros(1, mdp.horizon + 1, dtype=torch.int64)
    actions = torch.zeros(1, mdp.horizon, dtype=torch.int64)
    with pytest.raises(ValueError, match="deterministic"):
        trajectory_log_likelihood(mdp, cost, states, actions)
    with pytest.raises(ValueError, match="deterministic"):
        enumerate_trajectories(mdp, 0)
    with pytest.raises(ValueError, match="stochastic"):
        mdp.to_deterministic()


# Validation.


def test_mdp_validates_its_arguments() -> None:
    initial = torch.tensor([0.5, 0.5], dtype=torch.float64)
    with pytest.raises(ValueError, match="next_state"):
        TabularMDP(torch.tensor([[0, 2], [1, 0]]), initial, 3)
    with pytest.raises(ValueError, match="next_state"):
        TabularMDP(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), initial, 3)
    with pytest.raises(ValueError, match="next_state"):
        TabularMDP(torch.tensor([0, 1]), initial, 3)
    with pytest.raises(ValueError, match="initial"):
        TabularMDP(torch.tensor([[0], [1]]), torch.tensor([0.5, 0.6], dtype=torch.float64), 3)
    with pytest.raises(ValueError, match="initial"):
        TabularMDP(torch.tensor([[0], [1]]), torch.tensor([1.5, -0.5], dtype=torch.float64), 3)
    with pytest.raises(ValueError, match="initial"):
        TabularMDP(torch.tensor([[0], [1]]), torch.tensor([1.0], dtype=torch.float64), 3)
    with pytest.raises(ValueError, match="horizon"):
        TabularMDP(torch.tensor([[0], [1]]), initial, 0)
    with pytest.raises(ValueError, match="horizon"):
        TabularMDP(torch.tensor([[0], [1]]), initial, 2.5)
    with pytest.raises(ValueError, match="transition"):
        StochasticTabularMDP(torch.full((2, 1, 2), 0.6, dtype=torch.float64), initial, 1)
    with pytest.raises(ValueError, match="transition"):
        StochasticTabularMDP(torch.ones(2, 1, 3, dtype=torch.float64) / 3, initial, 1)
    mdp = TabularMDP(torch.tensor([[0], [1]]), initial, 2)
    with pytest.raises(ValueError, match="cost"):
        log_partition(mdp, torch.zeros(2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="cost"):
        log_partition(mdp, torch.tensor([[float("nan")], [0.0]], dtype=torch.float64))
    with pytest.raises(ValueError, match="policy"):
        state_action_visitation(mdp, torch.full((2, 2, 1), 0.5, dtype=torch.float64))
    with pytest.raises(ValueError, match="kind"):
        soft_value_iteration(mdp, torch.zeros(2, 1, dtype=torch.float64), kind="optimistic")
    with pytest.raises(ValueError, match="cost"):
        TabularProblem(mdp, torch.zeros(3, 1, dtype=torch.float64))


def test_trajectory_checks() -> None:
    mdp, cost = random_mdp(1)
    _, _, policy = soft_value_iteration(mdp, cost)
    states, actions = sample_trajectories(mdp, policy, 5, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="states"):
        trajectory_log_likelihood(mdp, cost, states[:, :-1], actions)
    with pytest.raises(ValueError, match="actions"):
        trajectory_log_likelihood(mdp, cost, states, actions + mdp.num_actions)
    if mdp.num_states > 1:
        broken = states.clone()
        broken[0, -1] = (broken[0, -1] + 1) % mdp.num_states
        with pytest.raises(ValueError, match="dynamics"):
            trajectory_log_likelihood(mdp, cost, broken, actions)


def test_enumeration_refuses_large_problems() -> None:
    mdp = TabularMDP(
        torch.zeros(1, 4, dtype=torch.int64), torch.ones(1, dtype=torch.float64), horizon=12
    )
    with pytest.raises(ValueError, match="refusing to enumerate"):
        enumerate_trajectories(mdp, 0)
    with pytest.raises(ValueError, match="max_trajectories"):
        brute_force_log_partition(mdp, torch.zeros(1, 4, dtype=torch.float64))
    actions, _ = enumerate_trajectories(mdp.with_horizon(3), 0, max_trajectories=64)
    assert actions.shape == (64, 3)
