"""Neural costs, trajectory sums with masks, log Z(x_0), AIRL's shaped f and the continuous
adversarial objectives (GAN-GCL, GCL, AIRL) against the loss contract."""

from __future__ import annotations

import pytest
import torch

from irlgan import losses
from irlgan.algorithms import (
    TrajectoryBatch,
    airl_discriminator_loss,
    airl_logit,
    airl_reward,
    gan_gcl_discriminator_loss,
    gan_gcl_logit,
    gcl_loss,
)
from irlgan.models import MLPCost, MLPLogZ, ShapedReward, masked_sum


def _batch(gen: torch.Generator, b: int = 5, t: int = 7, d: int = 3, k: int = 2,
           lengths: list[int] | None = None) -> TrajectoryBatch:
    lengths = lengths or [t] * b
    obs = torch.randn(b, t + 1, d, generator=gen)
    act = torch.randn(b, t, k, generator=gen)
    mask = (torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]).float()
    term = torch.tensor([n < t for n in lengths])
    return TrajectoryBatch(obs, act, mask, term)


def test_trajectory_cost_is_the_masked_sum_of_step_costs() -> None:
    gen = torch.Generator().manual_seed(0)
    cost = MLPCost(3, 2, hidden=(8,))
    batch = _batch(gen, lengths=[7, 3, 1, 5, 7])
    total = cost.trajectory_cost(batch.obs, batch.act, batch.mask).detach()
    for i, n in enumerate([7, 3, 1, 5, 7]):
        expected = sum(float(cost(batch.obs[i, t], batch.act[i, t]).detach()) for t in range(n))
        assert float(total[i]) == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_padding_does_not_change_the_cost_and_gradients_skip_padding() -> None:
    gen = torch.Generator().manual_seed(1)
    cost = MLPCost(3, 2, hidden=(8,))
    batch = _batch(gen, lengths=[2, 4, 7, 1, 3])
    padded = batch.pad_to(12)
    a = cost.trajectory_cost(batch.obs, batch.act, batch.mask)
    b = cost.trajectory_cost(padded.obs, padded.act, padded.mask)
    torch.testing.assert_close(a, b)
    # Changing padded actions must not change anything.
    act = batch.act.clone()
    act[0, 5] += 100.0
    c = cost.trajectory_cost(batch.obs, act, batch.mask)
    torch.testing.assert_close(a, c)


def test_state_only_cost_ignores_actions() -> None:
    gen = torch.Generator().manual_seed(2)
    cost = MLPCost(3, 2, hidden=(8,), state_only=True)
    obs = torch.randn(4, 3, generator=gen)
    torch.testing.assert_close(cost(obs, torch.zeros(4, 2)), cost(obs, torch.ones(4, 2)))
    torch.testing.assert_close(cost(obs), cost(obs, torch.ones(4, 2)))


def test_cost_rejects_bad_shapes() -> None:
    cost = MLPCost(3, 2)
    with pytest.raises(ValueError, match="obs"):
        cost(torch.zeros(4, 5), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="act"):
        cost(torch.zeros(4, 3), torch.zeros(4, 1))
    with pytest.raises(ValueError, match="mask"):
        masked_sum(torch.zeros(2, 3), torch.ones(3, 2))
    with pytest.raises(ValueError, match="initial_obs"):
        MLPLogZ(3)(torch.zeros(4, 2))


def test_log_z_network_starts_constant() -> None:
    log_z = MLPLogZ(3, init=1.5)
    out = log_z(torch.randn(6, 3, generator=torch.Generator().manual_seed(0)))
    torch.testing.assert_close(out, torch.full((6,), 1.5))


def test_shaped_reward_matches_its_definition_and_stops_at_terminals() -> None:
    gen = torch.Generator().manual_seed(3)
    net = ShapedReward(3, 2, gamma=0.9, hidden=(8,))
    obs, nxt = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    act = torch.randn(5, 2, generator=gen)
    term = torch.tensor([False, True, False, True, False])
    f = net(obs, act, nxt, term)
    expected = net.reward(obs, act) - net.potential(obs) + 0.9 * net.potential(nxt) * (~term)
    torch.testing.assert_close(f, expected)


def test_transitions_flag_only_the_last_step_of_terminated_episodes() -> None:
    gen = torch.Generator().manual_seed(4)
    batch = _batch(gen, b=3, t=4, lengths=[4, 2, 3])  # the last two terminated early
    obs, act, nxt, term = batch.transitions()
    assert obs.shape == (9, 3) and act.shape == (9, 2) and nxt.shape == (9, 3)
    assert term.tolist() == [False] * 4 + [False, True] + [False, False, True]
    torch.testing.assert_close(nxt[5], batch.obs[1, 2])


def test_gan_gcl_loss_is_the_discriminator_loss_of_trajectory_logits() -> None:
    gen = torch.Generator().manual_seed(6)
    cost, log_z = MLPCost(3, 2, hidden=(8,)), MLPLogZ(3, hidden=(4,), init=0.3)
    data, fake = _batch(gen, b=4, lengths=[7, 7, 5, 2]), _batch(gen, b=6)
    lq_data, lq_gen = torch.randn(4, generator=gen), torch.randn(6, generator=gen)
    loss = gan_gcl_discriminator_loss(cost, log_z, data, lq_data, fake, lq_gen)
    l_data, l_gen = gan_gcl_logit(cost, log_z, data, lq_data), gan_gcl_logit(cost, log_z, fake,
                                                                             lq_gen)
    expected = (torch.nn.functional.softplus(-l_data).mean()
                + torch.nn.functional.softplus(l_gen).mean())
    torch.testing.assert_close(loss, expected)
    c_data = cost.trajectory_cost(data.obs, data.act, data.mask)
    torch.testing.assert_close(l_data, -c_data - log_z(data.obs[:, 0]) - lq_data)
    loss.backward()
    assert all(p.grad is not None for p in log_z.parameters())


def test_gcl_loss_uses_the_self_consistent_log_z() -> None:
    gen = torch.Generator().manual_seed(7)
    cost = MLPCost(3, 2, hidden=(8,))
    data, fake = _batch(gen, b=4), _batch(gen, b=6)
    lq_data, lq_gen = torch.randn(4, generator=gen), torch.randn(6, generator=gen)
    loss, log_z = gcl_loss(cost, None, data, lq_data, fake, lq_gen)
    c_data = cost.trajectory_cost(data.obs, data.act, data.mask).detach()
    c_gen = cost.trajectory_cost(fake.obs, fake.act, fake.mask).detach()
    expected_z = losses.optimal_log_z(c_data, lq_data, c_gen, lq_gen)
    assert log_z == pytest.approx(float(expected_z), abs=1e-5)
    # The value is E_p[c] + log Z-hat, and at the optimal log Z, log Z-hat = log Z.
    assert float(loss.detach()) == pytest.approx(float(c_data.mean()) + log_z, abs=1e-4)
    start = MLPLogZ(3, hidden=(4,))
    loss2, _ = gcl_loss(cost, start, data, lq_data, fake, lq_gen)
    loss2.backward()
    assert start.net[-1].bias.grad is not None


def test_airl_logit_and_reward() -> None:
    gen = torch.Generator().manual_seed(8)
    net = ShapedReward(3, 2, gamma=0.95, hidden=(8,))
    obs, nxt = torch.randn(6, 3, generator=gen), torch.randn(6, 3, generator=gen)
    act, log_pi = torch.randn(6, 2, generator=gen), torch.randn(6, generator=gen)
    term = torch.zeros(6, dtype=torch.bool)
    f = net(obs, act, nxt, term)
    torch.testing.assert_close(airl_logit(net, obs, act, nxt, term, log_pi), f - log_pi)
    torch.testing.assert_close(airl_reward(net, obs, act, nxt, term, log_pi), (f - log_pi).detach())
    loss = airl_discriminator_loss(net, (obs[:3], act[:3], nxt[:3], term[:3]), log_pi[:3],
                                   (obs[3:], act[3:], nxt[3:], term[3:]), log_pi[3:])
    ell = f - log_pi
    expected = (torch.nn.functional.softplus(-ell[:3]).mean()
                + torch.nn.functional.softplus(ell[3:]).mean())
    torch.testing.assert_close(loss, expected)


def test_trajectory_batch_checks_shapes() -> None:
    with pytest.raises(ValueError, match="obs"):
        TrajectoryBatch(torch.zeros(2, 3, 1), torch.zeros(2, 3, 1), torch.ones(2, 3),
                        torch.zeros(2, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask"):
        TrajectoryBatch(torch.zeros(2, 4, 1), torch.zeros(2, 3, 1), torch.ones(2, 4),
                        torch.zeros(2, dtype=torch.bool))
