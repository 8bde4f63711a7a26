r"""GAIL (Ho and Ermon 2016): the discriminator without the cost structure, as a baseline.

The discriminator is any function $f(x, u)$ with $D = \sigma(f)$, trained by the same binary
cross-entropy as the others (`irlgan.losses.discriminator_loss` with cost $-f$, $\log q = 0$ and
$\log Z = 0$): nothing ties $f$ to a cost, a partition function or the sampler's density, so at
the optimum $f = \log p(x, u) - \log q(x, u)$, which is zero once the policy imitates. The
generator's reward is $\log D - \log(1 - D) = f$ (``"logit"``, the only reward kind) with entropy
weight $\alpha$. It is the point of comparison of the peer libraries, and a policy-imitation method:
its reward is not meant to transfer.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irlgan import losses
from irlgan.algorithms._trainer import (
    AdversarialConfig,
    AdversarialTrainer,
    Transitions,
    register,
)

__all__ = ["GAIL", "TransitionLogit"]


class TransitionLogit(nn.Module):
    """GAIL's default discriminator logit f(x, u) (or f(x) with `state_only`), an MLP.

    Args:
        obs_dim, act_dim: the widths.
        hidden: hidden widths.
        state_only: f depends on x only.
        generator: torch generator of the initialisation.
        obs_slice: ``(start, stop)``: f sees those observation components only (None: all).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (64, 64),
                 state_only: bool = False, generator: torch.Generator | None = None,
                 obs_slice: tuple[int, int] | None = None) -> None:
        super().__init__()
        from irlgan.models import MLPCost

        self.f = MLPCost(obs_dim, act_dim, hidden, state_only, generator, obs_slice)

    def forward(self, obs: Tensor, act: Tensor, next_obs: Tensor, terminated: Tensor) -> Tensor:
        """f(x, u): [..., d] -> [...]."""
        return self.f(obs, act)


@register
class GAIL(AdversarialTrainer):
    """Generative adversarial imitation learning on `irlgan.AdversarialTrainer` (see the module
    docstring). A user's `reward_net` maps ``(obs, act, next_obs, terminated) -> logit``."""

    name = "gail"
    discriminates = "transitions"
    reward_kinds = ("logit",)

    @classmethod
    def build_discriminator(cls, obs_dim: int, act_dim: int, config: AdversarialConfig,
                            reward_net: nn.Module | None,
                            generator: torch.Generator | None) -> nn.ModuleDict:
        if reward_net is None:
            reward_net = TransitionLogit(obs_dim, act_dim, config.hidden, config.state_only,
                                         generator, config.reward_obs)
        return nn.ModuleDict({"reward_net": reward_net})

    def discriminator_loss(self, data: Transitions, gen: Transitions):
        net = self.discriminator["reward_net"]
        f_data = net(data.obs, data.act, data.next_obs, data.terminated)
        f_gen = net(gen.obs, gen.act, gen.next_obs, gen.terminated)
        zero_d, zero_g = torch.zeros_like(f_data), torch.zeros_like(f_gen)
        loss = losses.discriminator_loss(-f_data, zero_d, -f_gen, zero_g, 0.0)
        return loss, f_data, f_gen, {}

    @classmethod
    def learned_reward(cls, modules: nn.ModuleDict, obs: Tensor, act: Tensor, next_obs: Tensor,
                       terminated: Tensor, kind: str) -> Tensor:
        return modules["reward_net"](obs, act, next_obs, terminated)
