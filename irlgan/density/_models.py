r"""The energy model and the samplers with exact densities (flow generator, Gaussian noise).

The generator is a neural spline flow (`zuko.flows.NSF`): monotone rational-quadratic splines
in an autoregressive arrangement. We chose it over the alternatives because it is the flow that
meets all three needs of section 4 at once on 2-D data:

* an exact $\log q$ at any point in one pass (the discriminator needs it at the data), and exact
  reparameterised samples with their $\log q$ in one inverse pass (the generator step needs
  $\nabla \mathbb{E}_q[E + \log q]$ through the samples); with two features the autoregressive
  inverse costs just two network evaluations (d in d dimensions, which is what makes sampling
  the dominant cost of a 32-dimensional run), and the splines invert in closed form;
* enough flexibility per layer for multimodal, sharp 2-D densities (a few spline layers fit the
  toy data where affine couplings, RealNVP/MAF, need many);
* no ODE solve (a continuous flow, FFJORD, would make every step far slower and its density
  only as exact as its solver).

Optionally the sampler is the mixture $q = (1-w)\,q_\text{flow} + w\,\mathcal{N}(0, s^2 I)$ with a
small weight $w$ on a broad Gaussian: the discriminator then sees noise everywhere the energy
could put mass, and importance sampling with $q$ as proposal has bounded weights in the tails.
Samples are stratified: a fixed share $\lfloor wM \rceil$ of each batch comes from the broad part,
which is an exact sample of the mixture in expectation and keeps the flow part reparameterised.
"""

from __future__ import annotations

import math

import torch
import zuko
from torch import Tensor, nn

__all__ = ["EnergyMLP", "FlowSampler", "GaussianNoise"]


def _check_dim(dim: object) -> None:
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")


class EnergyMLP(nn.Module):
    r"""An MLP energy $E_\theta(x) = f_\theta(x) + \tfrac{\kappa}{2}\lVert x\rVert^2$.

    The quadratic term with $\kappa > 0$ ("confine") keeps $e^{-E}$ integrable however the MLP
    extrapolates (a SiLU network grows at most linearly), so log Z exists and the quadrature box
    holds all but a negligible part of the mass.

    Args:
        hidden: widths of the hidden layers.
        confine: the coefficient $\kappa \ge 0$ of the confining term.
        dim: the dimension d of the points.
    """

    def __init__(
        self, hidden: tuple[int, ...] = (128, 128, 128, 128), confine: float = 0.1,
        dim: int = 2,
    ) -> None:
        super().__init__()
        if confine < 0:
            raise ValueError(f"confine must be non-negative, got {confine}")
        if not hidden or any(h < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {hidden}")
        _check_dim(dim)
        layers: list[nn.Module] = []
        width = dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        self.confine = float(confine)
        self.dim = int(dim)

    def forward(self, x: Tensor) -> Tensor:
        """Energy of each point: Tensor[B, d] -> Tensor[B]."""
        return self.net(x).squeeze(-1) + 0.5 * self.confine * (x * x).sum(-1)


class FlowSampler(nn.Module):
    """A neural spline flow, optionally mixed with a broad Gaussian.

    Args:
        transforms: number of spline layers.
        hidden: hidden widths of each layer's conditioner.
        bins: spline bins.
        broad_weight: mixture weight w of the broad Gaussian, in [0, 1).
        broad_std: standard deviation of the broad Gaussian N(0, s² I).
        dim: the dimension d of the points.
        passes: sequential conditioner passes of each layer's inverse (sampling); the
            log-density takes one pass per layer whatever this is. None: fully autoregressive
            (d passes). 2: a coupling layer; the coordinates are split into even and odd
            positions (the odd ones conditioned on the even ones, and the other way round in
            the next layer), so that each pair (x_2i, x_2i+1) of a product dataset is coupled in
            every layer. In 2-D both choices build the same flow.
    """

    def __init__(
        self,
        transforms: int = 4,
        hidden: tuple[int, ...] = (64, 64),
        bins: int = 8,
        broad_weight: float = 0.0,
        broad_std: float = 3.0,
        dim: int = 2,
        passes: int | None = 2,
    ) -> None:
        super().__init__()
        _check_dim(dim)
        if passes is not None and (not isinstance(passes, int) or passes < 1):
            raise ValueError(f"passes must be None or a positive integer, got {passes!r}")
        if not 0.0 <= broad_weight < 1.0:
            raise ValueError(f"broad_weight must lie in [0, 1), got {broad_weight}")
        if broad_std <= 0:
            raise ValueError(f"broad_std must be positive, got {broad_std}")
        self.flow = zuko.flows.NSF(
            features=dim, transforms=transforms, hidden_features=tuple(hidden), bins=bins,
            passes=passes,
        )
        # The flow works on permuted coordinates (even positions first); a permutation has a
        # unit Jacobian, so the log-density is unchanged. Identity (None) when every pass is its
        # own. Buffers, so that they follow the module to its device; not in the state dict.
        perm = unperm = None
        if passes is not None and passes < dim:
            perm = torch.cat([torch.arange(0, dim, 2), torch.arange(1, dim, 2)])
            unperm = torch.argsort(perm)
        self._perm: Tensor | None
        self._unperm: Tensor | None
        self.register_buffer("_perm", perm, persistent=False)
        self.register_buffer("_unperm", unperm, persistent=False)
        self.broad_weight = float(broad_weight)
        self.broad_std = float(broad_std)
        self.dim = int(dim)

    def _broad_log_prob(self, x: Tensor) -> Tensor:
        s = self.broad_std
        return -0.5 * (x * x).sum(-1) / s**2 - 0.5 * self.dim * math.log(2 * math.pi * s**2)

    def flow_log_prob(self, x: Tensor) -> Tensor:
        """log q_flow(x) of the flow alone: Tensor[B, d] -> Tensor[B]."""
        return self.flow().log_prob(self._to_flow(x))

    def _to_flow(self, x: Tensor) -> Tensor:
        return x if self._perm is None else x[..., self._perm]

    def _from_flow(self, y: Tensor) -> Tensor:
        return y if self._unperm is None else y[..., self._unperm]

    def log_prob(self, x: Tensor) -> Tensor:
        """log q(x) of the sampler (the mixture when broad_weight > 0): Tensor[B] ."""
        log_flow = self.flow_log_prob(x)
        w = self.broad_weight
        if w == 0.0:
            return log_flow
        return torch.logaddexp(log_flow + math.log1p(-w), self._broad_log_prob(x) + math.log(w))

    def split(self, n: int) -> tuple[int, int]:
        """(flow samples, broad samples) of a stratified batch of n."""
        n_broad = int(round(self.broad_weight * n))
        return n - n_broad, n_broad

    def rsample_and_log_prob(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """A stratified batch of the sampler with its log q, reparameterised in the flow part.

        The flow part is $x = T^{-1}(z)$, $z \\sim \\mathcal N(0, I)$ drawn from `generator`; its
        log q is computed from the same pass (base log-density minus the log-determinant) and,
        with a broad part, combined with the broad density in the mixture.

        Returns:
            (Tensor[n, d], Tensor[n]), flow samples first.
        """
        n_flow, n_broad = self.split(n)
        dist = self.flow()
        parts, log_flow = [], []
        if n_flow:
            z = torch.randn(n_flow, self.dim, generator=generator, device=generator.device)
            y, ladj = dist.transform.inv.call_and_ladj(z)
            parts.append(self._from_flow(y))
            log_flow.append(dist.base.log_prob(z) - ladj)
        if n_broad:
            xb = torch.randn(n_broad, self.dim, generator=generator,
                             device=generator.device) * self.broad_std
            parts.append(xb)
            log_flow.append(dist.log_prob(self._to_flow(xb)))
        x = torch.cat(parts)
        log_q = torch.cat(log_flow)
        w = self.broad_weight
        if w > 0:
            log_q = torch.logaddexp(log_q + math.log1p(-w), self._broad_log_prob(x) + math.log(w))
        return x, log_q

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Samples without gradient, Tensor[n, d]."""
        with torch.no_grad():
            return self.rsample_and_log_prob(n, generator)[0]

    def flow_sample(self, n: int, generator: torch.Generator) -> Tensor:
        """Samples of the flow alone (no broad part), Tensor[n, d]."""
        with torch.no_grad():
            z = torch.randn(n, self.dim, generator=generator, device=generator.device)
            return self._from_flow(self.flow().transform.inv(z))


class GaussianNoise(nn.Module):
    """A fixed Gaussian N(mean, cov), the classical NCE noise, fitted to data by moments.

    Args:
        data: Tensor[N, d] to fit the mean and covariance to (N > d).
        inflate: factor applied to the covariance (a wider noise covers the tails).
    """

    def __init__(self, data: Tensor, inflate: float = 1.0) -> None:
        super().__init__()
        if data.dim() != 2 or data.shape[1] < 1 or data.shape[0] < data.shape[1] + 2:
            raise ValueError(f"data must be a Tensor[N, d] with N >= d + 2, got "
                             f"{tuple(data.shape)}")
        mean = data.mean(0)
        cov = torch.cov(data.T) * inflate
        self.register_buffer("mean", mean)
        self.register_buffer("scale_tril", torch.linalg.cholesky(cov.reshape(len(mean), -1)))
        self.dim = int(data.shape[1])

    def _dist(self) -> torch.distributions.MultivariateNormal:
        return torch.distributions.MultivariateNormal(self.mean, scale_tril=self.scale_tril)

    def log_prob(self, x: Tensor) -> Tensor:
        """log q(x): Tensor[B, d] -> Tensor[B]."""
        return self._dist().log_prob(x)

    def rsample_and_log_prob(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """n samples and their log q (Tensor[n, d], Tensor[n])."""
        z = torch.randn(n, self.dim, generator=generator, dtype=self.mean.dtype,
                        device=generator.device)
        x = self.mean + z @ self.scale_tril.T
        return x, self.log_prob(x)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """n samples, Tensor[n, d]."""
        return self.rsample_and_log_prob(n, generator)[0]

    flow_sample = sample
