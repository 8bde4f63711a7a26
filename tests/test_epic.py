"""EPIC (Gleave et al., ICLR 2021): the exact tabular distance against its definition written out
by loops, its invariances, and the sampled estimator against the exact value."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from irlgan.epic import canonicalise_tabular, epic_sampled, epic_tabular, pearson_distance

S, A, GAMMA = 4, 3, 0.9


def random_reward(seed: int) -> torch.Tensor:
    return torch.randn(S, A, S, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def test_the_canonical_reward_is_its_definition_by_loops() -> None:
    reward = random_reward(0)
    rng = np.random.default_rng(1)
    d_s, d_a = rng.dirichlet(np.ones(S)), rng.dirichlet(np.ones(A))
    got = canonicalise_tabular(reward, GAMMA, torch.tensor(d_s), torch.tensor(d_a)).numpy()
    r = reward.numpy()
    for s, a, t in itertools.product(range(S), range(A), range(S)):
        expected = r[s, a, t]
        for x, u, y in itertools.product(range(S), range(A), range(S)):
            p = d_s[x] * d_a[u] * d_s[y]  # S, A, S' independent
            expected += p * (GAMMA * r[t, u, y] - r[s, u, y] - GAMMA * r[x, u, y])
        assert got[s, a, t] == pytest.approx(expected, abs=1e-12)


def test_epic_ignores_shaping_and_scale_and_is_one_for_the_negation() -> None:
    reward = random_reward(2)
    potential = torch.randn(S, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    shaped = 2.5 * reward + GAMMA * potential[None, None, :] - potential[:, None, None]
    assert epic_tabular(reward, shaped, GAMMA) < 1e-7
    assert epic_tabular(reward, -reward, GAMMA) == pytest.approx(1.0, abs=1e-12)
    other = random_reward(4)
    d = epic_tabular(reward, other, GAMMA)
    a = canonicalise_tabular(reward, GAMMA).numpy().ravel()
    b = canonicalise_tabular(other, GAMMA).numpy().ravel()
    assert d == pytest.approx(math.sqrt((1 - np.corrcoef(a, b)[0, 1]) / 2), abs=1e-12)
    assert 0.3 < d < 0.9  # two unrelated rewards: neither equivalent nor opposite


def test_a_weighted_coverage_is_a_weighted_correlation() -> None:
    reward, other = random_reward(5), random_reward(6)
    weights = torch.rand(S, A, S, generator=torch.Generator().manual_seed(7),
                         dtype=torch.float64)
    a = canonicalise_tabular(reward, GAMMA).numpy().ravel()
    b = canonicalise_tabular(other, GAMMA).numpy().ravel()
    w = weights.numpy().ravel() / weights.sum().item()
    da, db = a - np.sum(w * a), b - np.sum(w * b)
    rho = np.sum(w * da * db) / math.sqrt(np.sum(w * da**2) * np.sum(w * db**2))
    got = epic_tabular(reward, other, GAMMA, coverage=weights)
    assert got == pytest.approx(math.sqrt((1 - rho) / 2), abs=1e-12)
    with pytest.raises(ValueError, match="constant"):
        pearson_distance(torch.ones(5), torch.arange(5.0))


def test_the_sampled_estimate_converges_to_the_exact_distance() -> None:
    """The tabular rewards as functions of one-hot states and actions, the distributions
    uniform. `other` is `reward` with a strong shaping term and some noise: EPIC is 0.205, while
    the Pearson distance of the raw rewards is 0.432, so an estimator that did not canonicalise
    would be far off. Measured error at these sample sizes over seeds 0-7: at most 0.008."""
    reward = random_reward(8)
    potential = 3 * torch.randn(S, generator=torch.Generator().manual_seed(10),
                                dtype=torch.float64)
    other = (reward + GAMMA * potential[None, None, :] - potential[:, None, None]
             + 0.5 * random_reward(9))
    exact = epic_tabular(reward, other, GAMMA)
    assert exact == pytest.approx(0.2046, abs=1e-4)
    assert pearson_distance(reward, other) > 0.4

    def as_function(table):
        def fn(obs, act, next_obs):
            return table[obs.argmax(1), act.argmax(1), next_obs.argmax(1)]
        return fn

    def states(n, g):
        return torch.nn.functional.one_hot(torch.randint(S, (n,), generator=g), S).double()

    def actions(n, g):
        return torch.nn.functional.one_hot(torch.randint(A, (n,), generator=g), A).double()

    def coverage(n, g):
        return states(n, g), actions(n, g), states(n, g)

    for seed in range(2):
        estimate = epic_sampled(as_function(reward), as_function(other), GAMMA,
                                sample_states=states, sample_actions=actions,
                                sample_coverage=coverage, n_mean=512, n_coverage=4096,
                                seed=seed)
        assert abs(estimate - exact) < 0.02, (seed, estimate, exact)


def test_the_sampled_estimate_is_zero_for_a_shaped_point_mass_reward() -> None:
    """With the same samples behind every expectation, shaping cancels exactly."""
    from irlgan.envs import point_mass_true_cost

    def true(obs, act, next_obs):
        return -point_mass_true_cost(obs, act)

    def shaped(obs, act, next_obs):
        return 3.0 * true(obs, act, next_obs) + GAMMA * next_obs.square().sum(1) - \
            obs.square().sum(1)

    def wrong(obs, act, next_obs):
        return -(obs - torch.tensor([-1.0, 1.0], dtype=obs.dtype)).square().sum(1)

    def states(n, g):
        return torch.rand(n, 2, generator=g, dtype=torch.float64) * 6 - 3

    def actions(n, g):
        return torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1

    def coverage(n, g):
        obs, act = states(n, g), actions(n, g)
        return obs, act, (obs + 0.2 * act).clamp(-3, 3)

    kwargs = dict(sample_states=states, sample_actions=actions, sample_coverage=coverage,
                  n_mean=256, n_coverage=2048)
    assert epic_sampled(true, shaped, GAMMA, **kwargs) < 1e-6
    assert epic_sampled(true, wrong, GAMMA, **kwargs) > 0.3
