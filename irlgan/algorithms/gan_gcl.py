r"""GAN-GCL on continuous control: a trajectory discriminator and a MaxEnt-RL generator.

The discriminator sees whole episodes. For an episode $\tau$ with start $x_0$,

$$ \ell(\tau) = -c_\theta(\tau) - \log Z_\phi(x_0) - \log q(\tau), \qquad
   c_\theta(\tau) = \sum_t c_\theta(x_t, u_t), $$

where $\log q$ is the density of the mixture of the generator snapshots whose episodes fill the
buffer, each step scored under the policy that took it (`irlgan.algorithms.EpisodeBuffer`),
evaluated at demonstrations and samples alike, and
$\log Z_\phi(x_0)$ is a learned function of the start (`irlgan.models.MLPLogZ`): with random
starts the model is $e^{-c}/Z(x_0)$ and a scalar would be biased. The cost and $\log Z$ minimise
`irlgan.losses.discriminator_loss`; the generator maximises $\sum_t -c_\theta(x_t, u_t)$ plus an
entropy bonus of weight $\alpha$: with $\alpha = 1$ identity (c) holds,
$L_\text{gen} = L_\text{sampler} + \log Z$; $\alpha < 1$ (`AdversarialConfig.entropy_weight`)
aims the generator at the colder $e^{-c/\alpha}$ while the discriminator, which uses the sampler's
actual $\log q$, keeps the same optimum $-c - \log Z = \log p_\text{data}$.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irlgan import losses
from irlgan.algorithms._adversarial import TrajectoryBatch, gan_gcl_cost_loss
from irlgan.algorithms._trainer import (
    AdversarialConfig,
    AdversarialTrainer,
    Episodes,
    register,
)
from irlgan.protocols import Cost

__all__ = [
    "GANGCL", "episode_cost", "gan_gcl_discriminator_loss", "gan_gcl_logit", "gan_gcl_reward",
    "log_pull", "log_push_pull", "log_z_gap",
]


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


# ----------------------------------------------------------------------------------------------
# The algorithm object
# ----------------------------------------------------------------------------------------------


def log_z_gap(cost_data: Tensor, log_q_data: Tensor, cost_gen: Tensor,
              log_q_gen: Tensor) -> tuple[float, float]:
    r"""How far a learned log Z is from the one at which GAN-GCL's step is GCL's step.

    Given the episode costs with the learned $\log Z_\phi(x_0)$ already added,
    $\tilde c = c + \log Z_\phi(x_0)$, it returns $\delta$, the self-consistent scalar log
    Ẑ of $\tilde c$ on the batch (`irlgan.losses.optimal_log_z`), and the effective number of
    generated episodes the cost step would rest on at $\log Z_\phi + \delta$
    (`irlgan.losses.importance_ess`, ``part="gen"``). At $\log Z_\phi(x_0) + \delta$ the
    gradient of the discriminator loss in the cost's parameters is GCL's gradient on the same
    batch with start term $\log Z_\phi$ (identity (b)), so $\delta = 0$ means the learned log Z
    is where GCL would put it; $\delta > 0$ means it sits below that, and more generated
    episodes have $D > \tfrac12$, each weighted at most 1 by the sigmoid.

    Args:
        cost_data, log_q_data: Tensor[N], demonstrations (no gradient needed).
        cost_gen, log_q_gen: Tensor[M], the buffer's episodes.

    Returns:
        (delta, ess_gen) as floats.
    """
    delta = losses.optimal_log_z(cost_data, log_q_data, cost_gen, log_q_gen)
    ess_gen = losses.importance_ess(cost_data, log_q_data, cost_gen, log_q_gen,
                                    cost_data.new_tensor(float(delta)), part="gen")
    return float(delta), float(ess_gen)


def log_pull(logit_data: Tensor) -> float:
    r"""$\log\mathbb E_p[1 - D]$: the total weight of the discriminator step's pull down on the
    demonstrations' costs (0 when it pulls on every one at full weight; on a batch separated by
    tens of nats at the optimal log Z, minus tens of nats: the step vanishes). The push on the
    samples is this plus `log_push_pull`.

    Args:
        logit_data: Tensor[N], the logits $\ell$ of the demonstrations.
    """
    import math

    import torch.nn.functional as F

    return float(torch.logsumexp(F.logsigmoid(-logit_data), 0) - math.log(logit_data.numel()))


def log_push_pull(logit_data: Tensor, logit_gen: Tensor) -> float:
    r"""$\log(\mathbb E_q[D] / \mathbb E_p[1 - D])$: the discriminator step's push up on the
    samples' costs over its pull down on the demonstrations' (the total weights of the two
    sides of its gradient in the costs).

    It is 0 exactly at the optimal log Z (identity (a): $\partial L_\text{disc}/\partial\log Z
    = \mathbb E_p[1 - D] - \mathbb E_q[D]$), where GCL's step has it too, and it has the sign of
    `log_z_gap`. Once the discriminator separates the batch, a log Z off by $\delta$ scales the
    two sides by about $e^{\pm\delta}$ each, leaving the weights within each side as they were:
    the step becomes mostly a pull ($\delta < 0$) or mostly a push ($\delta > 0$).

    Args:
        logit_data, logit_gen: Tensor[N], Tensor[M], the logits $\ell$ of the batch.
    """
    import math

    import torch.nn.functional as F

    push = torch.logsumexp(F.logsigmoid(logit_gen), 0) - math.log(logit_gen.numel())
    return float(push) - log_pull(logit_data)


def episode_cost(cost: nn.Module, episodes: TrajectoryBatch) -> Tensor:
    r"""$c(\tau) = \sum_t m_t c(x_t, u_t)$ of each episode, Tensor[B], for any per-step cost."""
    from irlgan.models import masked_sum

    steps = episodes.act.shape[1]
    return masked_sum(cost(episodes.obs[:, :steps], episodes.act), episodes.mask)


def default_cost(obs_dim: int, act_dim: int, config: AdversarialConfig,
                 generator: torch.Generator | None) -> nn.Module:
    """The default per-step cost of GAN-GCL and GCL: an MLP of `config.hidden` (c(x) with
    `config.state_only`)."""
    from irlgan.models import MLPCost

    return MLPCost(obs_dim, act_dim, config.hidden, config.state_only, generator,
                   config.reward_obs)


def build_log_z(obs_dim: int, config: AdversarialConfig,
                generator: torch.Generator | None) -> nn.Module:
    """log Z(x_0) (or, with `config.log_z == "scalar"`, a constant whose slope is frozen)."""
    from irlgan.models import MLPLogZ

    scalar = config.log_z == "scalar"
    log_z = MLPLogZ(obs_dim, hidden=() if scalar else (32,), generator=generator,
                    obs_slice=config.reward_obs)
    if scalar:
        log_z.net[-1].weight.requires_grad_(False)
    return log_z


@register
class GANGCL(AdversarialTrainer):
    r"""GAN-GCL (Finn, Christiano, Abbeel, Levine 2016) on `irlgan.AdversarialTrainer`.

    The discriminator compares whole episodes with the logit $-c(\tau) - \log Z(x_0) - \log
    q(\tau)$, $q$ the buffer's mixture of generator snapshots; the cost and $\log Z$ minimise
    `irlgan.losses.discriminator_loss`. The generator's reward is $-c(x, u)$ per step, the only
    reward kind (``"cost"``). A user's `reward_net` is the per-step cost
    ``cost(obs, act) -> [...]`` (`irlgan.protocols.Cost`).
    """

    name = "gan-gcl"
    discriminates = "episodes"
    reward_kinds = ("cost",)
    reward_net_protocol = Cost

    @classmethod
    def build_discriminator(cls, obs_dim: int, act_dim: int, config: AdversarialConfig,
                            reward_net: nn.Module | None,
                            generator: torch.Generator | None) -> nn.ModuleDict:
        if reward_net is None:
            reward_net = default_cost(obs_dim, act_dim, config, generator)
        return nn.ModuleDict({"cost": reward_net,
                              "log_z": build_log_z(obs_dim, config, generator)})

    def discriminator_loss(self, data: Episodes, gen: Episodes):
        cost, log_z = self.discriminator["cost"], self.discriminator["log_z"]
        c_d, c_g = episode_cost(cost, data.batch), episode_cost(cost, gen.batch)
        lz_d, lz_g = log_z(data.batch.obs[:, 0]), log_z(gen.batch.obs[:, 0])
        lq_d, lq_g = data.log_q.to(c_d.dtype), gen.log_q.to(c_g.dtype)
        loss = gan_gcl_cost_loss(c_d, lq_d, c_g, lq_g, lz_d, lz_g,
                                 normalize=self.config.gcl_normalize)
        # the same diagnostic as GCL's: the weights its cost gradient puts on the batch (at the
        # learned log Z rather than the self-consistent one)
        at = (c_d.detach(), lq_d, c_g.detach(), lq_g, (lz_d.detach(), lz_g.detach()))
        ess, ess_gen = losses.importance_ess(*at), losses.importance_ess(*at, part="gen")
        gap, ess_gen_solved = log_z_gap(c_d.detach() + lz_d.detach(), lq_d,
                                        c_g.detach() + lz_g.detach(), lq_g)
        logit_d, logit_g = -c_d - lz_d - lq_d, -c_g - lz_g - lq_g
        pull = log_pull(logit_d.detach())
        balance = log_push_pull(logit_d.detach(), logit_g.detach())
        return (loss, logit_d, logit_g,
                {"log_z": float(lz_d.detach().mean()), "ess": float(ess),
                 "ess_fraction": float(ess) / (len(c_d) + len(c_g)), "ess_gen": float(ess_gen),
                 "log_z_gap": gap, "ess_gen_solved": ess_gen_solved,
                 "log_push_pull": balance, "log_pull": pull})

    def before_first_discriminator_step(self, data: Episodes, gen: Episodes) -> None:
        """With ``log_z_init="solved"``, shifts log Z's offset to the self-consistent value on
        the batch (the shift `log_z_gap` reports); the metrics' ``log_z`` shows it."""
        if self.config.log_z_init != "solved":
            return
        cost, log_z = self.discriminator["cost"], self.discriminator["log_z"]
        with torch.no_grad():
            c_d = episode_cost(cost, data.batch) + log_z(data.batch.obs[:, 0])
            c_g = episode_cost(cost, gen.batch) + log_z(gen.batch.obs[:, 0])
            shift = losses.optimal_log_z(c_d, data.log_q.to(c_d.dtype), c_g,
                                         gen.log_q.to(c_g.dtype))
            log_z.net[-1].bias.add_(float(shift))

    @classmethod
    def learned_reward(cls, modules: nn.ModuleDict, obs: Tensor, act: Tensor, next_obs: Tensor,
                       terminated: Tensor, kind: str) -> Tensor:
        return -modules["cost"](obs, act)
