r"""What a module passed to an algorithm must do: the interfaces as `typing.Protocol`\ s.

Users may bring their own policy, cost, reward network or generator. The algorithm checks each one
when it is built (`check_protocol`) and names what is missing, instead of failing deep inside the
training loop. Shapes: ``obs`` is ``[B, d_obs]``, ``act`` ``[B, d_act]``, one value per row out.

* `Policy`: a stochastic policy with an exact log-density (the discriminator of every algorithm
  here uses $\log\pi$, so an approximate density would bias it).
* `Cost`: GAN-GCL's and GCL's per-step cost $c(x, u)$; the trajectory cost is its masked sum.
* `RewardNet`: AIRL's and GAIL's discriminator function $f(x, u, x')$, and the reward kept for
  transfer.
* `Generator`: the MaxEnt sampler that the discriminator's reward trains (`irlgan.rl.MaxEntPPO`,
  `irlgan.rl.SoftActorCritic`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from torch import Tensor, nn

__all__ = ["Cost", "Generator", "Policy", "RewardFn", "RewardNet", "check_protocol"]

RewardFn = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
"""reward_fn(obs [..., d_obs], act [..., d_act], next_obs [..., d_obs], terminated [...]) ->
reward [...]: the per-step reward an algorithm gives its generator, without any entropy term."""


@runtime_checkable
class Policy(Protocol):
    """A stochastic policy over a Box action space, an `nn.Module`.

    Attributes:
        obs_dim, act_dim: the widths of observations and actions.
    """

    obs_dim: int
    act_dim: int

    def sample(self, obs: Tensor, generator: Any = None) -> tuple[Tensor, Tensor]:
        """Actions and their exact log-densities: [B, d_obs] -> ([B, d_act], [B])."""

    def log_prob(self, obs: Tensor, act: Tensor) -> Tensor:
        """log pi(act | obs): [B, d_obs], [B, d_act] -> [B]."""

    def mode(self, obs: Tensor) -> Tensor:
        """The deterministic action: [B, d_obs] -> [B, d_act]."""


@runtime_checkable
class Cost(Protocol):
    """A per-step cost c(x, u), an `nn.Module`: ``cost(obs [..., d_obs], act [..., d_act]) ->
    [...]`` (a state-only cost ignores ``act``)."""

    def __call__(self, obs: Tensor, act: Tensor) -> Tensor: ...


@runtime_checkable
class RewardNet(Protocol):
    """AIRL's f(x, u, x') (GAIL's discriminator logit), an `nn.Module`."""

    def __call__(self, obs: Tensor, act: Tensor, next_obs: Tensor, terminated: Tensor) -> Tensor:
        ...


@runtime_checkable
class Generator(Protocol):
    """A MaxEnt-RL sampler trained on the algorithm's reward.

    Attributes:
        policy: the `Policy` it trains (it acts in the environments).
    """

    policy: Any

    def learn_from(self, rollout: Any, reward_fn: RewardFn, entropy_weight: float
                   ) -> dict[str, float]:
        """Improves the policy on the soft reward ``reward_fn(...) - entropy_weight * log pi``.

        Args:
            rollout: the `irlgan.rl.Rollout` just collected with the current policy.
            reward_fn: the algorithm's per-step reward; an off-policy generator calls it again
                on stored transitions (the discriminator changed since they were stored).
            entropy_weight: alpha.

        Returns:
            Metrics (floats by name).
        """

    def set_learning_rate_fraction(self, fraction: float) -> None:
        """Scales the learning rates to `fraction` of their configured values."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (weights_only-safe)."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()` output."""


_CALLABLE_CHECKS: dict[type, tuple[str, ...]] = {
    Policy: ("sample", "log_prob", "mode", "parameters", "state_dict"),
    Cost: ("__call__", "parameters", "state_dict"),
    RewardNet: ("__call__", "parameters", "state_dict"),
    Generator: ("learn_from", "set_learning_rate_fraction", "state_dict", "load_state_dict"),
}
_ATTRIBUTE_CHECKS: dict[type, tuple[str, ...]] = {
    Policy: ("obs_dim", "act_dim"),
    Generator: ("policy",),
}


def check_protocol(obj: Any, protocol: type, role: str) -> None:
    """Raises a ValueError naming every method or attribute `obj` lacks for `protocol`.

    Args:
        obj: the user's object.
        protocol: one of `Policy`, `Cost`, `RewardNet`, `Generator`.
        role: how the algorithm calls it (``"policy"``, ``"reward_net"``), for the message.
    """
    missing = [name for name in _CALLABLE_CHECKS.get(protocol, ())
               if not callable(getattr(obj, name, None))]
    missing += [name for name in _ATTRIBUTE_CHECKS.get(protocol, ()) if not hasattr(obj, name)]
    if protocol is not Generator and not isinstance(obj, nn.Module):
        missing.insert(0, "nn.Module base class")
    if missing:
        raise ValueError(f"{role} ({type(obj).__name__}) does not implement the "
                         f"{protocol.__name__} protocol: missing {', '.join(missing)}")
