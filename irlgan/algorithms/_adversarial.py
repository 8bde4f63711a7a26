r"""The cost objectives of GAN-GCL and GCL, written once for every model class.

Both see the same batch: the demonstrations and the sample buffer's trajectories, each with its
log-density under the buffer's mixture $q$. They differ only in how $\log Z$ enters:

* GAN-GCL trains a discriminator $D = \sigma(-c - \log Z - \log q)$ with a learned $\log Z$
  (a scalar or a function of $x_0$): `irlgan.losses.discriminator_loss`.
* GCL (guided cost learning) minimises $\mathbb{E}_p[c] + \log\hat Z$, the importance-sampling
  estimate taken with the $\tfrac12$ demonstrations + $\tfrac12$ samples proposal, at the
  self-consistent $Z$ (`irlgan.losses.optimal_log_z`); with a log Z per initial state, the
  estimate is made separately for each start: $\mathbb{E}_p[c] + \sum_{x_0}\hat p(x_0)\log\hat
  Z(x_0)$.

At the optimal $\log Z$ the two have the same gradient in the cost's parameters (identity (b)).
"""

from __future__ import annotations

import torch
from torch import Tensor

from irlgan import losses


def gan_gcl_cost_loss(
    cost_data: Tensor, log_q_data: Tensor, cost_gen: Tensor, log_q_gen: Tensor,
    log_z_data: Tensor, log_z_gen: Tensor,
) -> Tensor:
    """The GAN-GCL discriminator loss with per-trajectory log Z values (Tensor[N], Tensor[M])."""
    return losses.discriminator_loss(cost_data, log_q_data, cost_gen, log_q_gen,
                                     (log_z_data, log_z_gen))


def gcl_cost_loss(
    cost_data: Tensor, log_q_data: Tensor, cost_gen: Tensor, log_q_gen: Tensor,
    start_data: Tensor | None = None, start_gen: Tensor | None = None,
) -> tuple[Tensor, dict[int, float]]:
    """The GCL objective and the self-consistent log Z it used.

    Args:
        cost_data, log_q_data: Tensor[N] for the demonstrations.
        cost_gen, log_q_gen: Tensor[M] for the buffer's samples.
        start_data, start_gen: optional initial-state ids (int Tensor[N], Tensor[M]); when given,
            log Z is estimated separately for each start state present in the demonstrations.

    Returns:
        (loss, log_z) where log_z maps each start state (or -1 for the scalar) to log Ẑ.
    """
    if start_data is None or start_gen is None:
        log_z = losses.optimal_log_z(cost_data.detach(), log_q_data, cost_gen.detach(), log_q_gen)
        loss = losses.cost_loss(cost_data, log_q_data, cost_gen, log_q_gen, log_z)
        return loss, {-1: float(log_z)}
    loss = cost_data.new_zeros(())
    log_zs: dict[int, float] = {}
    n = cost_data.shape[0]
    for s in torch.unique(start_data).tolist():
        d = start_data == s
        g = start_gen == s
        if not bool(g.any()):
            raise ValueError(f"no generated sample starts in state {s}, where demonstrations do")
        log_z = losses.optimal_log_z(cost_data[d].detach(), log_q_data[d], cost_gen[g].detach(),
                                     log_q_gen[g])
        part = losses.cost_loss(cost_data[d], log_q_data[d], cost_gen[g], log_q_gen[g], log_z)
        loss = loss + part * (int(d.sum()) / n)
        log_zs[int(s)] = float(log_z)
    return loss, log_zs
