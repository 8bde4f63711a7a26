r"""Exact-by-quadrature evaluation of a 2-D energy model, importance sampling and MMD.

On a 2-D box $[-b, b]^2$ with an $n \times n$ midpoint grid of spacing $h = 2b/n$,

$$ \log Z \approx \operatorname{logsumexp}_{ij}\bigl(-E(x_{ij})\bigr) + 2\log h, $$

which converges quickly for a smooth energy that grows outside the box. `quadrature_report`
checks both approximations: it repeats the sum at half the resolution (resolution error) and on
a box one unit wider at the same spacing (box error). A test NLL is then
$\mathbb{E}_\text{test}[E] + \log Z$, and its excess over the data entropy is the KL divergence
from the data to the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "grid",
    "importance_log_z_with_ess",
    "in_chunks",
    "mmd",
    "quadrature_log_z",
    "quadrature_report",
]

EnergyFn = Callable[[Tensor], Tensor]


def grid(box: float, resolution: int, dtype: torch.dtype = torch.float32,
         device: torch.device | str | None = None) -> tuple[Tensor, float]:
    """Midpoints of an n x n grid on [-box, box]^2 (on ``device``, the CPU when None).

    Returns:
        (Tensor[n*n, 2] of points, row-major in (x0, x1), the area of one cell).
    """
    if box <= 0:
        raise ValueError(f"box must be positive, got {box}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    h = 2 * box / resolution
    axis = (torch.arange(resolution, dtype=torch.float64, device=device) + 0.5) * h - box
    points = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    return points.to(dtype), h * h


@torch.no_grad()
def in_chunks(fn: EnergyFn, points: Tensor, chunk: int = 65536) -> Tensor:
    """fn applied to `points` [N, 2] in chunks of `chunk` rows, without gradient: Tensor[N]."""
    return torch.cat([fn(points[i : i + chunk]) for i in range(0, points.shape[0], chunk)])


@torch.no_grad()
def quadrature_log_z(
    energy: EnergyFn, *, box: float = 5.5, resolution: int = 800, chunk: int = 65536,
    device: torch.device | str | None = None,
) -> float:
    """log Z = log of the integral of exp(-E) over [-box, box]^2 by the midpoint rule.

    Args:
        energy: maps Tensor[B, 2] (float32) to Tensor[B].
        box: half-width of the square.
        resolution: points per axis.
        chunk: points per energy evaluation.
        device: where the grid is made and the energy evaluated (the CPU when None).

    Returns:
        log Z as a float (accumulated in float64).
    """
    points, area = grid(box, resolution, device=device)
    neg = -in_chunks(energy, points, chunk).double()
    if not bool(torch.isfinite(neg).all()):
        raise ValueError("the energy is not finite everywhere on the quadrature grid")
    return float(torch.logsumexp(neg, 0)) + math.log(area)


def quadrature_report(
    energy: EnergyFn, *, box: float = 5.5, resolution: int = 800,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Quadrature log Z with two convergence checks (grids on ``device``, the CPU when None).

    Returns:
        dict with ``log_z`` (box, resolution), ``resolution_error`` (|log Z at resolution/2 -
        log Z|) and ``box_error`` (|log Z on a box one unit wider, same spacing - log Z|).
    """
    log_z = quadrature_log_z(energy, box=box, resolution=resolution, device=device)
    coarse = quadrature_log_z(energy, box=box, resolution=resolution // 2, device=device)
    wide_res = int(round(resolution * (box + 1) / box))
    wide = quadrature_log_z(energy, box=box + 1, resolution=wide_res, device=device)
    return {
        "log_z": log_z,
        "resolution_error": abs(coarse - log_z),
        "box_error": abs(wide - log_z),
    }


@torch.no_grad()
def importance_log_z_with_ess(
    energy: EnergyFn, samples: Tensor, log_q: Tensor
) -> tuple[float, float]:
    r"""$\log \hat Z = \log \frac1N \sum_i e^{-E(x_i) - \log q(x_i)}$ with $x_i \sim q$.

    Args:
        energy: maps Tensor[B, 2] to Tensor[B].
        samples: Tensor[N, 2] drawn from the proposal q.
        log_q: Tensor[N], log q at the samples.

    Returns:
        (log Ẑ, effective sample size (Σw)²/Σw² as a fraction of N).
    """
    log_w = (-in_chunks(energy, samples) - log_q).double()
    n = log_w.shape[0]
    log_z = float(torch.logsumexp(log_w, 0)) - math.log(n)
    ess = float(torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0)))
    return log_z, ess / n


MMD_BANDWIDTHS = (0.1, 0.3, 1.0)
"""The kernel length scales of the MMD in 2-D (scaled by sqrt(d/2) in d dimensions)."""


@torch.no_grad()
def mmd(x: Tensor, y: Tensor, bandwidths: tuple[float, ...] = MMD_BANDWIDTHS) -> float:
    r"""Unbiased squared MMD with a sum of Gaussian kernels $e^{-\|a-b\|^2 / 2\ell^2}$.

    Args:
        x: Tensor[N, 2].
        y: Tensor[M, 2].
        bandwidths: kernel length scales ℓ.

    Returns:
        MMD² estimate (can be slightly negative when the two samples share a distribution).
    """
    x, y = x.double(), y.double()
    n, m = x.shape[0], y.shape[0]
    if n < 2 or m < 2:
        raise ValueError("mmd needs at least two points on each side")

    def kernel_sum(a: Tensor, b: Tensor, same: bool) -> float:
        d2 = torch.cdist(a, b).pow(2)
        k = sum(torch.exp(-d2 / (2 * ell * ell)) for ell in bandwidths)
        total = float(k.sum())
        if same:
            total -= float(k.diagonal().sum())
            return total / (a.shape[0] * (a.shape[0] - 1))
        return total / (a.shape[0] * b.shape[0])

    return kernel_sum(x, x, True) + kernel_sum(y, y, True) - 2 * kernel_sum(x, y, False)
