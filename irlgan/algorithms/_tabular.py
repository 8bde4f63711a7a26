r"""GAN-GCL and GCL on tabular problems, measured against exact answers at every evaluation.

One iteration:

1. the generator (a time-dependent softmax policy) draws `samples_per_iteration` trajectories,
   which enter the sample buffer together with a frozen copy of the generator;
2. `cost_steps` updates of the cost (and, for GAN-GCL, of log Z) on the demonstrations and the
   buffer's samples, their log q under the buffer's mixture density;
3. `generator_steps` updates of the generator on $L_\text{sampler} = \mathbb{E}_q[c + \log q]$
   for the current cost: a sampled policy gradient (score function with the cost-to-go
   $\sum_{t' \ge t} c + \log\pi$ and a per-(t, x_t) baseline), or, with
   ``generator="exact"``, a damped step toward the exact minimiser, the soft-optimal policy of
   the current cost: logits $\leftarrow (1-\alpha)\,\text{logits} + \alpha\,Q^\text{soft}_t$.

The reference is exact MaxEnt IRL (`irlgan.tabular.maxent_irl`) on the same demonstrations. A
tabular cost's likelihood is maximised only in the limit (the costs of pairs that no
demonstration visits run off to $+\infty$), but its supremum is reached to float64 precision
by Newton's method and is the number to compare with. An optional penalty
$\tfrac{\lambda}{2}\lVert\theta\rVert^2$ (``l2``, also accepted by `maxent_irl`) makes the optimum
attained; it is off by default because a sampled estimate of the model's visitation is zero on
pairs the sampler almost never visits, so the penalty then pulls those costs down with nothing to
balance it, a bias that the exact objective does not have (measured: 0.05-0.1 nats at
λ = 1e-3 on the default grid).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor

from irlgan.algorithms._adversarial import gan_gcl_cost_loss, gcl_cost_loss
from irlgan.algorithms._buffer import SampleBuffer
from irlgan.models import InitialStateLogZ, ScalarLogZ, TabularCost, TabularSoftmaxPolicy
from irlgan.schedule import lr_fraction, run_iterations
from irlgan.tabular import (
    TabularMDP,
    exact_kl,
    log_partition,
    mean_log_likelihood,
    soft_value_iteration,
)

Algorithm = Literal["gan-gcl", "gcl"]


@dataclass(frozen=True)
class TabularConfig:
    """Settings of a tabular GAN-GCL or GCL run (frozen: derive variants with
    `dataclasses.replace`)."""

    algorithm: Algorithm = "gan-gcl"
    """`gan-gcl` (discriminator with a learned log Z) or `gcl` (importance-sampled log Z)."""
    iterations: int = 600
    """Outer iterations (sample, update cost, update generator)."""
    samples_per_iteration: int = 512
    """Trajectories the generator adds to the buffer each iteration."""
    buffer_generators: int = 5
    """How many recent generators (and their samples) the buffer keeps."""
    cost_steps: int = 1
    """Cost (and log Z) updates per iteration."""
    cost_lr: float = 0.1
    """Adam learning rate of the cost table, decayed by a cosine to `final_lr_fraction` of it."""
    log_z_lr: float = 10.0
    """Adam learning rate of the learned log Z (GAN-GCL). Large on purpose: a log Z that lags
    its optimum biases the cost gradient by the factor Z/Ẑ - 1 (identity (b))."""
    l2: float = 0.0
    """Weight λ of an optional penalty (λ/2)·‖θ‖² on the cost table (give the exact reference
    the same λ); see the module docstring for why it is off by default."""
    log_z: Literal["scalar", "initial_state"] = "scalar"
    """A single log Z, or one per initial state (exact with random starts)."""
    generator: Literal["sampled", "exact"] = "sampled"
    """Sampled policy-gradient steps on L_sampler, or damped exact steps toward its minimiser."""
    generator_steps: int = 4
    """Generator updates per iteration."""
    generator_lr: float = 1.0
    """SGD step of the per-state policy gradient (sampled), or the damping α (exact)."""
    final_lr_fraction: float = 0.02
    """All learning rates decay by a cosine to this fraction over the run."""
    eval_every: int = 10
    """Iterations between exact evaluations (log-likelihood, KL, log Z)."""
    seed: int = 0
    """Seed of the run's torch.Generator (sampling)."""

    def __post_init__(self) -> None:
        if self.algorithm not in ("gan-gcl", "gcl"):
            raise ValueError(f"algorithm must be 'gan-gcl' or 'gcl', got {self.algorithm!r}")
        if self.log_z not in ("scalar", "initial_state"):
            raise ValueError(f"log_z must be 'scalar' or 'initial_state', got {self.log_z!r}")
        if self.generator not in ("sampled", "exact"):
            raise ValueError(f"generator must be 'sampled' or 'exact', got {self.generator!r}")
        for name in ("iterations", "samples_per_iteration", "buffer_generators", "cost_steps",
                     "generator_steps", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("cost_lr", "log_z_lr", "generator_lr", "final_lr_fraction"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not (math.isfinite(self.l2) and self.l2 >= 0):
            raise ValueError(f"l2 must be non-negative, got {self.l2!r}")
        if self.generator == "exact" and self.generator_lr > 1:
            raise ValueError("with generator='exact', generator_lr is the damping α in (0, 1]")


@dataclass
class TabularRun:
    """The outcome of `train_tabular`: final models and the exact evaluation history."""

    config: TabularConfig
    cost: Tensor
    """Learned cost table [S, A]."""
    policy: Tensor
    """Generator's final policy [T, S, A]."""
    log_z: Tensor
    """Learned log Z per state [S] (a scalar is broadcast)."""
    history: list[dict[str, float]] = field(default_factory=list)
    """One row per evaluation: iteration, log_likelihood, kl, log_z_learned, log_z_exact, ..."""
    seconds: float = 0.0

    @property
    def final(self) -> dict[str, float]:
        """The last evaluation row."""
        return self.history[-1]


def evaluate_tabular(
    mdp: TabularMDP, states: Tensor, actions: Tensor, cost: Tensor, policy: Tensor,
    log_z: Tensor,
) -> dict[str, float]:
    """Exact measurements of a learned cost, generator and log Z against the demonstrations.

    Returns:
        log_likelihood: mean exact log p_θ(τ | x_0) of the demonstrations;
        kl: KL(q ‖ p_θ) per trajectory from the data's start states, where p_θ is the
            soft-optimal policy of the learned cost (the quantity the generator minimises);
        kl_reverse: KL(p_θ ‖ q);
        log_z_learned, log_z_exact: mean over the demonstrations' starts of the learned log Z and
            of the exact log-partition of the learned cost, and log_z_error their mean absolute
            difference.
    """
    with torch.no_grad():
        start = torch.bincount(states[:, 0], minlength=mdp.num_states).to(torch.float64)
        start = start / start.sum()
        _, _, soft_policy = soft_value_iteration(mdp, cost)
        exact = log_partition(mdp, cost)
        seen = start > 0
        return {
            "log_likelihood": float(mean_log_likelihood(mdp, cost, states, actions)),
            "kl": float(exact_kl(mdp, policy, soft_policy, start)),
            "kl_reverse": float(exact_kl(mdp, soft_policy, policy, start)),
            "log_z_learned": float((start * log_z)[seen].sum()),
            "log_z_exact": float((start * exact)[seen].sum()),
            "log_z_error": float((start * (log_z - exact).abs())[seen].sum()),
        }


def _policy_gradient_loss(policy: TabularSoftmaxPolicy, cost_table: Tensor, states: Tensor,
                          actions: Tensor) -> Tensor:
    """Score-function surrogate whose gradient is an unbiased estimate of ∇ L_sampler."""
    step_log_prob = policy.step_log_prob(states, actions)  # [B, T]
    step_cost = cost_table[states[:, :-1], actions]
    to_go = torch.flip(torch.cumsum(torch.flip(step_cost + step_log_prob.detach(), [1]), 1), [1])
    # Baseline: the mean cost-to-go of the samples in the same state at the same time.
    horizon, num_states = actions.shape[1], cost_table.shape[0]
    key = torch.arange(horizon) * num_states + states[:, :-1]  # [B, T]
    sums = torch.zeros(horizon * num_states, dtype=to_go.dtype).index_add(
        0, key.reshape(-1), to_go.reshape(-1))
    counts = torch.bincount(key.reshape(-1), minlength=horizon * num_states).to(to_go.dtype)
    per_state = counts.clamp(min=1)[key]
    baseline = (sums / counts.clamp(min=1))[key]
    # Each (t, x_t) is averaged over its own visits rather than over the batch: the step at a
    # state is then pi * (Q - V) whatever its visitation, which for a tabular softmax is close to
    # the natural gradient and keeps rarely visited states from lagging behind.
    return (step_log_prob * (to_go - baseline) / per_state).sum()


def train_tabular(
    mdp: TabularMDP,
    states: Tensor,
    actions: Tensor,
    config: TabularConfig | None = None,
    *,
    progress: bool = False,
) -> TabularRun:
    """Trains GAN-GCL or GCL on a deterministic tabular problem.

    Args:
        mdp: the problem; its initial distribution is the generator's start distribution.
        states: demonstrations' states, int64 [N, T+1].
        actions: demonstrations' actions, int64 [N, T].
        config: settings (defaults when None).
        progress: show a progress bar.

    Returns:
        A `TabularRun` with the learned cost, policy and log Z and the evaluation history.
    """
    config = config or TabularConfig()
    if states.shape[1] != mdp.horizon + 1 or actions.shape[1] != mdp.horizon:
        raise ValueError(f"demonstrations have horizon {actions.shape[1]}, the problem "
                         f"{mdp.horizon}")
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(config.seed)
    cost = TabularCost(mdp.num_states, mdp.num_actions)
    log_z_model = (ScalarLogZ() if config.log_z == "scalar"
                   else InitialStateLogZ(mdp.num_states))
    policy = TabularSoftmaxPolicy(mdp)
    buffer = SampleBuffer(config.buffer_generators)

    cost_params = [{"params": cost.parameters(), "lr": config.cost_lr}]
    if config.algorithm == "gan-gcl":
        cost_params.append({"params": log_z_model.parameters(), "lr": config.log_z_lr})
    cost_opt = torch.optim.Adam(cost_params)
    policy_opt = torch.optim.SGD(policy.parameters(), lr=config.generator_lr)

    def lr_factor(i: int) -> float:  # cosine from 1 to final_lr_fraction over the run
        return lr_fraction("cosine", i, config.iterations, config.final_lr_fraction)

    def set_learning_rates(i: int) -> None:
        for opt in (cost_opt, policy_opt):
            for group in opt.param_groups:
                group["lr"] = group["initial_lr"] * lr_factor(i)

    for opt in (cost_opt, policy_opt):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
    start_data = states[:, 0]
    run = TabularRun(config, cost.table.detach(), policy.probabilities(),
                     torch.zeros(mdp.num_states, dtype=torch.float64))

    def record(iteration: int) -> None:
        row = {"iteration": float(iteration)}
        all_starts = torch.arange(mdp.num_states)
        row.update(evaluate_tabular(mdp, states, actions, cost.table.detach(),
                                    policy.probabilities(), log_z_model(all_starts).detach()))
        row["seconds"] = time.perf_counter() - t0
        run.history.append(row)

    iteration = 0

    def step() -> dict[str, Any]:
        nonlocal iteration
        s_gen, a_gen = policy.sample(config.samples_per_iteration, gen)
        buffer.add(policy.snapshot(), s_gen, a_gen)
        s_buf, a_buf = buffer.samples()
        with torch.no_grad():
            log_q_data = buffer.log_q(states, actions)
            log_q_gen = buffer.log_q(s_buf, a_buf)

        for _ in range(config.cost_steps):
            cost_data = cost(states, actions)
            cost_gen = cost(s_buf, a_buf)
            if config.algorithm == "gan-gcl":
                loss = gan_gcl_cost_loss(cost_data, log_q_data, cost_gen, log_q_gen,
                                         log_z_model(start_data), log_z_model(s_buf[:, 0]))
            else:
                per_start = config.log_z == "initial_state"
                loss, log_zs = gcl_cost_loss(
                    cost_data, log_q_data, cost_gen, log_q_gen,
                    start_data if per_start else None, s_buf[:, 0] if per_start else None)
                with torch.no_grad():  # record the self-consistent estimate as the learned log Z
                    for s, value in log_zs.items():
                        if s < 0:
                            log_z_model.value.fill_(value)
                        else:
                            log_z_model.table[s] = value
            if config.l2 > 0:
                loss = loss + 0.5 * config.l2 * (cost.table ** 2).sum()
            cost_opt.zero_grad()
            loss.backward()
            cost_opt.step()

        table = cost.table.detach()
        for _ in range(config.generator_steps):
            if config.generator == "exact":
                _, q_soft, _ = soft_value_iteration(mdp, table)
                alpha = config.generator_lr * lr_factor(iteration)  # damping, same schedule
                with torch.no_grad():
                    policy.logits.mul_(1 - alpha).add_(alpha * q_soft)
            else:
                s_pg, a_pg = policy.sample(config.samples_per_iteration, gen)
                pg_loss = _policy_gradient_loss(policy, table, s_pg, a_pg)
                policy_opt.zero_grad()
                pg_loss.backward()
                policy_opt.step()
        iteration += 1
        set_learning_rates(iteration)
        if iteration % config.eval_every == 0 or iteration == config.iterations:
            record(iteration)
            return run.history[-1]
        return {}

    run_iterations(step, start=0, total=config.iterations, progress=progress,
                   desc=config.algorithm,
                   postfix=lambda row: ({"ll": f"{row['log_likelihood']:.3f}",
                                         "kl": f"{row['kl']:.3f}"} if row else {}))
    all_starts = torch.arange(mdp.num_states)
    run.cost = cost.table.detach().clone()
    run.policy = policy.probabilities()
    run.log_z = log_z_model(all_starts).detach().clone()
    run.seconds = time.perf_counter() - t0
    return run
