r"""Neural costs for continuous control: per-step costs, trajectory sums, log Z(x_0), AIRL's f.

Shapes: ``obs`` is ``[..., d_obs]`` and ``act`` is ``[..., d_act]`` with the same leading
dimensions; a cost returns one value per leading index. Trajectories are padded to a common
length ``T`` with a ``mask`` ``[B, T]`` (1 on real steps, 0 on padding), and the trajectory cost
is $c(\tau) = \sum_t m_t\, c(x_t, u_t)$.

Initial states. Pendulum, MountainCar and the point mass all start in random states, so the
model that a trajectory discriminator compares with the sampler is conditional on the start,
$p_\theta(\tau \mid x_0) = e^{-c(\tau)}/Z(x_0)$, and a single scalar $\log Z$ is biased (see the
theory page "Initial states"). We learn $\log Z(x_0)$ as a small network, `MLPLogZ`:
GAN-GCL trains it inside the discriminator; GCL adds it to the trajectory cost, where the
likelihood objective drives it to $\log Z(x_0)$ up to the constant that the self-consistent
scalar $\log\hat Z$ absorbs. AIRL needs neither: its per-step logit has no partition function,
and its shaping term $\gamma h(x') - h(x)$ plays the same role.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "MLPLogZ",
    "MLPCost",
    "ShapedReward",
    "masked_sum",
    "mlp",
]


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int = 1,
        generator: torch.Generator | None = None) -> nn.Sequential:
    """A tanh MLP ``in_dim -> hidden... -> out_dim`` (float32).

    Weights and biases are uniform in ±1/sqrt(fan_in) (PyTorch's default scale), drawn from
    `generator` when given.

    Args:
        in_dim: input width (positive).
        hidden: widths of the hidden layers (may be empty: a linear map).
        out_dim: output width.
        generator: the torch generator of the initialisation (PyTorch's global one when None).

    Returns:
        An ``nn.Sequential``.
    """
    if in_dim < 1:
        raise ValueError(f"in_dim must be positive, got {in_dim}")
    if any(int(h) < 1 for h in hidden):
        raise ValueError(f"hidden widths must be positive, got {tuple(hidden)}")
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.Tanh()]
        width = int(h)
    layers.append(nn.Linear(width, out_dim))
    if generator is not None:
        with torch.no_grad():
            for layer in layers:
                if isinstance(layer, nn.Linear):
                    bound = layer.in_features ** -0.5
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.uniform_(-bound, bound, generator=generator)
    return nn.Sequential(*layers)


def check_obs_slice(obs_dim: int, obs_slice: Sequence[int] | None) -> tuple[int, int] | None:
    """`obs_slice` as a checked ``(start, stop)`` within ``[0, obs_dim]`` (None: every component).

    Raises:
        ValueError: unless ``0 <= start < stop <= obs_dim``.
    """
    if obs_slice is None:
        return None
    bounds = tuple(obs_slice)
    if len(bounds) != 2 or any(isinstance(b, bool) or not isinstance(b, int) for b in bounds):
        raise ValueError(f"obs_slice must be two integers (start, stop), got {obs_slice!r}")
    start, stop = bounds
    if not 0 <= start < stop <= obs_dim:
        raise ValueError(f"obs_slice {list(bounds)} must satisfy 0 <= start < stop <= the "
                         f"observation width {obs_dim}")
    return start, stop


def _seen_width(obs_dim: int, obs_slice: tuple[int, int] | None) -> int:
    """How many observation components a network with `obs_slice` takes as input."""
    return obs_dim if obs_slice is None else obs_slice[1] - obs_slice[0]


def _select(obs: Tensor, obs_dim: int, obs_slice: tuple[int, int] | None, what: str) -> Tensor:
    """The components `obs_slice` of `obs` [..., obs_dim] (all of them when None)."""
    if obs.shape[-1] != obs_dim:
        raise ValueError(f"obs has width {obs.shape[-1]}, {what} expects {obs_dim}")
    return obs if obs_slice is None else obs[..., obs_slice[0]:obs_slice[1]]


def masked_sum(values: Tensor, mask: Tensor | None) -> Tensor:
    """Sums per-step values over time with a padding mask.

    Args:
        values: Tensor[B, T].
        mask: Tensor[B, T] of 0/1 (bool or float) or None (all steps real).

    Returns:
        Tensor[B].
    """
    if values.dim() != 2:
        raise ValueError(f"values must be [B, T], got shape {tuple(values.shape)}")
    if mask is None:
        return values.sum(dim=1)
    if mask.shape != values.shape:
        raise ValueError(f"mask has shape {tuple(mask.shape)}, values {tuple(values.shape)}")
    return (values * mask.to(values.dtype)).sum(dim=1)


class MLPCost(nn.Module):
    r"""A learned per-step cost $c_\theta(x, u)$, or $c_\theta(x)$ with ``state_only=True``.

    Args:
        obs_dim: observation width d_obs.
        act_dim: action width d_act (ignored with ``state_only``).
        hidden: hidden widths of the MLP.
        state_only: the cost depends on the observation only.
        generator: torch generator of the initialisation (global RNG when None).
        obs_slice: ``(start, stop)``: the cost sees the observation components
            ``start .. stop - 1`` only (None: all of them); it still takes d_obs-wide input.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int] = (64, 64),
                 state_only: bool = False, generator: torch.Generator | None = None,
                 obs_slice: Sequence[int] | None = None) -> None:
        super().__init__()
        if act_dim < 1 and not state_only:
            raise ValueError(f"act_dim must be positive, got {act_dim}")
        self.obs_dim = int(obs_dim)
        self.act_dim = int(act_dim)
        self.state_only = bool(state_only)
        self.obs_slice = check_obs_slice(self.obs_dim, obs_slice)
        seen = _seen_width(self.obs_dim, self.obs_slice)
        self.net = mlp(seen + (0 if state_only else self.act_dim), hidden, generator=generator)

    def forward(self, obs: Tensor, act: Tensor | None = None) -> Tensor:
        """Per-step cost.

        Args:
            obs: Tensor[..., d_obs].
            act: Tensor[..., d_act] (may be None when ``state_only``).

        Returns:
            Tensor[...].
        """
        obs = _select(obs, self.obs_dim, self.obs_slice, "the cost")
        if self.state_only:
            x = obs
        else:
            if act is None or act.shape[-1] != self.act_dim:
                got = None if act is None else act.shape[-1]
                raise ValueError(f"act has width {got}, the cost expects {self.act_dim}")
            if act.shape[:-1] != obs.shape[:-1]:
                raise ValueError(f"obs {tuple(obs.shape)} and act {tuple(act.shape)} must share "
                                 "their leading dimensions")
            x = torch.cat([obs, act.to(obs.dtype)], dim=-1)
        return self.net(x.to(self.net[0].weight.dtype)).squeeze(-1)

    def trajectory_cost(self, obs: Tensor, act: Tensor, mask: Tensor | None = None) -> Tensor:
        r"""$c(\tau) = \sum_t m_t c(x_t, u_t)$.

        Args:
            obs: Tensor[B, T, d_obs] or Tensor[B, T+1, d_obs] (the final state is not costed).
            act: Tensor[B, T, d_act].
            mask: Tensor[B, T] or None.

        Returns:
            Tensor[B].
        """
        steps = act.shape[1]
        return masked_sum(self(obs[:, :steps], act), mask)


class MLPLogZ(nn.Module):
    r"""$\log Z(x_0)$ as a function of the initial observation: an MLP plus a learned offset.

    Args:
        obs_dim: observation width.
        hidden: hidden widths (an empty tuple gives an affine function).
        init: initial value of the offset.
        generator: torch generator of the initialisation (global RNG when None).
        obs_slice: ``(start, stop)``: log Z sees those observation components only (None: all).
    """

    def __init__(self, obs_dim: int, hidden: Sequence[int] = (32,), init: float = 0.0,
                 generator: torch.Generator | None = None,
                 obs_slice: Sequence[int] | None = None) -> None:
        super().__init__()
        self.obs_dim = int(obs_dim)
        self.obs_slice = check_obs_slice(self.obs_dim, obs_slice)
        seen = _seen_width(self.obs_dim, self.obs_slice)
        self.net = mlp(seen, hidden, generator=generator)
        with torch.no_grad():  # start as the constant `init`
            self.net[-1].weight.zero_()
            self.net[-1].bias.fill_(init)

    def forward(self, initial_obs: Tensor) -> Tensor:
        """Args: initial_obs Tensor[B, d_obs]. Returns: Tensor[B]."""
        if initial_obs.dim() != 2 or initial_obs.shape[-1] != self.obs_dim:
            raise ValueError(f"initial_obs must be [B, {self.obs_dim}], got "
                             f"{tuple(initial_obs.shape)}")
        x = _select(initial_obs, self.obs_dim, self.obs_slice, "log Z")
        return self.net(x.to(self.net[0].weight.dtype)).squeeze(-1)


class ShapedReward(nn.Module):
    r"""AIRL's $f(x, u, x') = g(x, u) + \gamma (1 - d)\, h(x') - h(x)$.

    $g$ is the reward to keep (state-only, $g(x)$, with ``state_only=True``: the form AIRL proves
    disentangled), $h$ a shaping potential, $d$ the termination flag (no potential after a true
    end; a time-limit truncation keeps it). In this project's sign convention the per-step cost is
    $c = -f$.

    Args:
        obs_dim: observation width.
        act_dim: action width (ignored with ``state_only``).
        gamma: discount of the shaping term.
        hidden: hidden widths of g and h.
        state_only: g depends on x only.
        generator: torch generator of the initialisation (global RNG when None).
        obs_slice: ``(start, stop)``: g and h see those observation components only (None: all).
    """

    def __init__(self, obs_dim: int, act_dim: int, gamma: float = 0.99,
                 hidden: Sequence[int] = (64, 64), state_only: bool = True,
                 generator: torch.Generator | None = None,
                 obs_slice: Sequence[int] | None = None) -> None:
        super().__init__()
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        self.gamma = float(gamma)
        self.obs_dim = int(obs_dim)
        self.obs_slice = check_obs_slice(self.obs_dim, obs_slice)
        # g, in MLPCost's shell
        self.g = MLPCost(obs_dim, act_dim, hidden, state_only, generator, self.obs_slice)
        seen = _seen_width(self.obs_dim, self.obs_slice)
        self.h = mlp(seen, hidden, generator=generator)

    def potential(self, obs: Tensor) -> Tensor:
        """h(x). Args: obs Tensor[..., d_obs]. Returns: Tensor[...]."""
        x = _select(obs, self.obs_dim, self.obs_slice, "the potential h")
        return self.h(x.to(self.h[0].weight.dtype)).squeeze(-1)

    def reward(self, obs: Tensor, act: Tensor) -> Tensor:
        """g(x, u) (or g(x)), the learned reward without shaping. Returns Tensor[...]."""
        return self.g(obs, act)

    def forward(self, obs: Tensor, act: Tensor, next_obs: Tensor, terminated: Tensor) -> Tensor:
        """f(x, u, x').

        Args:
            obs: Tensor[..., d_obs]; act: Tensor[..., d_act]; next_obs: Tensor[..., d_obs];
            terminated: Tensor[...] (bool or 0/1), true end of the episode at x'.

        Returns:
            Tensor[...].
        """
        if next_obs.shape != obs.shape:
            raise ValueError(f"next_obs {tuple(next_obs.shape)} must match obs "
                             f"{tuple(obs.shape)}")
        g = self.g(obs, act)
        alive = 1.0 - terminated.to(g.dtype)
        return g + self.gamma * alive * self.potential(next_obs) - self.potential(obs)
