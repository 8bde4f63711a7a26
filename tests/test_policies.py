"""Gaussian and tanh-Gaussian policies: exact log-densities against torch.distributions, autograd
Jacobians and quadrature; sampling; the masked trajectory log-density."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Independent, Normal

from irlgan.models import GaussianPolicy, TanhGaussianPolicy, trajectory_log_prob


def _gaussian(seed: int = 0) -> GaussianPolicy:
    generator = torch.Generator().manual_seed(seed)
    policy = GaussianPolicy(3, 2, hidden=(8,), log_std_init=-0.3, generator=generator).double()
    with torch.no_grad():  # a non-trivial mean and unequal scales
        policy.mean_net[-1].weight.normal_(generator=generator)
        policy.log_std.copy_(torch.tensor([-0.5, 0.4]))
    return policy


def _tanh(seed: int = 0) -> TanhGaussianPolicy:
    generator = torch.Generator().manual_seed(seed)
    policy = TanhGaussianPolicy(3, 2, [-2.0, 0.5], [2.0, 3.0], hidden=(8,), generator=generator)
    policy = policy.double()
    with torch.no_grad():
        policy.mean_net[-1].weight.normal_(generator=generator)
        policy.log_std.copy_(torch.tensor([-0.2, 0.3]))
    return policy


def _obs(count: int = 7, seed: int = 1) -> torch.Tensor:
    return torch.randn(count, 3, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def test_gaussian_log_prob_matches_torch_distributions():
    policy, obs = _gaussian(), _obs()
    act = torch.randn(7, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    mean = policy.mean_net(obs)
    reference = Independent(Normal(mean, policy.log_std.exp().expand_as(mean)), 1).log_prob(act)
    torch.testing.assert_close(policy.log_prob(obs, act), reference, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(policy.distribution(obs).log_prob(act), reference)


def test_tanh_log_prob_matches_transformed_distribution():
    policy, obs = _tanh(), _obs()
    act, _ = policy.sample(obs, generator=torch.Generator().manual_seed(3))
    reference = policy.distribution(obs).log_prob(act)
    torch.testing.assert_close(policy.log_prob(obs, act), reference, rtol=1e-9, atol=1e-9)


def test_tanh_log_prob_matches_autograd_jacobian():
    """log pi(u) = log N(z) - log|det du/dz| with the Jacobian of the squashing map by autograd."""
    policy, obs = _tanh(), _obs(count=4)
    mean = policy.mean_net(obs).detach()
    std = policy.log_std.exp().detach()
    z = mean + std * torch.randn(4, 2, generator=torch.Generator().manual_seed(4),
                                 dtype=torch.float64)
    low = torch.tensor([-2.0, 0.5], dtype=torch.float64)
    high = torch.tensor([2.0, 3.0], dtype=torch.float64)

    def squash(v: torch.Tensor) -> torch.Tensor:
        return low + (high - low) * (torch.tanh(v) + 1) / 2

    for row in range(4):
        jacobian = torch.autograd.functional.jacobian(squash, z[row])
        log_det = torch.linalg.slogdet(jacobian).logabsdet
        gaussian = Independent(Normal(mean[row], std), 1).log_prob(z[row])
        expected = gaussian - log_det
        got = policy.log_prob(obs[row:row + 1], squash(z[row]).unsqueeze(0))[0]
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", ["gaussian", "tanh"])
def test_sample_returns_the_exact_log_prob_of_its_action(kind):
    policy = _gaussian() if kind == "gaussian" else _tanh()
    obs = _obs(count=50)
    act, log_prob = policy.sample(obs, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(log_prob, policy.log_prob(obs, act), rtol=1e-8, atol=1e-8)
    again, _ = policy.sample(obs, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(act, again, rtol=0, atol=0)


def test_tanh_actions_and_mode_stay_in_the_box():
    policy = _tanh()
    obs = 50 * _obs(count=500)  # large inputs push the mean far out
    act, log_prob = policy.sample(obs, generator=torch.Generator().manual_seed(6))
    mode = policy.mode(obs)
    for values in (act, mode):
        assert (values[:, 0] >= -2).all() and (values[:, 0] <= 2).all()
        assert (values[:, 1] >= 0.5).all() and (values[:, 1] <= 3).all()
    assert torch.isfinite(log_prob).all()
    assert torch.isfinite(policy.log_prob(obs, act)).all()


def test_tanh_density_integrates_to_one_on_the_box():
    """Quadrature of exp(log pi) over [low, high] in one dimension (midpoint rule)."""
    policy = TanhGaussianPolicy(1, 1, -2.0, 3.0, hidden=(4,)).double()
    with torch.no_grad():
        policy.mean_net[-1].bias.fill_(0.7)
        policy.log_std.fill_(-0.4)
    edges = torch.linspace(-2.0, 3.0, 200_001, dtype=torch.float64)
    mids = (edges[1:] + edges[:-1]) / 2
    obs = torch.zeros(mids.shape[0], 1, dtype=torch.float64)
    density = policy.log_prob(obs, mids[:, None]).exp()
    total = float((density.detach() * (edges[1] - edges[0])).sum())
    assert abs(total - 1.0) < 1e-6


def test_gaussian_mode_is_the_mean_and_entropy_bounds():
    policy = _gaussian()
    obs = _obs()
    torch.testing.assert_close(policy.mode(obs), policy.mean_net(obs))
    assert policy.entropy_bound() == math.inf
    assert _tanh().entropy_bound() == pytest.approx(math.log(4.0) + math.log(2.5))


def test_trajectory_log_prob_sums_masked_steps():
    policy = _tanh()
    generator = torch.Generator().manual_seed(7)
    obs = torch.randn(3, 5, 3, generator=generator, dtype=torch.float64)
    act, _ = policy.sample(obs[:, :4].reshape(12, 3), generator=generator)
    act = act.reshape(3, 4, 2)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    act_padded = act.clone()
    act_padded[~mask] = float("nan")  # padding must not leak into the sums
    got = trajectory_log_prob(policy, obs, act_padded, mask)
    for row in range(3):
        length = int(mask[row].sum())
        expected = policy.log_prob(obs[row, :length], act[row, :length]).sum()
        torch.testing.assert_close(got[row], expected)
    full = trajectory_log_prob(policy, obs[:, :4], act)
    torch.testing.assert_close(full, policy.log_prob(obs[:, :4].reshape(12, 3),
                                                     act.reshape(12, 2)).reshape(3, 4).sum(-1))


def test_bad_input_is_rejected_with_clear_errors():
    policy = _tanh()
    with pytest.raises(ValueError, match="obs"):
        policy.log_prob(torch.zeros(2, 4, dtype=torch.float64), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="act"):
        policy.log_prob(_obs(2), torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="action_high > action_low"):
        TanhGaussianPolicy(2, 1, 1.0, 1.0)
    with pytest.raises(ValueError, match="entries"):
        TanhGaussianPolicy(2, 2, [0.0, 0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="positive"):
        GaussianPolicy(0, 1)
    with pytest.raises(ValueError, match="mask"):
        trajectory_log_prob(policy, torch.zeros(2, 3, 3, dtype=torch.float64),
                            torch.zeros(2, 3, 2, dtype=torch.float64), torch.ones(2, 2))
