r"""GAN-GCL on continuous control: a trajectory discriminator and a MaxEnt-RL generator.

The discriminator sees whole episodes. For an episode $\tau$ with start $x_0$,

$$ \ell(\tau) = -c_\theta(\tau) - \log Z_\phi(x_0) - \log q(\tau), \qquad
   c_\theta(\tau) = \sum_t c_\theta(x_t, u_t), $$

where $\log q$ is the density of the uniform mixture of the last $K$ generators (whose episodes
fill the buffer), evaluated at demonstrations and samples alike (`TrajectoryMixture`), and
$\log Z_\phi(x_0)$ is a learned function of the start (`irlgan.models.MLPLogZ`): with random
starts the model is $e^{-c}/Z(x_0)$ and a scalar would be biased. The cost and $\log Z$ minimise
`irlgan.losses.discriminator_loss`; the generator maximises $\sum_t -c_\theta(x_t, u_t)$ plus an
entropy bonus of weight $\alpha$: with $\alpha = 1$ identity (c) holds,
$L_\text{gen} = L_\text{sampler} + \log Z$; $\alpha < 1$ (`ControlConfig.entropy_weight`) aims the
generator at the colder $e^{-c/\alpha}$ while the discriminator, which uses the sampler's actual
$\log q$, keeps the same optimum $-c - \log Z = \log p_\text{data}$.
"""

from __future__ import annotations

from torch import Tensor, nn

from irlgan.algorithms._adversarial import TrajectoryBatch, gan_gcl_cost_loss

__all__ = ["gan_gcl_discriminator_loss", "gan_gcl_logit", "gan_gcl_reward"]


def gan_gcl_logit(cost: nn.Module, log_z: nn.Module, episodes: TrajectoryBatch,
                  log_q: Tensor) -> Tensor:
    r"""$\ell = -c(\tau) - \log Z(x_0) - \log q(\tau)$ per episode, Tensor[B]."""
    from irlgan import losses

    c = cost.trajectory_cost(episodes.obs, episodes.act, episodes.mask)
    return losses.discriminator_logit(c, log_q.to(c.dtype), log_z(episodes.obs[:, 0]))


def gan_gcl_discriminator_loss(cost: nn.Module, log_z: nn.Module, data: TrajectoryBatch,
                               log_q_data: Tensor, gen: TrajectoryBatch,
                               log_q_gen: Tensor) -> Tensor:
    """The discriminator loss on demonstrations and the buffer's episodes.

    Args:
        cost: an `irlgan.models.MLPCost`.
        log_z: an `irlgan.models.MLPLogZ` (or any module mapping x_0 [B, d] to [B]).
        data, gen: demonstration and generated episodes.
        log_q_data, log_q_gen: Tensor[N], Tensor[M], mixture log-densities at those episodes.

    Returns:
        0-d tensor.
    """
    c_data = cost.trajectory_cost(data.obs, data.act, data.mask)
    c_gen = cost.trajectory_cost(gen.obs, gen.act, gen.mask)
    return gan_gcl_cost_loss(c_data, log_q_data.to(c_data.dtype), c_gen,
                             log_q_gen.to(c_gen.dtype), log_z(data.obs[:, 0]),
                             log_z(gen.obs[:, 0]))


def gan_gcl_reward(cost: nn.Module, obs: Tensor, act: Tensor) -> Tensor:
    """The generator's per-step reward -c(x, u) (no gradient). Shapes: [..., d] -> [...]."""
    import torch

    with torch.no_grad():
        return -cost(obs, act)
