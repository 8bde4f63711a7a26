r"""Adversarial inverse RL (AIRL, Fu et al. 2018): a per-step discriminator with shaping.

For a transition $(x, u, x')$ the discriminator logit is

$$ \ell = f(x, u, x') - \log\pi(u \mid x), \qquad f = g(x) + \gamma h(x') - h(x), $$

the GAN-GCL logit of a single step with cost $c = -f$, $\log Z = 0$ (the shaping term takes the
place of a partition function: $h$ absorbs the soft value) and $\log q = \log\pi$ of the current
generator. The loss is `irlgan.losses.discriminator_loss` on those numbers. The generator's
reward is $\log D - \log(1 - D) = \ell = f - \log\pi$ per step, with the same $\log\pi$ as
the discriminator's (`entropy_in_reward`): the trainer gives the generator
$f - \alpha\log\pi$ (`airl_reward`; $\alpha$ is `AdversarialConfig.entropy_weight`, 1 is
exactly $\ell$, $\alpha < 1$ a colder generator) and entropy weight 0. The discriminator keeps the
actual $\log\pi$, so its optimum for $f$ does not depend on $\alpha$.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from irlgan import losses
from irlgan.algorithms._trainer import (
    AdversarialConfig,
    AdversarialTrainer,
    Transitions,
    register,
)

__all__ = ["AIRL", "AbsorbingReward", "absorbing_discriminator_loss", "airl_discriminator_loss",
           "airl_logit", "airl_reward"]


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


# ----------------------------------------------------------------------------------------------
# The algorithm object
# ----------------------------------------------------------------------------------------------


class AbsorbingReward(nn.Module):
    r"""The reward f_abs of the absorbing state that terminated episodes go on in, and the value
    gamma / (1 - gamma) f_abs of staying there from the next step on.

    f_abs is not trained by gradient steps: it is a scalar whose optimum under the
    discriminator's loss is known in closed form, log(s_p / s_q) (`absorbing_discriminator_loss`),
    so every discriminator update sets it there (`set_from_counts`), from the absorbing state's
    counts on each side with half a pseudo-count added to each (finite when a side never
    terminates). An Adam-trained scalar moves by about the learning rate a step: at 3e-4 it had
    reached -0.16 after 500,000 Hopper steps while the generator's per-step reward fell below -5.
    """

    PSEUDO_COUNT = 0.5
    """Added to each side's count of absorbing transitions (and twice to its total)."""

    def __init__(self, gamma: float, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if not 0.0 <= gamma < 1.0:
            raise ValueError(f"gamma must be in [0, 1), got {gamma}")
        self.gamma = float(gamma)
        self.register_buffer("value", torch.zeros((), dtype=dtype))

    @classmethod
    def log_share_ratio(cls, absorbing_data: float, transitions_data: float,
                        absorbing_gen: float, transitions_gen: float) -> float:
        r"""log(s_p / s_q) from counts: s = (n_abs + 1/2) / (n + n_abs + 1) on each side, with
        n_abs absorbing transitions (one per termination) beside n ordinary ones."""
        counts = (absorbing_data, transitions_data, absorbing_gen, transitions_gen)
        if any(not math.isfinite(c) or c < 0 for c in counts):
            raise ValueError(f"counts must be finite and >= 0, got {counts}")
        c = cls.PSEUDO_COUNT
        share_data = (absorbing_data + c) / (transitions_data + absorbing_data + 2 * c)
        share_gen = (absorbing_gen + c) / (transitions_gen + absorbing_gen + 2 * c)
        return math.log(share_data) - math.log(share_gen)

    @torch.no_grad()
    def set_from_counts(self, absorbing_data: float, transitions_data: float,
                        absorbing_gen: float, transitions_gen: float) -> float:
        """Sets f_abs to `log_share_ratio` of the counts; returns it."""
        value = self.log_share_ratio(absorbing_data, transitions_data, absorbing_gen,
                                     transitions_gen)
        self.value.fill_(value)
        return value

    def continuation(self, terminated: Tensor, like: Tensor) -> Tensor:
        """gamma / (1 - gamma) f_abs where `terminated`, else 0: Tensor shaped as `like`."""
        scale = self.gamma / (1.0 - self.gamma)
        return terminated.to(like.dtype) * (scale * self.value.to(like.dtype))


def absorbing_discriminator_loss(logit_data: Tensor, logit_gen: Tensor, f_abs: Tensor,
                                 share_data: float, share_gen: float) -> Tensor:
    r"""AIRL's binary cross-entropy with the absorbing state as one more sample on each side.

    $$ (1 - s_p)\,\mathbb{E}_p[\operatorname{softplus}(-\ell)]
       + s_p \operatorname{softplus}(-f_\text{abs})
       + (1 - s_q)\,\mathbb{E}_q[\operatorname{softplus}(\ell)]
       + s_q \operatorname{softplus}(f_\text{abs}), $$

    with $s_p, s_q$ the absorbing state's shares of each side's transitions and its logit
    $f_\text{abs} - \log\pi$ with $\log\pi = 0$ there (no action is taken). Its optimum in
    $f_\text{abs}$ is $\log(s_p / s_q)$.
    """
    soft = torch.nn.functional.softplus
    return ((1 - share_data) * soft(-logit_data, threshold=50.0).mean()
            + share_data * soft(-f_abs, threshold=50.0)
            + (1 - share_gen) * soft(logit_gen, threshold=50.0).mean()
            + share_gen * soft(f_abs, threshold=50.0))


@register
class AIRL(AdversarialTrainer):
    r"""Adversarial inverse RL (Fu, Luo, Levine 2018) on `irlgan.AdversarialTrainer`.

    The discriminator compares transitions with the logit $f(x, u, x') - \log\pi(u \mid x)$ and
    $f = g + \gamma h(x') - h(x)$ (`irlgan.models.ShapedReward`; $\gamma$ is the generator's
    discount, `AdversarialConfig.discount`). Rewards (`reward_kinds`): ``"f"``, the shaped
    $f(x, u, x')$ the generator is trained on; ``"g"``, the reward term $g(x)$ (or $g(x, u)$)
    without the shaping: the one to hand to a learner in changed dynamics (state-only g is what
    AIRL proves disentangled; set `state_only=True`). A user's `reward_net` maps
    ``(obs, act, next_obs, terminated) -> f`` and may offer ``reward(obs, act) -> g``.
    """

    name = "airl"
    discriminates = "transitions"
    reward_kinds = ("f", "g")
    transfer_reward_kind = "g"
    entropy_in_reward = True
    supports_absorbing = True

    @classmethod
    def build_discriminator(cls, obs_dim: int, act_dim: int, config: AdversarialConfig,
                            reward_net: nn.Module | None,
                            generator: torch.Generator | None) -> nn.ModuleDict:
        from irlgan.models import ShapedReward

        if reward_net is None:
            reward_net = ShapedReward(obs_dim, act_dim, config.discount, config.hidden,
                                      config.state_only, generator, config.reward_obs)
        gamma = getattr(reward_net, "gamma", None)
        if gamma is not None and abs(float(gamma) - config.discount) > 1e-12:
            raise ValueError(f"reward_net shapes with gamma={gamma}, the generator discounts with "
                             f"{config.discount}: AIRL's shaping needs the generator's discount")
        modules = {"reward_net": reward_net}
        if config.absorbing:
            dtype = next(iter(reward_net.parameters()), torch.zeros(())).dtype
            modules["absorbing"] = AbsorbingReward(config.discount, dtype)
        return nn.ModuleDict(modules)

    def discriminator_loss(self, data: Transitions, gen: Transitions):
        net = self.discriminator["reward_net"]
        f_data = net(data.obs, data.act, data.next_obs, data.terminated)
        f_gen = net(gen.obs, gen.act, gen.next_obs, gen.terminated)
        lq_d, lq_g = data.log_q.to(f_data.dtype), gen.log_q.to(f_gen.dtype)
        if "absorbing" not in self.discriminator:
            loss = losses.discriminator_loss(-f_data, lq_d, -f_gen, lq_g, 0.0)
            return loss, f_data - lq_d, f_gen - lq_g, {}
        f_abs = self.discriminator["absorbing"].value
        share_d, share_g = self.absorbing_shares
        loss = absorbing_discriminator_loss(f_data - lq_d, f_gen - lq_g, f_abs, share_d, share_g)
        return loss, f_data - lq_d, f_gen - lq_g, {"absorbing_reward": float(f_abs.detach())}

    @classmethod
    def learned_reward(cls, modules: nn.ModuleDict, obs: Tensor, act: Tensor, next_obs: Tensor,
                       terminated: Tensor, kind: str) -> Tensor:
        net = modules["reward_net"]
        if kind == "f":
            value = net(obs, act, next_obs, terminated)
        elif not callable(getattr(net, "reward", None)):
            raise ValueError(f"reward kind 'g' needs reward_net.reward(obs, act); "
                             f"{type(net).__name__} has none")
        else:
            value = net.reward(obs, act)
        if "absorbing" in modules:  # a terminating step is worth staying in the absorbing state
            value = value + modules["absorbing"].continuation(terminated, value)
        return value
