r"""Guided cost learning (GCL) on continuous control: importance-sampled log-likelihood.

The cost minimises $L_\text{cost} = \mathbb{E}_p[\tilde c] + \log\hat Z$ where $\hat Z$ is the
importance-sampling estimate with the proposal $\tilde\mu = \tfrac12 e^{-\tilde c}/Z +
\tfrac12 q$ over the batch of $\tfrac12$ demonstrations and $\tfrac12$ buffered samples, $q$ the
mixture density of the past generator snapshots (`irlgan.algorithms.EpisodeBuffer`), and $Z$
the self-consistent value (`irlgan.losses.optimal_log_z`); all of it is `gcl_cost_loss`.

Random starts: the cost seen by the estimator is $\tilde c(\tau) = c(\tau) + b_\phi(x_0)$ with a
learned start term $b_\phi$ (`irlgan.models.MLPLogZ`). The model $e^{-\tilde c}/Z$ then has a free
start marginal; maximising the likelihood matches it to the data's, which sets
$b_\phi(x_0) = \log Z(x_0) + \text{const}$: the conditional model $e^{-c}/Z(x_0)$. The generator
sees only $-c$ per step (a function of the start alone does not change the optimal policy).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irlgan import losses
from irlgan.algorithms._adversarial import TrajectoryBatch, gcl_cost_loss
from irlgan.algorithms._trainer import (
    AdversarialConfig,
    AdversarialTrainer,
    Episodes,
    register,
)
from irlgan.algorithms.gan_gcl import build_log_z, default_cost, episode_cost, log_pull
from irlgan.protocols import Cost

__all__ = ["GCL", "gcl_loss"]


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


# ----------------------------------------------------------------------------------------------
# The algorithm object
# ----------------------------------------------------------------------------------------------


@register
class GCL(AdversarialTrainer):
    r"""Guided cost learning (Finn, Levine, Abbeel 2016) on `irlgan.AdversarialTrainer`.

    The cost minimises $\mathbb E_p[\tilde c] + \log\hat Z$ at the self-consistent $Z$, with
    $\tilde c(\tau) = c(\tau) + b(x_0)$ and a learned start term $b$ when `log_z` is
    ``"initial_state"`` (`gcl_loss`). The generator's reward is $-c(x, u)$ (``"cost"``). A user's
    `reward_net` is the per-step cost ``cost(obs, act) -> [...]``.
    """

    name = "gcl"
    discriminates = "episodes"
    reward_kinds = ("cost",)
    reward_net_protocol = Cost

    @classmethod
    def build_discriminator(cls, obs_dim: int, act_dim: int, config: AdversarialConfig,
                            reward_net: nn.Module | None,
                            generator: torch.Generator | None) -> nn.ModuleDict:
        if reward_net is None:
            reward_net = default_cost(obs_dim, act_dim, config, generator)
        modules = {"cost": reward_net}
        if config.log_z == "initial_state":
            modules["start_term"] = build_log_z(obs_dim, config, generator)
        return nn.ModuleDict(modules)

    def discriminator_loss(self, data: Episodes, gen: Episodes):
        cost = self.discriminator["cost"]
        c_d, c_g = episode_cost(cost, data.batch), episode_cost(cost, gen.batch)
        if "start_term" in self.discriminator:
            start = self.discriminator["start_term"]
            c_d = c_d + start(data.batch.obs[:, 0])
            c_g = c_g + start(gen.batch.obs[:, 0])
        lq_d, lq_g = data.log_q.to(c_d.dtype), gen.log_q.to(c_g.dtype)
        loss, log_z = gcl_cost_loss(c_d, lq_d, c_g, lq_g, normalize=self.config.gcl_normalize)
        lz = log_z[-1]
        pull = log_pull((-c_d - lz - lq_d).detach())
        # how many of the batch's trajectories the importance estimate really rests on
        at = (c_d.detach(), lq_d, c_g.detach(), lq_g, c_d.new_tensor(lz))
        ess, ess_gen = losses.importance_ess(*at), losses.importance_ess(*at, part="gen")
        return loss, -c_d - lz - lq_d, -c_g - lz - lq_g, {
            "log_z": lz, "ess": float(ess), "ess_fraction": float(ess) / (len(c_d) + len(c_g)),
            "ess_gen": float(ess_gen), "log_z_gap": 0.0, "ess_gen_solved": float(ess_gen),
            "log_push_pull": 0.0, "log_pull": pull}

    @classmethod
    def learned_reward(cls, modules: nn.ModuleDict, obs: Tensor, act: Tensor, next_obs: Tensor,
                       terminated: Tensor, kind: str) -> Tensor:
        return -modules["cost"](obs, act)
