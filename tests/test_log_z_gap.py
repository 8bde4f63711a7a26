"""`irlgan.algorithms.gan_gcl.log_z_gap`: the shift of GAN-GCL's learned log Z at which its cost
step is GCL's, checked against both losses' gradients (identity (b)) on random batches and in
a trainer's metrics."""

from __future__ import annotations

import math

import pytest
import torch

import irlgan
from irlgan import losses
from irlgan.algorithms import gcl_cost_loss
from irlgan.algorithms.gan_gcl import log_pull, log_push_pull, log_z_gap
from tests.test_api import SMALL, Bowl, drift_demos, make_drift


def _batch(seed: int, n: int = 8, m: int = 11):
    g = torch.Generator().manual_seed(seed)
    def draw(k: int, scale: float) -> torch.Tensor:
        return scale * torch.randn(k, generator=g, dtype=torch.float64)
    # trajectory-scale numbers: costs and log-densities of tens of nats
    return draw(n, 8.0), draw(n, 20.0) - 30, draw(m, 8.0), draw(m, 20.0) - 30, draw(n, 3.0), \
        draw(m, 3.0)


def _spread_batch(g: torch.Generator, spread: float):
    """Costs and log-densities of 6 demonstrations and 9 samples, the samples' costs higher by
    `spread` on average."""
    def draw(k: int) -> torch.Tensor:
        return spread * torch.randn(k, generator=g, dtype=torch.float64)
    return draw(6), draw(6), draw(9) + spread, draw(9)


def _grads(loss_of, *tensors):
    leaves = [t.clone().requires_grad_() for t in tensors]
    loss_of(*leaves).backward()
    return torch.cat([t.grad for t in leaves])


def test_at_the_gap_gan_gcls_gradient_is_gcls_and_away_from_it_is_not() -> None:
    for seed in range(6):
        c_d, lq_d, c_g, lq_g, lz_d, lz_g = _batch(seed)
        delta, ess_gen = log_z_gap(c_d + lz_d, lq_d, c_g + lz_g, lq_g)
        assert abs(delta) > 0.1  # a learned log Z drawn at random is not self-consistent

        def gan_gcl(cd, cg, zd, zg, shift=delta, lq_d=lq_d, lq_g=lq_g):
            return losses.discriminator_loss(cd, lq_d, cg, lq_g, (zd + shift, zg + shift))

        def gcl(cd, cg, zd, zg, lq_d=lq_d, lq_g=lq_g):
            # GCL with the learned log Z as its start term, at its own self-consistent log Z-hat
            return gcl_cost_loss(cd + zd, lq_d, cg + zg, lq_g)[0]

        at_gap = _grads(gan_gcl, c_d, c_g, lz_d, lz_g)
        reference = _grads(gcl, c_d, c_g, lz_d, lz_g)
        scale = float(reference.abs().max())
        assert float((at_gap - reference).abs().max()) < 1e-9 * scale
        unshifted = _grads(lambda *t: gan_gcl(*t, shift=0.0), c_d, c_g, lz_d, lz_g)
        assert float((unshifted - reference).abs().max()) > 1e-3 * scale
        # the ESS it reports is that of GCL's weights on the batch
        expected = losses.importance_ess(c_d + lz_d, lq_d, c_g + lz_g, lq_g,
                                         torch.tensor(delta, dtype=torch.float64), part="gen")
        assert abs(ess_gen - float(expected)) < 1e-12 * float(expected)
        assert 1 - 1e-9 <= ess_gen <= len(c_g) + 1e-9
        # the two sides of the step balance at the gap (identity (a)) and lean its way off it
        data, gen = -c_d - lz_d - lq_d, -c_g - lz_g - lq_g
        assert abs(log_push_pull(data - delta, gen - delta)) < 1e-9
        lean = log_push_pull(data, gen)
        assert abs(lean) > 0.1 and (lean > 0) == (delta > 0)
        # the pull's weight, E_p[1 - D], against its definition
        pull = float(torch.log(torch.sigmoid(-data).mean()))
        assert abs(log_pull(data) - pull) < 1e-9 * max(1.0, abs(pull))
        # shifting the learned log Z by the gap closes it
        closed, _ = log_z_gap(c_d + lz_d + delta, lq_d, c_g + lz_g + delta, lq_g)
        assert abs(closed) < 1e-8


def test_trainers_log_the_gap_and_gcls_is_zero() -> None:
    demos = drift_demos()
    rows = {}
    for cls in (irlgan.GANGCL, irlgan.GCL):
        algo = cls(make_drift, demos, config=SMALL, seed=4, reward_net=Bowl())
        got = []
        algo.learn(80, callback=lambda a, row, got=got: got.append(row))
        rows[cls.name] = got
        algo.close()
    for row in rows["gan-gcl"]:
        assert math.isfinite(row["log_z_gap"]) and row["log_z_gap"] != 0.0
        assert 1 - 1e-9 <= row["ess_gen_solved"]
        assert math.isfinite(row["log_push_pull"]) and (
            (row["log_push_pull"] > 0) == (row["log_z_gap"] > 0))
    for name in ("gan-gcl", "gcl"):
        assert all(row["log_pull"] <= 0.0 for row in rows[name])
    for row in rows["gcl"]:
        assert row["log_z_gap"] == 0.0 and row["ess_gen_solved"] == row["ess_gen"]
        assert row["log_push_pull"] == 0.0


def test_gcls_step_on_a_batch_separated_by_tens_of_nats_is_exact_in_float32() -> None:
    """`cost_loss` forms its gradient as 1/N minus a share of Z-hat, which cancels to rounding
    on a separated batch; `gcl_cost_loss` takes the same gradient (identity (b)) from the
    discriminator loss, whose sigmoid tails keep it."""
    g = torch.Generator().manual_seed(5)
    a_d = 60.0 + 140.0 * torch.rand(50, generator=g, dtype=torch.float64)  # a = -c - log q
    a_g = -25.0 - 500.0 * torch.rand(64, generator=g, dtype=torch.float64)
    lq_d = -270.0 + 10 * torch.randn(50, generator=g, dtype=torch.float64)
    lq_g = -270.0 + 10 * torch.randn(64, generator=g, dtype=torch.float64)
    c_d, c_g = -a_d - lq_d, -a_g - lq_g
    b = losses.optimal_log_z(c_d, lq_d, c_g, lq_g)
    exact = _grads(lambda cd, cg: losses.discriminator_loss(cd, lq_d, cg, lq_g, b), c_d, c_g)
    # in the tails the weights are e^{b - a} on the data and e^{a - b} on the samples
    tails = torch.cat([torch.exp(b - a_d) / 50, -torch.exp(a_g - b) / 64])
    assert float((exact - tails).abs().max()) < 1e-9 * float(tails.abs().max())
    f32 = [t.float() for t in (c_d, lq_d, c_g, lq_g)]
    ours = _grads(lambda cd, cg: gcl_cost_loss(cd, f32[1], cg, f32[3])[0], f32[0], f32[2])

    def cosine(x, y):
        return float(x.double() @ y / (x.double().norm() * y.norm()))

    assert cosine(ours, exact) > 1 - 1e-5
    assert abs(float(ours.double().norm() / exact.norm()) - 1) < 1e-3
    plain = _grads(lambda cd, cg: losses.cost_loss(cd, f32[1], cg, f32[3], b.float()),
                   f32[0], f32[2])
    # what the plain form returns is rounding: far larger than the gradient, pointing elsewhere
    assert float(plain.double().norm()) > 1e6 * float(exact.norm())
    assert cosine(plain, exact) < 0.5


def test_gcls_normalised_step_is_its_step_over_the_pulls_weight() -> None:
    g = torch.Generator().manual_seed(7)
    for spread in (3.0, 80.0):  # an overlapping batch, and one separated by tens of nats
        c_d, lq_d, c_g, lq_g = _spread_batch(g, spread)
        def step(cd, cg, normalize, lq_d=lq_d, lq_g=lq_g):
            return gcl_cost_loss(cd, lq_d, cg, lq_g, normalize=normalize)[0]
        raw = _grads(lambda cd, cg: step(cd, cg, False), c_d, c_g)
        normed = _grads(lambda cd, cg: step(cd, cg, True), c_d, c_g)
        b = losses.optimal_log_z(c_d, lq_d, c_g, lq_g)
        log_weight = log_pull(-c_d - b - lq_d)
        assert float((normed * math.exp(log_weight) - raw).abs().max()) < 1e-9 * float(
            raw.abs().max())
        # a weighted mean on each side: +1 in all on the data, -1 on the samples
        assert abs(float(normed[:6].sum()) - 1) < 1e-12
        assert abs(float(normed[6:].sum()) + 1) < 1e-12
        value, _ = gcl_cost_loss(c_d, lq_d, c_g, lq_g, normalize=True)
        assert float(value) == float(losses.cost_loss(c_d, lq_d, c_g, lq_g, b))


def test_solved_log_z_init_starts_gan_gcl_at_the_self_consistent_log_z_once() -> None:
    import dataclasses

    demos = drift_demos()
    first = {}
    for init in ("zero", "solved"):
        config = dataclasses.replace(SMALL, disc_steps=1, log_z_init=init)
        algo = irlgan.GANGCL(make_drift, demos, config=config, seed=4, reward_net=Bowl())
        rows: list[dict] = []
        algo.learn(160, callback=lambda a, row, rows=rows: rows.append(row))
        bias = algo.discriminator["log_z"].net[-1].bias
        first[init] = (rows[0], float(bias.detach()))
        algo.close()
    zero, solved = first["zero"][0], first["solved"][0]
    # the metrics are taken on the first step's batch before the step: with "zero" log Z sits
    # far from the self-consistent value, with "solved" on it (identity (a): push = pull)
    assert abs(zero["log_z_gap"]) > 5.0
    # (to the float32 rounding of the offset)
    assert abs(solved["log_z_gap"]) < 1e-4 and abs(solved["log_push_pull"]) < 1e-4
    assert solved["log_z"] - zero["log_z"] == pytest.approx(zero["log_z_gap"], abs=1e-4)
    # afterwards it is learned: the three later Adam steps move it by about the rate each
    later = abs(first["solved"][1] - solved["log_z"])
    assert later <= 4 * SMALL.disc_lr


def test_gan_gcls_normalised_step_is_gcls_at_the_gap_and_keeps_log_zs_gradient() -> None:
    from irlgan.algorithms import gan_gcl_cost_loss

    g = torch.Generator().manual_seed(11)
    for spread in (3.0, 80.0):  # an overlapping batch, and one separated by tens of nats
        c_d, lq_d, c_g, lq_g = _spread_batch(g, spread)
        b = float(losses.optimal_log_z(c_d, lq_d, c_g, lq_g))
        for log_z in (b, b - 7.0):  # at the self-consistent log Z, and below it
            def step(cd, cg, zd, zg, normalize, lq_d=lq_d, lq_g=lq_g):
                return gan_gcl_cost_loss(cd, lq_d, cg, lq_g, zd, zg, normalize=normalize)
            zd, zg = torch.full((6,), log_z, dtype=torch.float64), \
                torch.full((9,), log_z, dtype=torch.float64)
            raw = _grads(lambda *t: step(*t, False), c_d, c_g, zd, zg)
            normed = _grads(lambda *t: step(*t, True), c_d, c_g, zd, zg)
            # log Z's gradient and the value are the loss's own
            assert torch.equal(normed[15:], raw[15:])
            assert float(step(c_d, c_g, zd, zg, True)) == float(step(c_d, c_g, zd, zg, False))
            # the costs' gradient: a weighted mean on each side, +1 on the data, -1 on samples
            assert abs(float(normed[:6].sum()) - 1) < 1e-12
            assert abs(float(normed[6:15].sum()) + 1) < 1e-12
            # each side is the loss's own gradient on that side, rescaled
            for part in (slice(0, 6), slice(6, 15)):
                scale = float(raw[part].sum() / normed[part].sum())
                assert float((normed[part] * scale - raw[part]).abs().max()) <= 1e-9 * float(
                    raw[part].abs().max())
        # at the self-consistent log Z it is GCL's normalised step (identity (b))
        zd, zg = torch.full((6,), b, dtype=torch.float64), torch.full((9,), b, dtype=torch.float64)
        def ours_of(cd, cg, lq_d=lq_d, lq_g=lq_g, zd=zd, zg=zg):
            return gan_gcl_cost_loss(cd, lq_d, cg, lq_g, zd, zg, normalize=True)
        def gcls_of(cd, cg, lq_d=lq_d, lq_g=lq_g):
            return gcl_cost_loss(cd, lq_d, cg, lq_g, normalize=True)[0]
        ours, gcls = _grads(ours_of, c_d, c_g), _grads(gcls_of, c_d, c_g)
        assert float((ours - gcls).abs().max()) < 1e-9
