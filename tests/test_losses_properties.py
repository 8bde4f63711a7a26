"""Property tests of `irlgan.losses` on arbitrary batches (hypothesis), in float64."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irlgan import losses as L

F64 = torch.float64
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def vectors(n_min: int, n_max: int, bound: float) -> st.SearchStrategy:
    return st.lists(
        st.floats(-bound, bound, allow_nan=False, allow_infinity=False), min_size=n_min,
        max_size=n_max,
    )


@st.composite
def batches(draw, bound: float = 1e4, weighted: bool | None = None):
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 6))
    cd = torch.tensor(draw(vectors(n, n, bound)), dtype=F64)
    qd = torch.tensor(draw(vectors(n, n, bound)), dtype=F64)
    cg = torch.tensor(draw(vectors(m, m, bound)), dtype=F64)
    qg = torch.tensor(draw(vectors(m, m, bound)), dtype=F64)
    use_w = draw(st.booleans()) if weighted is None else weighted
    wd = wg = None
    if use_w:
        wd = torch.tensor(draw(vectors(n, n, 1.0)), dtype=F64).abs() + 0.01
        wg = torch.tensor(draw(vectors(m, m, 1.0)), dtype=F64).abs() + 0.01
    return cd, qd, cg, qg, wd, wg


def all_losses(cd, qd, cg, qg, lz, wd, wg):
    kw = dict(weight_data=wd, weight_gen=wg)
    return {
        "discriminator_loss": L.discriminator_loss(cd, qd, cg, qg, lz, **kw),
        "generator_loss": L.generator_loss(cg, qg, lz, weight_gen=wg),
        "sampler_loss": L.sampler_loss(cg, qg, weight_gen=wg),
        "importance_log_z": L.importance_log_z(cd, qd, cg, qg, lz, **kw),
        "cost_loss": L.cost_loss(cd, qd, cg, qg, lz, **kw),
    }


@SETTINGS
@given(batch=batches(), log_z=st.floats(-1e4, 1e4))
def test_finite_values_and_gradients_at_extreme_inputs(batch, log_z):
    cd, qd, cg, qg, wd, wg = batch
    inputs = [t.clone().requires_grad_() for t in (cd, qd, cg, qg)]
    lz = torch.tensor(log_z, dtype=F64, requires_grad=True)
    for name, value in all_losses(*inputs, lz, wd, wg).items():
        assert torch.isfinite(value), name
        grads = torch.autograd.grad(value, [*inputs, lz], allow_unused=True)
        for g in grads:
            assert g is None or bool(torch.isfinite(g).all()), name
    b = L.optimal_log_z(cd, qd, cg, qg, weight_data=wd, weight_gen=wg)
    assert torch.isfinite(b)
    logits = L.discriminator_logit(cd, qd, b)
    assert bool(torch.isfinite(logits).all())


@SETTINGS
@given(batch=batches(), log_z=st.floats(-1e4, 1e4))
def test_generator_loss_is_sampler_loss_plus_log_z(batch, log_z):
    """Identity (c): L_gen - L_sampler - log Z = 0 on any batch."""
    _, _, cg, qg, _, wg = batch
    diff = L.generator_loss(cg, qg, log_z, weight_gen=wg) - L.sampler_loss(cg, qg, weight_gen=wg)
    scale = 1.0 + cg.abs().max().item() + qg.abs().max().item() + abs(log_z)
    assert abs(diff.item() - log_z) <= 1e-14 * scale


def _cost_grads(loss_fn, theta, feats_data, feats_gen, qd, qg, log_z, wd, wg):
    theta = theta.clone().requires_grad_()
    value = loss_fn(feats_data @ theta, qd, feats_gen @ theta, qg, log_z, weight_data=wd,
                    weight_gen=wg)
    (g,) = torch.autograd.grad(value, theta)
    return g


@st.composite
def linear_cost_batches(draw, scales=(0.1, 1.0, 5.0, 20.0)):
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 8))
    k = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from(scales))
    gen = torch.Generator().manual_seed(seed)
    fd = torch.randn(n, k, generator=gen, dtype=F64)
    fg = torch.randn(m, k, generator=gen, dtype=F64)
    theta = scale * torch.randn(k, generator=gen, dtype=F64)
    qd = scale * torch.randn(n, generator=gen, dtype=F64)
    qg = scale * torch.randn(m, generator=gen, dtype=F64)
    wd = torch.rand(n, generator=gen, dtype=F64) + 0.05 if draw(st.booleans()) else None
    wg = torch.rand(m, generator=gen, dtype=F64) + 0.05 if draw(st.booleans()) else None
    return theta, fd, fg, qd, qg, wd, wg


@SETTINGS
@given(batch=linear_cost_batches())
def test_gradient_equivalence_at_optimal_log_z(batch):
    """Identity (b): at the optimal log Z the discriminator's θ-gradient is the GCL gradient."""
    theta, fd, fg, qd, qg, wd, wg = batch
    b = L.optimal_log_z(fd @ theta, qd, fg @ theta, qg, weight_data=wd, weight_gen=wg)
    g_disc = _cost_grads(L.discriminator_loss, theta, fd, fg, qd, qg, b, wd, wg)
    g_cost = _cost_grads(L.cost_loss, theta, fd, fg, qd, qg, b, wd, wg)
    err = (g_disc - g_cost).norm().item()
    assert err <= 1e-8 * max(g_disc.norm().item(), 1e-3), (err, g_disc, g_cost)


@SETTINGS
@given(batch=linear_cost_batches(), offset=st.floats(0.25, 3.0), sign=st.sampled_from([-1, 1]))
def test_gradient_gap_away_from_optimal_log_z_is_the_derived_term(batch, offset, sign):
    """Away from the optimum the two gradients differ by (Z/Ẑ - 1)·E_μ[2D ∇c] exactly."""
    theta, fd, fg, qd, qg, wd, wg = batch
    cd, cg = fd @ theta, fg @ theta
    b = L.optimal_log_z(cd, qd, cg, qg, weight_data=wd, weight_gen=wg) + sign * offset
    g_disc = _cost_grads(L.discriminator_loss, theta, fd, fg, qd, qg, b, wd, wg)
    g_cost = _cost_grads(L.cost_loss, theta, fd, fg, qd, qg, b, wd, wg)
    # The predicted difference, from the derivation: (Z/Ẑ - 1) * sum_i w_mu_i 2 D_i grad c_i.
    log_z_hat = L.importance_log_z(cd, qd, cg, qg, b, weight_data=wd, weight_gen=wg)
    wdn = torch.full_like(cd, 1 / len(cd)) if wd is None else wd / wd.sum()
    wgn = torch.full_like(cg, 1 / len(cg)) if wg is None else wg / wg.sum()
    d_data = torch.sigmoid(L.discriminator_logit(cd, qd, b))
    d_gen = torch.sigmoid(L.discriminator_logit(cg, qg, b))
    e_mu = (wdn * d_data) @ fd + (wgn * d_gen) @ fg
    predicted = (torch.exp(b - log_z_hat) - 1) * e_mu
    diff = g_disc - g_cost
    assert (diff - predicted).norm().item() <= 1e-9 * (1 + predicted.norm().item())


@st.composite
def overlapping_batches(draw):
    """Costs and log-densities in [-1, 1], so |a| = |-c - log q| <= 2 for every sample."""
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    unit = st.floats(-1.0, 1.0, allow_nan=False)
    return [torch.tensor(draw(st.lists(unit, min_size=k, max_size=k)), dtype=F64)
            for k in (n, n, m, m)]


@SETTINGS
@given(batch=overlapping_batches(), offset=st.floats(0.25, 3.0), sign=st.sampled_from([-1, 1]))
def test_gradient_equivalence_fails_measurably_away_from_optimal_log_z(batch, offset, sign):
    r"""Moving log Z off the optimum breaks (b) by a factor that is bounded away from zero.

    With |a| <= 2 the optimum lies within log 2 + 2 of zero, so for b at least 0.25 from it
    every D(1 - D) along the way is at least about e^{-7.7}, and
    |s(b) - 1| = |\int \sum_i \bar w_i D_i (1 - D_i) db| >= 0.5 e^{-7.7} > 2e-4, where
    s = E_p D + E_q D = Ẑ/Z. On each generated sample the cost gradients of the two losses
    differ by exactly the factor 1 - Z/Ẑ. (On nearly separable batches Ẑ(Z) ≈ Z over a wide
    range of Z, and no gap can show there.)
    """
    cd, qd, cg, qg = batch
    b = L.optimal_log_z(cd, qd, cg, qg) + sign * offset
    log_z_hat = L.importance_log_z(cd, qd, cg, qg, b)
    factor = -math.expm1(b.item() - log_z_hat.item())  # 1 - Z/Ẑ
    assert abs(factor) > 1e-4
    cd_, cg_ = cd.clone().requires_grad_(), cg.clone().requires_grad_()
    g_disc = torch.autograd.grad(L.discriminator_loss(cd_, qd, cg_, qg, b), cg_)[0]
    g_cost = torch.autograd.grad(L.cost_loss(cd_, qd, cg_, qg, b), cg_)[0]
    torch.testing.assert_close(g_disc - g_cost, g_disc * factor, rtol=1e-9, atol=1e-15)
    assert ((g_disc - g_cost).abs() > 1e-4 * g_disc.abs()).all()


@SETTINGS
@given(batch=batches(bound=60.0))
def test_optimal_log_z_is_the_stationary_point_and_the_importance_fixed_point(batch):
    cd, qd, cg, qg, wd, wg = batch
    b = L.optimal_log_z(cd, qd, cg, qg, weight_data=wd, weight_gen=wg)
    lz = b.clone().requires_grad_()
    loss = L.discriminator_loss(cd, qd, cg, qg, lz, weight_data=wd, weight_gen=wg)
    (dl,) = torch.autograd.grad(loss, lz)
    # dL/dlogZ = 1 - (E_p D + E_q D); both terms are at most 1.
    assert abs(dl.item()) <= 1e-13
    fixed = L.importance_log_z(cd, qd, cg, qg, b, weight_data=wd, weight_gen=wg)
    assert abs(fixed.item() - b.item()) <= 1e-13 * max(1.0, abs(b.item()))
    for h in (1e-3, 1.0):
        for s in (-1, 1):
            other = L.discriminator_loss(cd, qd, cg, qg, b + s * h, weight_data=wd, weight_gen=wg)
            assert other.item() >= loss.item() - 1e-15 * max(1.0, abs(loss.item()))


@pytest.mark.parametrize("reverse", [False, True])
def test_optimal_log_z_on_batches_separated_beyond_float64(reverse):
    """A discriminator that separates the batch by tens of nats (as a trajectory discriminator
    does) leaves E_p D and E_q (1 - D) within float64's rounding of 1 over a wide range of log Z;
    the minimiser is still unique, and in the tails of the sigmoid it has a closed form."""
    g = torch.Generator().manual_seed(3)
    a_d = 50.0 + 150.0 * torch.rand(40, generator=g, dtype=F64)  # a = -c - log q
    a_g = -25.0 - 500.0 * torch.rand(60, generator=g, dtype=F64)
    if reverse:  # the samples look far more like data than the data do
        a_d, a_g = -a_d, -a_g
    cd, qd = -a_d, torch.zeros_like(a_d)
    cg, qg = -a_g, torch.zeros_like(a_g)
    b = L.optimal_log_z(cd, qd, cg, qg).item()

    def lme(x):  # log of the mean of e^x
        return (torch.logsumexp(x, 0) - math.log(len(x))).item()

    # E_p[sigma(b - a)] = E_q[sigma(a - b)]; every sigma is in its tail (e^x up to e^{-20} or
    # better), and with it the root
    if reverse:
        closed = 0.5 * (lme(a_d) - lme(-a_g))
    else:
        closed = 0.5 * (lme(a_g) - lme(-a_d))
    assert abs(b - closed) < 1e-8
    if reverse:  # the loss is ~ the mean logit gap there, flat in log Z to float64's resolution
        return
    log_loss = math.log(L.discriminator_loss(cd, qd, cg, qg, b).item())
    for h in (-2.0, -0.1, 0.1, 2.0):  # the loss is convex in log Z and least at b
        assert math.log(L.discriminator_loss(cd, qd, cg, qg, b + h).item()) > log_loss


def test_optimal_log_z_on_a_case_where_fixed_point_iteration_crawls():
    """Near-separable batches make b <- log Ẑ(b) converge linearly with rate close to 1."""
    cd = torch.tensor([-30.0], dtype=F64)  # data: very low cost, very low sampler density
    qd = torch.tensor([-40.0], dtype=F64)
    cg = torch.tensor([30.0, 31.0], dtype=F64)
    qg = torch.tensor([0.0, -0.5], dtype=F64)
    b = L.optimal_log_z(cd, qd, cg, qg)
    lz = b.clone().requires_grad_()
    (dl,) = torch.autograd.grad(L.discriminator_loss(cd, qd, cg, qg, lz), lz)
    assert abs(dl.item()) < 1e-14
    # The fixed-point iteration from 0 is still far away after 1000 steps.
    x = torch.tensor(0.0, dtype=F64)
    for _ in range(1000):
        x = L.importance_log_z(cd, qd, cg, qg, x)
    assert abs(x.item() - b.item()) > 1e-3


def test_optimal_log_z_gradient_matches_finite_differences():
    gen = torch.Generator().manual_seed(3)
    cd, qd = torch.randn(4, generator=gen, dtype=F64), torch.randn(4, generator=gen, dtype=F64)
    cg, qg = torch.randn(5, generator=gen, dtype=F64), torch.randn(5, generator=gen, dtype=F64)
    inputs = [t.clone().requires_grad_() for t in (cd, qd, cg, qg)]
    grads = torch.autograd.grad(L.optimal_log_z(*inputs), inputs)
    h = 1e-6
    for which, g in enumerate(grads):
        for i in range(len(g)):
            plus = [t.clone() for t in (cd, qd, cg, qg)]
            minus = [t.clone() for t in (cd, qd, cg, qg)]
            plus[which][i] += h
            minus[which][i] -= h
            fd = (L.optimal_log_z(*plus) - L.optimal_log_z(*minus)).item() / (2 * h)
            assert g[i].item() == pytest.approx(fd, rel=1e-6, abs=1e-9)


@SETTINGS
@given(batch=batches(bound=30.0, weighted=False), log_z=st.floats(-30, 30),
       reps=st.lists(st.integers(0, 3), min_size=12, max_size=12))
def test_integer_weights_equal_repeated_samples(batch, log_z, reps):
    cd, qd, cg, qg, _, _ = batch
    rd = torch.tensor(reps[: len(cd)])
    rg = torch.tensor(reps[6: 6 + len(cg)])
    rd[0] += 1  # at least one positive weight per side
    rg[0] += 1
    weighted = all_losses(cd, qd, cg, qg, log_z, rd.to(F64), rg.to(F64))
    repeated = all_losses(
        cd.repeat_interleave(rd), qd.repeat_interleave(rd), cg.repeat_interleave(rg),
        qg.repeat_interleave(rg), log_z, None, None,
    )
    for name in weighted:
        assert weighted[name].item() == pytest.approx(repeated[name].item(), rel=1e-12, abs=1e-12)
    b_w = L.optimal_log_z(cd, qd, cg, qg, weight_data=rd.to(F64), weight_gen=rg.to(F64))
    b_r = L.optimal_log_z(cd.repeat_interleave(rd), qd.repeat_interleave(rd),
                          cg.repeat_interleave(rg), qg.repeat_interleave(rg))
    # The root is as well determined as the loss's curvature in log Z allows:
    # L''(b) = E_p[D(1-D)] + E_q[D(1-D)], so a rounding of 1e-16 in L' moves b by 1e-16 / L''.
    lz = b_r.clone().requires_grad_()
    (dl,) = torch.autograd.grad(
        L.discriminator_loss(cd, qd, cg, qg, lz, weight_data=rd.to(F64), weight_gen=rg.to(F64)),
        lz, create_graph=True,
    )
    (curvature,) = torch.autograd.grad(dl, lz)
    tol = 1e-12 * max(1.0, abs(b_r.item())) + 1e-15 / curvature.item()
    assert abs(b_w.item() - b_r.item()) <= tol


@SETTINGS
@given(batch=batches(bound=30.0), log_z=st.floats(-30, 30))
def test_per_sample_log_z_pair_with_equal_entries_matches_scalar(batch, log_z):
    cd, qd, cg, qg, wd, wg = batch
    pair = (torch.full_like(cd, log_z), torch.full_like(cg, log_z))
    scalar = all_losses(cd, qd, cg, qg, log_z, wd, wg)
    per_sample = {
        "discriminator_loss": L.discriminator_loss(cd, qd, cg, qg, pair, weight_data=wd,
                                                   weight_gen=wg),
        "generator_loss": L.generator_loss(cg, qg, pair[1], weight_gen=wg),
        "importance_log_z": L.importance_log_z(cd, qd, cg, qg, pair, weight_data=wd,
                                               weight_gen=wg),
        "cost_loss": L.cost_loss(cd, qd, cg, qg, pair, weight_data=wd, weight_gen=wg),
    }
    for name, value in per_sample.items():
        assert value.item() == pytest.approx(scalar[name].item(), rel=1e-13, abs=1e-13)


@SETTINGS
@given(batch=batches(bound=50.0), log_z=st.floats(-50, 50))
def test_float32_agrees_with_float64(batch, log_z):
    cd, qd, cg, qg, wd, wg = batch
    f64 = all_losses(cd, qd, cg, qg, log_z, wd, wg)
    as32 = [t.float() for t in (cd, qd, cg, qg)]
    f32 = all_losses(*as32, log_z, None if wd is None else wd.float(),
                     None if wg is None else wg.float())
    scale = 1.0 + max(t.abs().max().item() for t in (cd, qd, cg, qg)) + abs(log_z)
    for name in f64:
        assert f32[name].dtype == torch.float32
        assert abs(f32[name].item() - f64[name].item()) <= 1e-6 * scale, name
    b32 = L.optimal_log_z(*as32)
    assert b32.dtype == torch.float32


def test_discriminator_logit_definition_and_probability_form():
    c = torch.tensor([0.3, -1.2, 4.0], dtype=F64)
    lq = torch.tensor([-0.7, 0.1, -2.5], dtype=F64)
    lz = 0.4
    logit = L.discriminator_logit(c, lq, lz)
    torch.testing.assert_close(logit, -c - lz - lq, rtol=0, atol=0)
    boltzmann = torch.exp(-c) / math.exp(lz)
    d = boltzmann / (boltzmann + torch.exp(lq))
    torch.testing.assert_close(torch.sigmoid(logit), d, rtol=1e-14, atol=0)
    per_sample = L.discriminator_logit(c, lq, torch.tensor([0.4, 0.5, 0.6], dtype=F64))
    torch.testing.assert_close(per_sample, -c - torch.tensor([0.4, 0.5, 0.6], dtype=F64) - lq)
