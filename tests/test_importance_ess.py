"""`irlgan.losses.importance_ess`: the effective sample size of the weights a cost gradient puts
on the batch, checked against those weights read off autograd, and at its two ends."""

from __future__ import annotations

import math

import pytest
import torch

from irlgan import losses


def _batch(seed: int, n: int = 7, m: int = 9, spread: float = 3.0):
    g = torch.Generator().manual_seed(seed)
    return (spread * torch.randn(n, generator=g, dtype=torch.float64),
            spread * torch.randn(n, generator=g, dtype=torch.float64),
            spread * torch.randn(m, generator=g, dtype=torch.float64),
            spread * torch.randn(m, generator=g, dtype=torch.float64))


def _kish(weights: torch.Tensor) -> float:
    return float(weights.sum() ** 2 / (weights ** 2).sum())


def test_equals_the_kish_size_of_gcls_gradient_weights_for_any_scalar_log_z() -> None:
    for seed in range(5):
        c_d, lq_d, c_g, lq_g = _batch(seed)
        for log_z in (torch.tensor(0.3, dtype=torch.float64),
                      losses.optimal_log_z(c_d, lq_d, c_g, lq_g)):
            c_d_, c_g_ = c_d.clone().requires_grad_(), c_g.clone().requires_grad_()
            losses.cost_loss(c_d_, lq_d, c_g_, lq_g, log_z.detach()).backward()
            # d/dc of E_p[c] + log Z-hat: 1/N - w_i on the data, -w_j on the samples
            weights = torch.cat([1 / len(c_d) - c_d_.grad, -c_g_.grad])
            assert abs(float(weights.sum()) - 1) < 1e-12  # self-normalised
            ess = losses.importance_ess(c_d, lq_d, c_g, lq_g, log_z)
            assert abs(float(ess) - _kish(weights)) < 1e-9 * _kish(weights)


def test_equals_the_kish_size_of_gan_gcls_gradient_weights_with_a_log_z_per_sample() -> None:
    for seed in range(5):
        c_d, lq_d, c_g, lq_g = _batch(seed)
        g = torch.Generator().manual_seed(100 + seed)
        lz = (torch.randn(len(c_d), generator=g, dtype=torch.float64),
              torch.randn(len(c_g), generator=g, dtype=torch.float64))
        c_d_, c_g_ = c_d.clone().requires_grad_(), c_g.clone().requires_grad_()
        losses.discriminator_loss(c_d_, lq_d, c_g_, lq_g, lz).backward()
        # d/dc of the cross-entropy: (1 - D_i)/N on the data, -D_j/M on the samples; the push
        # up is D_i/N and D_j/M, the same weights up to the factor 1/2 of the mixture
        weights = torch.cat([1 / len(c_d) - c_d_.grad, -c_g_.grad])
        ess = losses.importance_ess(c_d, lq_d, c_g, lq_g, lz)
        assert abs(float(ess) - _kish(weights)) < 1e-9 * _kish(weights)
        ess_gen = losses.importance_ess(c_d, lq_d, c_g, lq_g, lz, part="gen")
        assert abs(float(ess_gen) - _kish(-c_g_.grad)) < 1e-9 * _kish(-c_g_.grad)


def test_its_two_ends() -> None:
    n, m = 6, 10
    g = torch.Generator().manual_seed(0)
    c_d = torch.randn(n, generator=g, dtype=torch.float64)
    c_g = torch.randn(m, generator=g, dtype=torch.float64)
    log_z = torch.tensor(1.7, dtype=torch.float64)
    # q = e^{-c}/Z everywhere: every D is 1/2 and only the batch weights remain
    ess = losses.importance_ess(c_d, -c_d - log_z, c_g, -c_g - log_z, log_z)
    expected = 1 / (n * (1 / (2 * n)) ** 2 + m * (1 / (2 * m)) ** 2)  # 4nm/(n+m)
    assert abs(float(ess) - expected) < 1e-12 and abs(expected - 4 * n * m / (n + m)) < 1e-12
    # one trajectory far more likely under the model than under q: it carries everything
    lq_g = torch.zeros(m, dtype=torch.float64)
    lq_g[3] = -800.0
    ess = losses.importance_ess(torch.full((n,), 50.0, dtype=torch.float64),
                                torch.zeros(n, dtype=torch.float64),
                                torch.full((m,), 50.0, dtype=torch.float64), lq_g,
                                torch.tensor(0.0, dtype=torch.float64))
    assert abs(float(ess) - 1) < 1e-9
    assert math.isfinite(float(ess))
    # the demonstrations' weights dominate a separated batch; the samples alone are counted apart
    lq_d = torch.full((n,), -100.0, dtype=torch.float64)  # D = 1 on every demonstration
    both = (torch.zeros(n, dtype=torch.float64), lq_d, torch.zeros(m, dtype=torch.float64),
            torch.linspace(0.0, 9.0, m, dtype=torch.float64), torch.tensor(0.0))
    g_w = torch.sigmoid(-both[3])  # D_j = sigma(-log q_j) with c = log Z = 0
    assert abs(float(losses.importance_ess(*both, part="gen")) - _kish(g_w)) < 1e-9
    assert float(losses.importance_ess(*both)) > n - 0.5 > float(
        losses.importance_ess(*both, part="gen"))
    with pytest.raises(ValueError, match="part must be"):
        losses.importance_ess(*both, part="data")
