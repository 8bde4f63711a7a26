r"""Gaussian and tanh-Gaussian policies for continuous actions, with exact log-densities.

Both policies map an observation batch [B, d_obs] to a distribution over actions [B, d_act]
through an MLP for the mean and a learned log standard deviation (one per action dimension,
independent of the state, as is usual for on-policy updates).

`TanhGaussianPolicy` squashes a Gaussian variable $z$ into the box $[\text{low}, \text{high}]$:

$$u = m + s \tanh z, \qquad m = \tfrac12(\text{high} + \text{low}),\; s = \tfrac12(\text{high} -
\text{low}),$$

so its density is exact, the change of variables included:

$$\log \pi(u \mid x) = \log \mathcal N(z; \mu(x), \sigma^2) - \sum_i \log\big(s_i\,(1 -
\tanh^2 z_i)\big), \qquad z = \operatorname{atanh}\big((u - m)/s\big).$$

The log-Jacobian uses $\log(1 - \tanh^2 z) = 2(\log 2 - z - \operatorname{softplus}(-2z))$,
which stays finite for large $|z|$. The trajectory log-density of the design page
(`docs/design.md`), $\log q(\tau) = \sum_t \log \pi(u_t \mid x_t)$, is `trajectory_log_prob`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.distributions import (
    AffineTransform,
    Distribution,
    Independent,
    Normal,
    TanhTransform,
    TransformedDistribution,
)

__all__ = ["GaussianPolicy", "TanhGaussianPolicy", "mlp", "trajectory_log_prob"]

_LOG_STD_MIN = -5.0
_LOG_STD_MAX = 2.0


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (64, 64),
    activation: type[nn.Module] = nn.Tanh,
    out_gain: float = 1.0,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """A multilayer perceptron with orthogonal initialisation and zero biases.

    Args:
        in_dim: input width.
        out_dim: output width.
        hidden: widths of the hidden layers.
        activation: the nonlinearity between layers.
        out_gain: gain of the orthogonal initialisation of the last layer (small values start
            a policy near its mean action).
        generator: the torch generator of the initialisation (torch's global one when None).

    Returns:
        An `nn.Sequential` mapping [B, in_dim] to [B, out_dim].
    """
    widths = [int(in_dim), *[int(h) for h in hidden], int(out_dim)]
    if any(w < 1 for w in widths):
        raise ValueError(f"layer widths must be positive, got {widths}")
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        linear = nn.Linear(fan_in, fan_out)
        last = index == len(widths) - 2
        nn.init.orthogonal_(
            linear.weight, gain=out_gain if last else math.sqrt(2.0), generator=generator
        )
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if not last:
            layers.append(activation())
    return nn.Sequential(*layers)


def _obs_scaling(
    obs_dim: int,
    obs_low: Sequence[float] | Tensor | None,
    obs_high: Sequence[float] | Tensor | None,
) -> tuple[Tensor, Tensor]:
    """Center and half-width that map the box [obs_low, obs_high] onto [-1, 1] (identity: None)."""
    if obs_low is None and obs_high is None:
        return torch.zeros(obs_dim), torch.ones(obs_dim)
    if obs_low is None or obs_high is None:
        raise ValueError("give both obs_low and obs_high, or neither")
    low = torch.as_tensor(obs_low, dtype=torch.float32).flatten()
    high = torch.as_tensor(obs_high, dtype=torch.float32).flatten()
    if low.shape != (obs_dim,) or high.shape != (obs_dim,):
        raise ValueError(f"obs_low and obs_high must have {obs_dim} entries")
    if not (torch.isfinite(low).all() and torch.isfinite(high).all() and (high > low).all()):
        raise ValueError("obs bounds must be finite with obs_high > obs_low")
    return (high + low) / 2, (high - low) / 2


def _standard_normal(like: Tensor, generator: torch.Generator | None) -> Tensor:
    """N(0, I) noise shaped like ``like``, drawn on the generator's device (the global stream
    of ``like``'s device when None) and moved to ``like``'s, so a CPU generator serves a policy
    on any device with the same numbers."""
    device = like.device if generator is None else generator.device
    noise = torch.randn(like.shape, generator=generator, dtype=like.dtype, device=device)
    return noise.to(like.device)


def _check_obs_act(policy: nn.Module, obs: Tensor, act: Tensor | None = None) -> None:
    if obs.ndim != 2 or obs.shape[1] != policy.obs_dim:
        raise ValueError(f"obs must have shape [B, {policy.obs_dim}], got {list(obs.shape)}")
    if act is not None and (act.ndim != 2 or tuple(act.shape) != (obs.shape[0], policy.act_dim)):
        raise ValueError(
            f"act must have shape [{obs.shape[0]}, {policy.act_dim}], got {list(act.shape)}"
        )


class _GaussianHead(nn.Module):
    """What both policies share: the observation scaling, the mean network and a learned,
    state-independent log standard deviation, clamped to [_LOG_STD_MIN, _LOG_STD_MAX]."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden: Sequence[int],
        log_std_init: float,
        activation: type[nn.Module],
        generator: torch.Generator | None,
        obs_low: Sequence[float] | Tensor | None,
        obs_high: Sequence[float] | Tensor | None,
    ) -> None:
        super().__init__()
        if int(obs_dim) < 1 or int(act_dim) < 1:
            raise ValueError(f"obs_dim and act_dim must be positive, got {obs_dim}, {act_dim}")
        self.obs_dim = int(obs_dim)
        self.act_dim = int(act_dim)
        center, half_width = _obs_scaling(self.obs_dim, obs_low, obs_high)
        self.register_buffer("obs_center", center)
        self.register_buffer("obs_half_width", half_width)
        self.mean_net = mlp(
            self.obs_dim, self.act_dim, hidden, activation, out_gain=0.01, generator=generator
        )
        self.log_std = nn.Parameter(torch.full((self.act_dim,), float(log_std_init)))

    def _mean_std(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        _check_obs_act(self, obs)
        mean = self.mean_net(self.normalize_obs(obs))
        log_std = self.log_std.clamp(_LOG_STD_MIN, _LOG_STD_MAX)
        return mean, log_std.exp().expand_as(mean)

    def normalize_obs(self, obs: Tensor) -> Tensor:
        """The network input: (obs - center) / half_width of the observation box, [B, d_obs]."""
        return (obs - self.obs_center.to(obs.dtype)) / self.obs_half_width.to(obs.dtype)


class GaussianPolicy(_GaussianHead):
    r"""A diagonal Gaussian policy $\pi(u \mid x) = \mathcal N(u; \mu_\phi(x), \operatorname{diag}
    \sigma^2)$ on unbounded actions.

    On a bounded action space the environment clips its actions, so the density of the action
    that is executed is not this one; prefer `TanhGaussianPolicy` there, whose entropy is bounded
    (a Gaussian's entropy bonus grows without limit as $\sigma \to \infty$).

    Args:
        obs_dim: d_obs.
        act_dim: d_act.
        hidden: hidden widths of the mean network.
        log_std_init: initial log standard deviation.
        activation: nonlinearity of the mean network.
        generator: the torch generator of the initialisation (torch's global one when None).
        obs_low: with `obs_high`, a box that `normalize_obs` maps onto [-1, 1] before the
            network (a fixed input scaling, stored as buffers); no scaling when None.
        obs_high: see `obs_low`.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden: Sequence[int] = (64, 64),
        log_std_init: float = 0.0,
        activation: type[nn.Module] = nn.Tanh,
        generator: torch.Generator | None = None,
        obs_low: Sequence[float] | Tensor | None = None,
        obs_high: Sequence[float] | Tensor | None = None,
    ) -> None:
        super().__init__(obs_dim, act_dim, hidden, log_std_init, activation, generator,
                         obs_low, obs_high)

    def distribution(self, obs: Tensor) -> Distribution:
        """The action distribution, batch shape [B], event shape [d_act]."""
        mean, std = self._mean_std(obs)
        return Independent(Normal(mean, std), 1)

    def log_prob(self, obs: Tensor, act: Tensor) -> Tensor:
        """log pi(act | obs): obs [B, d_obs], act [B, d_act] -> [B]."""
        _check_obs_act(self, obs, act)
        mean, std = self._mean_std(obs)
        log_std = std.log()
        standard = (act - mean) / std
        return (-0.5 * standard.square() - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    def sample(
        self, obs: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Draws actions and their log-densities: obs [B, d_obs] -> ([B, d_act], [B])."""
        mean, std = self._mean_std(obs)
        noise = _standard_normal(mean, generator)
        act = mean + std * noise
        log_prob = (-0.5 * noise.square() - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
        return act, log_prob

    def mode(self, obs: Tensor) -> Tensor:
        """The most likely action, the mean: obs [B, d_obs] -> [B, d_act]."""
        return self._mean_std(obs)[0]

    def entropy_bound(self) -> float:
        """Not bounded for a Gaussian: returns inf."""
        return math.inf


def _log_one_minus_tanh_sq(z: Tensor) -> Tensor:
    """log(1 - tanh(z)^2), finite for every z."""
    return 2.0 * (math.log(2.0) - z - nn.functional.softplus(-2.0 * z))


class TanhGaussianPolicy(_GaussianHead):
    r"""A Gaussian squashed by tanh and rescaled to the box [action_low, action_high].

    Args:
        obs_dim: d_obs.
        act_dim: d_act.
        action_low: lower bounds, a float or a sequence of d_act floats.
        action_high: upper bounds, likewise; strictly above `action_low`.
        hidden: hidden widths of the mean network.
        log_std_init: initial log standard deviation of the Gaussian before the tanh.
        activation: nonlinearity of the mean network.
        generator: the torch generator of the initialisation (torch's global one when None).
        obs_low: with `obs_high`, a box that `normalize_obs` maps onto [-1, 1] before the
            network (a fixed input scaling, stored as buffers); no scaling when None.
        obs_high: see `obs_low`.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        action_low: float | Sequence[float] | Tensor,
        action_high: float | Sequence[float] | Tensor,
        hidden: Sequence[int] = (64, 64),
        log_std_init: float = 0.0,
        activation: type[nn.Module] = nn.Tanh,
        generator: torch.Generator | None = None,
        obs_low: Sequence[float] | Tensor | None = None,
        obs_high: Sequence[float] | Tensor | None = None,
    ) -> None:
        super().__init__(obs_dim, act_dim, hidden, log_std_init, activation, generator,
                         obs_low, obs_high)
        low = torch.as_tensor(action_low, dtype=torch.float32).flatten()
        high = torch.as_tensor(action_high, dtype=torch.float32).flatten()
        low = low.expand(self.act_dim).clone() if low.numel() == 1 else low
        high = high.expand(self.act_dim).clone() if high.numel() == 1 else high
        if low.shape != (self.act_dim,) or high.shape != (self.act_dim,):
            raise ValueError(
                f"action_low and action_high must be scalars or have {self.act_dim} entries"
            )
        if not (torch.isfinite(low).all() and torch.isfinite(high).all() and (high > low).all()):
            raise ValueError("action bounds must be finite with action_high > action_low")
        self.register_buffer("action_center", (high + low) / 2)
        self.register_buffer("action_scale", (high - low) / 2)

    def _scale(self, like: Tensor) -> tuple[Tensor, Tensor]:
        return self.action_center.to(like.dtype), self.action_scale.to(like.dtype)

    def distribution(self, obs: Tensor) -> Distribution:
        """The action distribution (a `TransformedDistribution`), batch [B], event [d_act]."""
        mean, std = self._mean_std(obs)
        center, scale = self._scale(mean)
        base = Independent(Normal(mean, std), 1)
        transforms = [TanhTransform(cache_size=1), AffineTransform(center, scale, event_dim=1)]
        return TransformedDistribution(base, transforms)

    def _log_prob_pre_tanh(self, mean: Tensor, std: Tensor, z: Tensor) -> Tensor:
        _, scale = self._scale(mean)
        standard = (z - mean) / std
        gaussian = -0.5 * standard.square() - std.log() - 0.5 * math.log(2 * math.pi)
        return (gaussian - _log_one_minus_tanh_sq(z) - scale.log()).sum(-1)

    def log_prob(self, obs: Tensor, act: Tensor) -> Tensor:
        """log pi(act | obs), exact (tanh and rescale Jacobians): [B, d_obs], [B, d_act] -> [B].

        Actions on or beyond the bounds are moved inside by four machine epsilons (relative to
        the half-width) before the atanh, which caps |z| near 7.6 in float32 and 17.7 in float64.
        """
        _check_obs_act(self, obs, act)
        mean, std = self._mean_std(obs)
        center, scale = self._scale(mean)
        eps = 4 * torch.finfo(mean.dtype).eps
        unit = ((act - center) / scale).clamp(-1 + eps, 1 - eps)
        return self._log_prob_pre_tanh(mean, std, torch.atanh(unit))

    def sample(
        self, obs: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """Draws actions and their exact log-densities: obs [B, d_obs] -> ([B, d_act], [B]).

        The log-density is computed from the pre-tanh sample, so no atanh is needed.
        """
        mean, std = self._mean_std(obs)
        noise = _standard_normal(mean, generator)
        z = mean + std * noise
        center, scale = self._scale(mean)
        act = center + scale * torch.tanh(z)
        return act, self._log_prob_pre_tanh(mean, std, z)

    def mode(self, obs: Tensor) -> Tensor:
        """The squashed mean, center + scale * tanh(mu(obs)): [B, d_obs] -> [B, d_act].

        (The density's maximiser differs slightly; this is the usual deterministic action.)
        """
        mean, _ = self._mean_std(obs)
        center, scale = self._scale(mean)
        return center + scale * torch.tanh(mean)

    def entropy_bound(self) -> float:
        """The largest possible entropy per step, that of the uniform density on the box."""
        return float(torch.log(2 * self.action_scale).sum())


def trajectory_log_prob(policy: nn.Module, obs: Tensor, act: Tensor, mask: Tensor | None = None
                        ) -> Tensor:
    r"""$\log q(\tau) = \sum_t m_t \log \pi(u_t \mid x_t)$ for a batch of trajectories.

    Args:
        policy: any policy with `log_prob(obs [B, d_obs], act [B, d_act]) -> [B]`.
        obs: observations [N, T, d_obs] or [N, T+1, d_obs] (the last one is then ignored).
        act: actions [N, T, d_act].
        mask: optional [N, T], 1 for real steps and 0 for padding (bool or float).

    Returns:
        Tensor[N], the masked sums.
    """
    if act.ndim != 3 or obs.ndim != 3 or obs.shape[0] != act.shape[0]:
        raise ValueError(
            f"obs must be [N, T(+1), d_obs] and act [N, T, d_act], got {list(obs.shape)} "
            f"and {list(act.shape)}"
        )
    count, horizon = act.shape[:2]
    if obs.shape[1] not in (horizon, horizon + 1):
        raise ValueError(f"obs must have {horizon} or {horizon + 1} steps, got {obs.shape[1]}")
    flat = policy.log_prob(
        obs[:, :horizon].reshape(count * horizon, -1), act.reshape(count * horizon, -1)
    ).reshape(count, horizon)
    if mask is None:
        return flat.sum(-1)
    if tuple(mask.shape) != (count, horizon):
        raise ValueError(f"mask must have shape [{count}, {horizon}], got {list(mask.shape)}")
    # where() rather than a product: padded steps may hold any values, even non-finite densities
    return torch.where(mask.bool(), flat, torch.zeros_like(flat)).sum(-1)
