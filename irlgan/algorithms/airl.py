r"""Adversarial inverse RL (AIRL, Fu et al. 2018): a per-step discriminator with shaping.

For a transition $(x, u, x')$ the discriminator logit is

$$ \ell = f(x, u, x') - \log\pi(u \mid x), \qquad f = g(x) + \gamma h(x') - h(x), $$

the GAN-GCL logit of a single step with cost $c = -f$, $\log Z = 0$ (the shaping term takes the
place of a partition function: $h$ absorbs the soft value) and $\log q = \log\pi$ of the current
generator. The loss is `irlgan.losses.discriminator_loss` on those numbers. The generator's
reward is $\log D - \log(1 - D) = \ell = f - \log\pi$, which already holds the entropy bonus, so
MaxEnt PPO runs with entropy weight 0. `airl_reward` can weight that bonus by $\alpha$
($f - \alpha\log\pi$, a colder generator for $\alpha < 1$); the discriminator keeps the actual
$\log\pi$, so its optimum for $f$ does not change.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irlgan import losses

__all__ = ["airl_discriminator_loss", "airl_logit", "airl_reward"]


def airl_logit(reward_net: nn.Module, obs: Tensor, act: Tensor, next_obs: Tensor,
               terminated: Tensor, log_pi: Tensor) -> Tensor:
    r"""$\ell = f(x, u, x') - \log\pi(u|x)$, Tensor[M] for transitions [M, ...]."""
    f = reward_net(obs, act, next_obs, terminated)
    return losses.discriminator_logit(-f, log_pi.to(f.dtype), 0.0)


def airl_discriminator_loss(reward_net: nn.Module,
                            data: tuple[Tensor, Tensor, Tensor, Tensor], log_pi_data: Tensor,
                            gen: tuple[Tensor, Tensor, Tensor, Tensor],
                            log_pi_gen: Tensor) -> Tensor:
    """Binary cross-entropy of AIRL's discriminator.

    Args:
        reward_net: an `irlgan.models.ShapedReward`.
        data, gen: transitions (obs [M, d], act [M, k], next_obs [M, d], terminated [M]).
        log_pi_data, log_pi_gen: Tensor[M], the current generator's log π at those transitions.

    Returns:
        0-d tensor.
    """
    f_data = reward_net(*data)
    f_gen = reward_net(*gen)
    return losses.discriminator_loss(-f_data, log_pi_data.to(f_data.dtype), -f_gen,
                                     log_pi_gen.to(f_gen.dtype), 0.0)


def airl_reward(reward_net: nn.Module, obs: Tensor, act: Tensor, next_obs: Tensor,
                terminated: Tensor, log_pi: Tensor, entropy_weight: float = 1.0) -> Tensor:
    """The generator's reward f - α log π per step (no gradient); shapes [..., d] -> [...].

    α = 1 (the default) is the discriminator's logit; α < 1 aims the generator at a colder
    policy, while the discriminator keeps the actual log π and hence its optimum for f.
    """
    with torch.no_grad():
        return (reward_net(obs, act, next_obs, terminated)
                - entropy_weight * log_pi.to(torch.float32))
