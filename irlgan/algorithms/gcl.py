r"""Guided cost learning (GCL) on continuous control: importance-sampled log-likelihood.

The cost minimises $L_\text{cost} = \mathbb{E}_p[\tilde c] + \log\hat Z$ where $\hat Z$ is the
importance-sampling estimate with the proposal $\tilde\mu = \tfrac12 e^{-\tilde c}/Z +
\tfrac12 q$ over the batch of $\tfrac12$ demonstrations and $\tfrac12$ buffered samples, $q$ the
fused density of the past generators (`TrajectoryMixture`), and $Z$ the self-consistent value
(`irlgan.losses.optimal_log_z`); all of it is `gcl_cost_loss`.

Random starts: the cost seen by the estimator is $\tilde c(\tau) = c(\tau) + b_\phi(x_0)$ with a
learned start term $b_\phi$ (`irlgan.models.MLPLogZ`). The model $e^{-\tilde c}/Z$ then has a free
start marginal; maximising the likelihood matches it to the data's, which sets
$b_\phi(x_0) = \log Z(x_0) + \text{const}$: the conditional model $e^{-c}/Z(x_0)$. The generator
sees only $-c$ per step (a function of the start alone does not change the optimal policy).
"""

from __future__ import annotations

from torch import Tensor, nn

from irlgan.algorithms._adversarial import TrajectoryBatch, gcl_cost_loss

__all__ = ["gcl_loss"]


def gcl_loss(cost: nn.Module, start_term: nn.Module | None, data: TrajectoryBatch,
             log_q_data: Tensor, gen: TrajectoryBatch, log_q_gen: Tensor) -> tuple[Tensor, float]:
    """The GCL cost objective and the self-consistent log Ẑ it used.

    Args:
        cost: an `irlgan.models.MLPCost`.
        start_term: b(x_0) added to each trajectory cost, or None (a scalar log Z only).
        data, gen: demonstration and generated episodes.
        log_q_data, log_q_gen: mixture log-densities at those episodes.

    Returns:
        (loss, log_z).
    """
    c_data = cost.trajectory_cost(data.obs, data.act, data.mask)
    c_gen = cost.trajectory_cost(gen.obs, gen.act, gen.mask)
    if start_term is not None:
        c_data = c_data + start_term(data.obs[:, 0])
        c_gen = c_gen + start_term(gen.obs[:, 0])
    loss, log_z = gcl_cost_loss(c_data, log_q_data.to(c_data.dtype), c_gen,
                                log_q_gen.to(c_gen.dtype))
    return loss, log_z[-1]
