"""GAN-GCL and GCL on tabular problems, against exact enumeration (float64)."""

from __future__ import annotations

import math

import pytest
import torch

from irlgan import losses as L
from irlgan.algorithms import SampleBuffer, gan_gcl_cost_loss, gcl_cost_loss
from irlgan.models import TabularCost, TabularSoftmaxPolicy
from irlgan.tabular import (
    TabularMDP,
    enumerate_trajectories,
    log_partition,
    sample_trajectories,
    soft_value_iteration,
)

F64 = torch.float64


def random_mdp(seed: int, states=5, actions=3, horizon=4, initial=None) -> TabularMDP:
    gen = torch.Generator().manual_seed(seed)
    next_state = torch.randint(0, states, (states, actions), generator=gen)
    if initial is None:
        initial = torch.zeros(states, dtype=F64)
        initial[0] = 1.0
    return TabularMDP(next_state, initial, horizon)


def all_trajectories(mdp: TabularMDP):
    """Every trajectory from every start with positive probability: states, actions, start."""
    states, actions = [], []
    for x0 in torch.nonzero(mdp.initial > 0)[:, 0].tolist():
        a, s = enumerate_trajectories(mdp, x0)
        states.append(s)
        actions.append(a)
    return torch.cat(states), torch.cat(actions)


@pytest.mark.parametrize("seed", range(5))
def test_gan_gcl_gradient_equals_gcl_gradient_at_optimal_log_z(seed):
    """Identity (b) on a real tabular batch: demonstrations, buffer samples, mixture log q."""
    gen = torch.Generator().manual_seed(seed)
    mdp = random_mdp(seed)
    true_cost = torch.randn(mdp.num_states, mdp.num_actions, generator=gen, dtype=F64)
    _, _, expert = soft_value_iteration(mdp, true_cost)
    s_data, a_data = sample_trajectories(mdp, expert, 40, gen)
    buffer = SampleBuffer(3)
    for _ in range(3):
        policy = TabularSoftmaxPolicy(
            mdp, torch.randn(mdp.horizon, mdp.num_states, mdp.num_actions, generator=gen, dtype=F64)
        )
        buffer.add(policy.snapshot(), *policy.sample(30, gen))
    s_gen, a_gen = buffer.samples()
    log_q_data, log_q_gen = buffer.log_q(s_data, a_data), buffer.log_q(s_gen, a_gen)
    cost = TabularCost(
        mdp.num_states,
        mdp.num_actions,
        init=torch.randn(mdp.num_states, mdp.num_actions, generator=gen, dtype=F64),
    )
    c_data, c_gen = cost(s_data, a_data), cost(s_gen, a_gen)
    log_z = L.optimal_log_z(c_data.detach(), log_q_data, c_gen.detach(), log_q_gen)
    disc = gan_gcl_cost_loss(
        c_data, log_q_data, c_gen, log_q_gen, log_z.expand(len(c_data)), log_z.expand(len(c_gen))
    )
    (g_disc,) = torch.autograd.grad(disc, cost.table, retain_graph=True)
    gcl, _ = gcl_cost_loss(c_data, log_q_data, c_gen, log_q_gen)
    (g_gcl,) = torch.autograd.grad(gcl, cost.table, retain_graph=True)
    assert (g_disc - g_gcl).abs().max().item() <= 1e-8 * g_disc.abs().max().item()
    # ...and away from the optimum they differ.
    disc_off = gan_gcl_cost_loss(
        c_data,
        log_q_data,
        c_gen,
        log_q_gen,
        (log_z + 1).expand(len(c_data)),
        (log_z + 1).expand(len(c_gen)),
    )
    (g_off,) = torch.autograd.grad(disc_off, cost.table)
    assert (g_off - g_gcl).abs().max().item() > 1e-3 * g_disc.abs().max().item()


@pytest.mark.parametrize("seed", range(5))
def test_optimal_log_z_is_the_exact_log_partition_when_q_is_soft_optimal(seed):
    """With q = p_θ and exact trajectory probabilities as weights, log Z* = log Z exactly."""
    gen = torch.Generator().manual_seed(100 + seed)
    mdp = random_mdp(100 + seed)
    cost = 2 * torch.randn(mdp.num_states, mdp.num_actions, generator=gen, dtype=F64)
    _, _, policy = soft_value_iteration(mdp, cost)
    states, actions = all_trajectories(mdp)
    q = TabularSoftmaxPolicy(mdp, torch.log(policy))
    log_q = q.log_prob(states, actions).detach()
    c = TabularCost(mdp.num_states, mdp.num_actions, init=cost)(states, actions).detach()
    # Demonstrations: an arbitrary distribution over the same trajectories.
    weight_data = torch.rand(len(c), generator=gen, dtype=F64)
    b = L.optimal_log_z(c, log_q, c, log_q, weight_data=weight_data, weight_gen=log_q.exp())
    exact = log_partition(mdp, cost)[0].item()
    assert abs(b.item() - exact) <= 1e-10 * max(1.0, abs(exact))
    assert math.isclose(log_q.exp().sum().item(), 1.0, rel_tol=1e-12)


def test_random_initial_state_biases_a_scalar_log_z_and_per_start_log_z_removes_it():
    """With random starts, the exact model conditions on x_0: log Z(x_0) = V_0(x_0) differs by
    start. A single scalar log Z then leaves the discriminator off 1/2 even when the cost is the
    truth and q is its soft-optimal policy, so the true cost is not a stationary point; one log Z
    per start restores both."""
    gen = torch.Generator().manual_seed(7)
    initial = torch.tensor([0.4, 0.3, 0.3, 0.0, 0.0], dtype=F64)
    mdp = random_mdp(7, initial=initial)
    true_cost = 1.5 * torch.randn(mdp.num_states, mdp.num_actions, generator=gen, dtype=F64)
    _, _, policy = soft_value_iteration(mdp, true_cost)
    states, actions = all_trajectories(mdp)
    start = states[:, 0]
    q = TabularSoftmaxPolicy(mdp, torch.log(policy))
    log_q = q.log_prob(states, actions).detach()
    prob = initial[start] * log_q.exp()  # exact trajectory probabilities, data = model
    assert math.isclose(prob.sum().item(), 1.0, rel_tol=1e-12)
    cost = TabularCost(mdp.num_states, mdp.num_actions, init=true_cost)
    exact_log_z = log_partition(mdp, true_cost)
    assert exact_log_z[:3].std().item() > 0.1  # the starts really differ

    def cost_gradient(log_z_data, log_z_gen):
        c = cost(states, actions)
        loss = L.discriminator_loss(
            c, log_q, c, log_q, (log_z_data, log_z_gen), weight_data=prob, weight_gen=prob
        )
        return torch.autograd.grad(loss, cost.table)[0]

    c = cost(states, actions).detach()
    scalar = L.optimal_log_z(c, log_q, c, log_q, weight_data=prob, weight_gen=prob)
    logits = L.discriminator_logit(c, log_q, scalar)
    assert (torch.sigmoid(logits) - 0.5).abs().max().item() > 0.05
    g_scalar = cost_gradient(scalar.expand(len(c)), scalar.expand(len(c)))
    assert g_scalar.abs().max().item() > 1e-2
    per_start = exact_log_z[start]
    g_exact = cost_gradient(per_start, per_start)
    assert g_exact.abs().max().item() < 1e-12
    logits = L.discriminator_logit(c, log_q, per_start)
    assert logits.abs().max().item() < 1e-12  # D = 1/2 everywhere
