"""Section 4's identities, checked with exact quadrature on 1-D and 2-D energies.

* Where the sampler q equals the model p_θ = exp(-E)/Z exactly, the discriminator's optimal
  log Z (`irlgan.losses.optimal_log_z`) equals the quadrature log Z.
* In general the optimal log Z is the fixed point of the importance-sampling estimate
  `importance_log_z`, and it equals the true log Z only when the model matches the data.
"""

from __future__ import annotations

import math

import pytest
import torch

from irlgan import losses
from irlgan.density import (
    EnergyMLP,
    FlowSampler,
    data_log_prob,
    grid,
    importance_log_z_with_ess,
    quadrature_log_z,
    quadrature_report,
)

torch.set_default_dtype(torch.float32)


def _line(lo: float, hi: float, n: int) -> tuple[torch.Tensor, float]:
    h = (hi - lo) / n
    return lo + (torch.arange(n, dtype=torch.float64) + 0.5) * h, h


def _double_well(x: torch.Tensor) -> torch.Tensor:
    return x**4 / 4 - x**2 + 0.3 * x


def test_1d_optimal_log_z_equals_quadrature_when_q_is_the_model():
    x, h = _line(-6, 6, 20_000)
    energy = _double_well(x)
    log_z_quad = float(torch.logsumexp(-energy, 0) + math.log(h))
    log_q = -energy - log_z_quad  # q = p_θ exactly
    weights = torch.exp(log_q) * h  # exact expectations over the quadrature support
    b = losses.optimal_log_z(energy, log_q, energy, log_q, weight_data=weights,
                             weight_gen=weights)
    assert float(b) == pytest.approx(log_z_quad, abs=1e-10)
    # A different sampler (q ≠ p_θ) with data = p_θ: the optimum is still log Z (the data
    # matches the model), a non-trivial check of the root finder on a non-constant logit.
    log_q2 = -0.5 * x**2 / 4
    log_q2 = log_q2 - torch.logsumexp(log_q2, 0) - math.log(h)  # normalised on the support
    w2 = torch.exp(log_q2) * h
    b2 = losses.optimal_log_z(energy, log_q2, energy, log_q2, weight_data=weights,
                              weight_gen=w2)
    assert float(b2) == pytest.approx(log_z_quad, abs=1e-8)


def test_1d_sampled_optimal_log_z_is_consistent():
    # The same identity from samples: the estimate is within a few standard errors of log Z.
    g = torch.Generator().manual_seed(0)
    x, h = _line(-6, 6, 20_000)
    log_z_quad = float(torch.logsumexp(-_double_well(x), 0) + math.log(h))
    probs = torch.exp(-_double_well(x) - log_z_quad) * h
    idx_p = torch.multinomial(probs, 20_000, replacement=True, generator=g)
    q_std = 2.0
    xq = torch.randn(20_000, generator=g, dtype=torch.float64) * q_std
    xp = x[idx_p]

    def log_q(v):
        return -0.5 * v**2 / q_std**2 - 0.5 * math.log(2 * math.pi * q_std**2)

    b = losses.optimal_log_z(_double_well(xp), log_q(xp), _double_well(xq), log_q(xq))
    assert float(b) == pytest.approx(log_z_quad, abs=0.05)


def test_2d_optimal_log_z_equals_quadrature_for_an_mlp_energy():
    with torch.random.fork_rng():
        torch.manual_seed(1)
        energy_fn = EnergyMLP(hidden=(16, 16), confine=0.5)
    points, area = grid(7.0, 300)
    with torch.no_grad():
        energy = energy_fn(points).double()
    log_z_quad = quadrature_log_z(energy_fn, box=7.0, resolution=300)
    assert log_z_quad == pytest.approx(float(torch.logsumexp(-energy, 0)) + math.log(area),
                                       abs=1e-9)
    log_q = -energy - log_z_quad
    weights = torch.exp(log_q)
    b = losses.optimal_log_z(energy, log_q, energy, log_q, weight_data=weights,
                             weight_gen=weights)
    assert float(b) == pytest.approx(log_z_quad, abs=1e-9)


def test_2d_flow_as_energy_optimal_log_z_and_quadrature_agree():
    # E = -log q_flow + c makes p_θ = q exactly with log Z = -c: the discriminator's optimum,
    # the quadrature and importance sampling (with the flow as proposal, ESS = 1) all give -c.
    with torch.random.fork_rng():
        torch.manual_seed(2)
        flow = FlowSampler(transforms=2, hidden=(16,), bins=4)
    c = 0.7

    def energy(x):
        return -flow.flow_log_prob(x) + c

    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        x_data, lq_data = flow.rsample_and_log_prob(4000, g)
        x_gen, lq_gen = flow.rsample_and_log_prob(4000, g)
        b = losses.optimal_log_z(energy(x_data), lq_data, energy(x_gen), lq_gen)
        log_z_is, ess = importance_log_z_with_ess(energy, x_gen, lq_gen)
    assert float(b) == pytest.approx(-c, abs=1e-5)
    assert log_z_is == pytest.approx(-c, abs=1e-5)
    assert ess == pytest.approx(1.0, abs=1e-6)
    report = quadrature_report(energy, box=8.0, resolution=300)
    assert report["log_z"] == pytest.approx(-c, abs=2e-3)
    assert report["resolution_error"] < 2e-3 and report["box_error"] < 2e-3


@pytest.mark.parametrize("model_std", [1.0, 0.6, 1.6])
def test_optimal_log_z_is_the_importance_sampling_fixed_point(model_std):
    # Data N(0, 1); model E = x²/(2 s²), whose true log Z = log(√(2π) s); sampler N(0.5, 1.5²).
    x, h = _line(-12, 12, 24_000)
    log_p = -0.5 * x**2 - 0.5 * math.log(2 * math.pi)
    energy = 0.5 * x**2 / model_std**2
    log_q = -0.5 * (x - 0.5) ** 2 / 1.5**2 - 0.5 * math.log(2 * math.pi * 1.5**2)
    w_data, w_gen = torch.exp(log_p) * h, torch.exp(log_q) * h
    b = losses.optimal_log_z(energy, log_q, energy, log_q, weight_data=w_data, weight_gen=w_gen)
    fixed = losses.importance_log_z(energy, log_q, energy, log_q, b, weight_data=w_data,
                                    weight_gen=w_gen)
    assert float(fixed) == pytest.approx(float(b), abs=1e-10)
    true_log_z = 0.5 * math.log(2 * math.pi) + math.log(model_std)
    if model_std == 1.0:
        assert float(b) == pytest.approx(true_log_z, abs=1e-9)
    else:
        # Model ≠ data: the fixed point misses the true log Z by far more than the 1e-9 above.
        assert abs(float(b) - true_log_z) > 0.01


@pytest.mark.parametrize("model_std", [0.6, 1.6])
def test_optimal_log_z_is_exact_for_any_data_when_the_sampler_is_the_model(model_std):
    # ebm/sampler-equals-model: with q = p_θ every logit is 0, so log Z_θ is the discriminator's
    # optimum however far the data (N(0, 1)) is from the model (N(0, s²)).
    x, h = _line(-12, 12, 24_000)
    log_p = -0.5 * x**2 - 0.5 * math.log(2 * math.pi)
    energy = 0.5 * x**2 / model_std**2
    true_log_z = 0.5 * math.log(2 * math.pi) + math.log(model_std)
    log_q = -energy - true_log_z
    b = losses.optimal_log_z(energy, log_q, energy, log_q, weight_data=torch.exp(log_p) * h,
                             weight_gen=torch.exp(log_q) * h)
    assert float(b) == pytest.approx(true_log_z, abs=1e-9)


def _grid_problem(data: str = "8gaussians", resolution: int = 60):
    """A random MLP energy and a dataset's density, both discretised on one grid (float64)."""
    points, _ = grid(5.0, resolution, torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        energy = EnergyMLP((16, 16)).double()
    log_p = data_log_prob(data, points).double()
    p = torch.softmax(log_p, 0)  # the data's cell probabilities
    return points, energy, p


def _energy_gradients(points, energy, p, log_q, q, log_z):
    """(∂L_disc/∂θ, ∂NLL/∂θ) over the energy's parameters on the grid support."""
    params = list(energy.parameters())
    e = energy(points)
    disc = losses.discriminator_loss(e, log_q, e, log_q, log_z, weight_data=p, weight_gen=q)
    g_disc = torch.autograd.grad(disc, params, retain_graph=True)
    nll = (p * e).sum() + torch.logsumexp(-e, 0)
    g_nll = torch.autograd.grad(nll, params)
    return torch.cat([g.flatten() for g in g_disc]), torch.cat([g.flatten() for g in g_nll])


def test_energy_step_is_half_a_likelihood_step_when_the_sampler_is_the_model():
    # ebm/matched-sampler-likelihood: with q = p_θ and log Z = log Z_θ the discriminator's
    # θ-gradient is half the NLL gradient, for data the model cannot represent (8gaussians vs
    # a small random MLP); a fixed noise (the data's moment-matched Gaussian) gives another one.
    points, energy, p = _grid_problem()
    with torch.no_grad():
        e = energy(points)
        log_z = torch.logsumexp(-e, 0)
        log_model = -e - log_z
    g_disc, g_nll = _energy_gradients(points, energy, p, log_model, log_model.exp(), log_z)
    assert g_nll.norm() > 1e-2  # the model is far from the data: a real gradient
    torch.testing.assert_close(g_disc, 0.5 * g_nll, rtol=1e-10, atol=1e-12)

    mean = (p[:, None] * points).sum(0)
    cov = ((p[:, None] * (points - mean)).T @ (points - mean))
    log_gauss = torch.distributions.MultivariateNormal(mean, cov).log_prob(points)
    log_gauss = log_gauss - torch.logsumexp(log_gauss, 0)  # the Gaussian's cell probabilities
    g_fixed, _ = _energy_gradients(points, energy, p, log_gauss, log_gauss.exp(), log_z)
    cosine = torch.dot(g_fixed, g_nll) / (g_fixed.norm() * g_nll.norm())
    assert (g_fixed - 0.5 * g_nll).norm() > 0.05 * g_nll.norm() and cosine < 0.999


def test_energy_gradient_per_point_is_the_q_weighted_likelihood_gradient():
    # ebm/weighted-gradient: ∂L_disc/∂E_i = q_i/(p_θ,i + q_i) · (p_i − p_θ,i) for any q and Z.
    points, energy, p = _grid_problem("rings", 40)
    g = torch.Generator().manual_seed(5)
    q = torch.softmax(torch.randn(points.shape[0], generator=g, dtype=torch.float64), 0)
    log_z = torch.tensor(0.7, dtype=torch.float64)
    with torch.no_grad():
        e0 = energy(points)
    e = e0.clone().requires_grad_(True)
    loss = losses.discriminator_loss(e, q.log(), e, q.log(), log_z, weight_data=p, weight_gen=q)
    (grad,) = torch.autograd.grad(loss, e)
    model = torch.exp(-e0 - log_z)
    torch.testing.assert_close(grad, q / (model + q) * (p - model), rtol=1e-10, atol=1e-15)
