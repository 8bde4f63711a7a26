r"""Two-dimensional toy densities at the scales of FFJORD's toy data, with exact log-densities.

Each dataset is a generating process (a few uniform and Gaussian draws pushed through a known
map). Sampling takes an explicit `torch.Generator`. Because the process is known, so is the
density of the data, either in closed form or as a one-dimensional integral that we evaluate by
quadrature:

* ``8gaussians``: eight isotropic Gaussians (std $0.5/1.414$) on a circle of radius $4/1.414$.
* ``checkerboard``: uniform on eight squares of side 2 in $[-4,4]^2$ (area 32).
* ``2spirals``: arc position $n = 3\pi\sqrt{u}$, point $(-n\cos n + 0.5u_1,\ n\sin n + 0.5u_2)$,
  mirrored with probability ½, divided by 3, plus Gaussian noise of std 0.1. The density is an
  integral over $n$ of a product of two box-convolved-with-Gaussian factors (differences of
  normal CDFs), computed with a midpoint rule.
* ``rings``: four concentric circles of radii 3, 2.25, 1.5, 0.75 (uniform angle), plus Gaussian
  noise of std 0.08; the angular integral is a modified Bessel function,
  $p_r(x) = \frac{1}{2\pi\sigma^2} e^{-(|x|-r)^2/2\sigma^2} I_0^e(|x| r/\sigma^2)$.
* ``pinwheel``: five arms; a Gaussian feature $f$ (std 0.3 radial, 0.1 tangential, mean
  $(1, 0)$) rotated by $-(2\pi k/5 + 0.25 e^{f_0})$ and doubled. In polar coordinates the map
  keeps the radius ($|x| = 2|f|$) and shifts the angle, so the density is a sum over the roots
  of a one-dimensional angle equation, each weighted by the inverse Jacobian, found on a grid
  and refined by Newton steps.
* ``moons``: scikit-learn's two moons (uniform arc parameter) with noise 0.1, scaled by 2 and
  shifted by $(-1, -0.2)$; the density is an integral over the arc parameter.

The reference NLL of a dataset is its differential entropy $H(p) = -\mathbb{E}_p[\log p]$, the
lowest test NLL any model can reach; a model's excess over it is $\mathrm{KL}(p\,\|\,p_\theta)$.
`REFERENCE_NLL` holds the entropies: exact for checkerboard ($\ln 32$), and for the others the
grid quadrature of $-p\log p$ with the exact density (converged to the digits shown).
`reference_nll` gives an independent Monte-Carlo estimate, the mean of $-\log p(x)$ over fresh
samples with its standard error, which the tests compare with the table. (The issue quoted 2.821
for 8gaussians; the exact mixture at FFJORD's scale gives 2.83188: the eight components alone
would have $\ln 8 + 1 + \ln(2\pi\sigma^2) = 2.8382$, and their overlap lowers it by 0.0063.)

Products in $d = 2k$ dimensions. The name ``<name>-x<k>`` (``8gaussians-x8``: $d = 16$) is the
data of $k$ independent copies of a 2-D dataset side by side: coordinates $(2j, 2j+1)$ hold the
$j$-th copy. Its log-density is the sum of the 2-D log-densities of the blocks, and its entropy is
$k$ times the 2-D entropy, so it is data in higher dimension whose density and entropy are still
known exactly. Every function here accepts these names (``-x1`` is the 2-D dataset itself);
``name in DATASETS`` and ``REFERENCE_NLL[name]`` resolve them too, while iterating over either
gives the six 2-D datasets only. `dataset_dim` gives a name's dimension.

Gaussian mixtures in d dimensions. The name ``gmm-d<d>`` (d >= 2) is a fixed mixture of eight
Gaussians with equal weights, means drawn once from $\mathcal N(0, 2^2 I)$ and diagonal
covariances with standard deviations drawn once uniformly in $[0.3, 1]$, all from a generator
seeded with $1000 + d$ (`gaussian_mixture` returns them). Unlike a product, its components are
not aligned with pairs of coordinates. Its log-density is exact (a log-sum-exp over the
components); its entropy has no closed form and is the Monte-Carlo mean of $-\log p$ over
$10^6$ samples of a fixed generator, with that mean's standard error as the stated error
(about 0.003 nats at d = 16; `REFERENCE_NLL` computes it on first use, in a few seconds).

A real dataset, ``digits`` (d = 64): scikit-learn's 1,797 handwritten digits of 8 x 8 pixels
with values 0-16 (the UCI optical-digits test set, shipped inside scikit-learn; the extra
``irlgan[digits]``), split once by a fixed permutation into 1,257 training, 270 validation and
270 test images. A point is an image $v$ plus uniform noise $u \in [0, 1)^{64}$ (dequantisation),
scaled to $y = 4(v + u)/17 - 2 \in [-2, 2)^{64}$. ``sample_data(..., split=...)`` draws images
of one split uniformly with fresh noise; the training split is the generating process of the
training batches, the others give the validation and test sets. Its entropy is unknown, so it
has no `REFERENCE_NLL` entry and no `data_log_prob`: a model is scored by its test NLL, in nats
for y and in bits per dimension of the dequantised pixels,
$\bigl(\mathrm{NLL}_y + 64 \ln(17/4)\bigr) / (64 \ln 2)$ (`digits_bits_per_dim`), an upper
bound on the pixels' discrete entropy per pixel, of which 17 levels allow at most
$\log_2 17 = 4.09$ bits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "DATASETS",
    "REFERENCE_NLL",
    "SPLITS",
    "data_log_prob",
    "dataset_dim",
    "digits_bits_per_dim",
    "parse_dataset",
    "gaussian_mixture",
    "reference_nll",
    "sample_data",
]

_BASE_NAMES = ("8gaussians", "checkerboard", "2spirals", "rings", "pinwheel", "moons")
SPLITS = ("train", "validation", "test")
"""The splits of `sample_data`: the same generating process for the toy datasets, held-out images
for ``digits``."""
_DIGITS = "digits"
_DIGITS_DIM = 64
_DIGITS_LEVELS = 17
_DIGITS_SIZES = {"train": 1257, "validation": 270, "test": 270}
_DIGITS_CACHE: dict[str, Tensor] = {}
_DIGITS_ON_DEVICE: dict[tuple[str, str], Tensor] = {}
_PRODUCT = re.compile(r"^(?P<base>.+)-x(?P<copies>[0-9]+)$")
_GMM = re.compile(r"^gmm-d(?P<dim>[0-9]+)$")
_GMM_COMPONENTS = 8
_GMM_ENTROPY_SAMPLES = 1_000_000
_GMM_ENTROPIES: dict[str, tuple[float, float]] = {}


def _gmm_dim(name: object) -> int | None:
    """d of a valid ``gmm-d<d>`` name (d >= 2, no leading zeros), None for anything else."""
    if not isinstance(name, str):
        return None
    match = _GMM.match(name)
    if match is None:
        return None
    dim = int(match["dim"])
    return dim if dim >= 2 and match["dim"] == str(dim) else None


def _parse(name: object) -> tuple[str, int] | None:
    """(2-D dataset, copies) of a valid name, None for anything else."""
    if not isinstance(name, str):
        return None
    if name in _BASE_NAMES:
        return name, 1
    match = _PRODUCT.match(name)
    if match is None or match["base"] not in _BASE_NAMES:
        return None
    copies = int(match["copies"])
    if copies < 1 or match["copies"] != str(copies):  # no "-x0", no leading zeros
        return None
    return match["base"], copies


class _DatasetNames(tuple):
    """The 2-D dataset names; membership also accepts the product names ``<name>-x<k>``."""

    __slots__ = ()

    def __contains__(self, name: object) -> bool:
        return _parse(name) is not None or _gmm_dim(name) is not None or name == _DIGITS


DATASETS = _DatasetNames(_BASE_NAMES)
"""The six 2-D datasets; ``name in DATASETS`` is also true for a product name ``<name>-x<k>``."""

# (value, uncertainty) of the data entropy in nats. Checkerboard: exact. The others: the
# midpoint rule for -∫ p log p on a grid over [-b, b]^2 with the exact density `data_log_prob`
# (b = 5-6, 400-1000 points per axis; the density integrates to 1 to six decimals, and refining
# the grid or widening the box changed no digit shown). The uncertainty is a conservative bound
# on that discretisation error; a test checks these values against Monte-Carlo estimates.
class _ReferenceTable(dict):
    """The 2-D entropies; a product name ``<name>-x<k>`` looks up k times the 2-D entry.

    The uncertainty scales by k as well (the 2-D one is a bound on a discretisation error, and
    the k blocks share it).
    """

    def __missing__(self, name: str) -> tuple[float, float]:
        if _gmm_dim(name) is not None:  # computed once, kept apart: len() stays the 2-D table's
            if name not in _GMM_ENTROPIES:
                _GMM_ENTROPIES[name] = reference_nll(name, n_samples=_GMM_ENTROPY_SAMPLES)
            return _GMM_ENTROPIES[name]
        parsed = _parse(name)
        if parsed is None:
            raise KeyError(name)
        value, uncertainty = self[parsed[0]]
        return parsed[1] * value, parsed[1] * uncertainty

    def __contains__(self, name: object) -> bool:
        return _parse(name) is not None or _gmm_dim(name) is not None

    def get(  # type: ignore[override]
        self, name: object, default: tuple[float, float] | None = None
    ) -> tuple[float, float] | None:
        return self[name] if name in self else default


REFERENCE_NLL: dict[str, tuple[float, float]] = _ReferenceTable({
    "8gaussians": (2.83188, 1e-4),
    "checkerboard": (math.log(32.0), 0.0),
    "2spirals": (2.64544, 1e-4),
    "rings": (2.62318, 1e-4),
    "pinwheel": (2.31779, 1e-4),
    "moons": (2.39387, 1e-4),
})

_SCALE_8G = 1.414
_RING_RADII = (3.0, 2.25, 1.5, 0.75)
_RING_STD = 0.08
_SPIRAL_NOISE = 0.1
_PIN_RADIAL, _PIN_TANGENTIAL, _PIN_RATE, _PIN_CLASSES = 0.3, 0.1, 0.25, 5
_MOON_NOISE = 0.1


def _check_name(name: str) -> tuple[str, int]:
    """(2-D dataset, copies) of a product or 2-D name; ("gmm", d) of a mixture's name;
    ("digits", 64)."""
    parsed = _parse(name)
    if parsed is None:
        dim = _gmm_dim(name)
        if dim is not None:
            return "gmm", dim
        if name == _DIGITS:
            return _DIGITS, _DIGITS_DIM
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(_BASE_NAMES)}, "
                         f"<name>-x<k> for k >= 1 independent copies (d = 2k), gmm-d<d> "
                         f"(a Gaussian mixture in d >= 2 dimensions), or digits (real, d = 64)")
    return parsed


def parse_dataset(name: str) -> tuple[str, int]:
    """The 2-D dataset and the number of copies k of a dataset name.

    Args:
        name: one of `DATASETS`, or ``<name>-x<k>`` for k >= 1 independent copies.

    Returns:
        (2-D dataset name, k); k is 1 for a 2-D name.

    Raises:
        ValueError: for an unknown name, a ``gmm-d<d>`` name or ``digits`` (not products).
    """
    base, copies = _check_name(name)
    if base == "gmm":
        raise ValueError(f"{name!r} is a Gaussian mixture, not a product of 2-D datasets")
    if base == _DIGITS:
        raise ValueError("'digits' is real data, not a product of 2-D datasets")
    return base, copies


def dataset_dim(name: str) -> int:
    """The dimension d of a dataset name: 2 for the 2-D datasets, 2k for ``<name>-x<k>``, d for
    ``gmm-d<d>``."""
    base, value = _check_name(name)
    return value if base in ("gmm", _DIGITS) else 2 * value


def _digits_split(split: str) -> Tensor:
    """The pixel values (0-16, float64) of one split of the digits, [N, 64]."""
    if not _DIGITS_CACHE:
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ValueError("the digits dataset needs scikit-learn: pip install "
                             "'irlgan[digits]'") from None
        images = torch.as_tensor(load_digits().data, dtype=torch.float64)
        if images.shape != (sum(_DIGITS_SIZES.values()), _DIGITS_DIM):
            raise ValueError(f"scikit-learn's digits have shape {tuple(images.shape)}, "
                             f"expected (1797, 64)")
        order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(0))
        start = 0
        for name, size in _DIGITS_SIZES.items():
            _DIGITS_CACHE[name] = images[order[start:start + size]]
            start += size
    return _DIGITS_CACHE[split]


def _sample_digits(n: int, g: torch.Generator, split: str) -> Tensor:
    rows = _digits_split(split)
    if g.device.type != "cpu":  # copied to a device once, not once per batch
        key = (split, str(g.device))
        if key not in _DIGITS_ON_DEVICE:
            _DIGITS_ON_DEVICE[key] = rows.to(g.device)
        rows = _DIGITS_ON_DEVICE[key]
    index = torch.randint(rows.shape[0], (n,), generator=g, device=g.device)
    noise = torch.rand(n, _DIGITS_DIM, generator=g, dtype=torch.float64, device=g.device)
    return (rows[index] + noise) * (4.0 / _DIGITS_LEVELS) - 2.0


def digits_bits_per_dim(nll: float) -> float:
    """Bits per dimension of the dequantised pixels for a test NLL (nats) of ``digits`` in the
    scaled coordinates y = 4(v + u)/17 - 2."""
    return (nll + _DIGITS_DIM * math.log(_DIGITS_LEVELS / 4.0)) / (_DIGITS_DIM * math.log(2.0))


def gaussian_mixture(dim: int) -> tuple[Tensor, Tensor]:
    """The means and standard deviations of ``gmm-d<dim>``: Tensor[8, d] each (float64).

    Equal weights; means from N(0, 2² I), standard deviations uniform in [0.3, 1], both drawn
    from a generator seeded with 1000 + d, so every call and every machine gets the same
    mixture.
    """
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 2:
        raise ValueError(f"dim must be an integer of at least 2, got {dim!r}")
    g = torch.Generator().manual_seed(1000 + dim)
    cpu = torch.device("cpu")  # the same mixture whatever the default device
    means = 2.0 * torch.randn(_GMM_COMPONENTS, dim, generator=g, dtype=torch.float64, device=cpu)
    stds = 0.3 + 0.7 * torch.rand(_GMM_COMPONENTS, dim, generator=g, dtype=torch.float64,
                                  device=cpu)
    return means, stds


def _sample_gmm(dim: int, n: int, g: torch.Generator) -> Tensor:
    means, stds = (t.to(g.device) for t in gaussian_mixture(dim))
    component = torch.randint(_GMM_COMPONENTS, (n,), generator=g, device=g.device)
    noise = torch.randn(n, dim, generator=g, dtype=torch.float64, device=g.device)
    return means[component] + stds[component] * noise


def _log_prob_gmm(dim: int, x: Tensor, chunk: int = 65536) -> Tensor:
    means, stds = (t.to(x.device, x.dtype) for t in gaussian_mixture(dim))
    log_norm = -torch.log(stds).sum(-1) - 0.5 * dim * math.log(2 * math.pi)  # [K]
    out = []
    for part in x.split(chunk):
        z = (part[:, None, :] - means[None]) / stds[None]
        log_k = log_norm[None] - 0.5 * (z * z).sum(-1)
        out.append(torch.logsumexp(log_k, 1) - math.log(_GMM_COMPONENTS))
    return torch.cat(out)


def _8g_centers(dtype: torch.dtype) -> Tensor:
    s = 1.0 / math.sqrt(2.0)
    unit = torch.tensor(
        [[1, 0], [-1, 0], [0, 1], [0, -1], [s, s], [s, -s], [-s, s], [-s, -s]], dtype=dtype
    )
    return unit * 4.0 / _SCALE_8G


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


def _sample_8gaussians(n: int, g: torch.Generator) -> Tensor:
    idx = torch.randint(0, 8, (n,), generator=g)
    noise = torch.randn(n, 2, generator=g, dtype=torch.float64) * (0.5 / _SCALE_8G)
    return _8g_centers(torch.float64)[idx] + noise


def _sample_checkerboard(n: int, g: torch.Generator) -> Tensor:
    x1 = torch.rand(n, generator=g, dtype=torch.float64) * 4 - 2
    x2_ = torch.rand(n, generator=g, dtype=torch.float64) - 2.0 * torch.randint(
        0, 2, (n,), generator=g
    ).double()
    x2 = x2_ + torch.floor(x1) % 2
    return torch.stack([x1, x2], dim=1) * 2


def _sample_2spirals(n: int, g: torch.Generator) -> Tensor:
    arc = torch.sqrt(torch.rand(n, generator=g, dtype=torch.float64)) * 3 * math.pi
    box = torch.rand(n, 2, generator=g, dtype=torch.float64) * 0.5
    point = torch.stack([-torch.cos(arc) * arc, torch.sin(arc) * arc], dim=1) + box
    sign = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).double()
    point = point * sign[:, None] / 3
    return point + torch.randn(n, 2, generator=g, dtype=torch.float64) * _SPIRAL_NOISE


def _sample_rings(n: int, g: torch.Generator) -> Tensor:
    radii = torch.tensor(_RING_RADII, dtype=torch.float64)
    r = radii[torch.randint(0, 4, (n,), generator=g)]
    angle = torch.rand(n, generator=g, dtype=torch.float64) * 2 * math.pi
    point = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1) * r[:, None]
    return point + torch.randn(n, 2, generator=g, dtype=torch.float64) * _RING_STD


def _sample_pinwheel(n: int, g: torch.Generator) -> Tensor:
    f = torch.randn(n, 2, generator=g, dtype=torch.float64)
    f = f * torch.tensor([_PIN_RADIAL, _PIN_TANGENTIAL], dtype=torch.float64)
    f[:, 0] += 1.0
    k = torch.randint(0, _PIN_CLASSES, (n,), generator=g).double()
    a = 2 * math.pi * k / _PIN_CLASSES + _PIN_RATE * torch.exp(f[:, 0])
    c, s = torch.cos(a), torch.sin(a)
    # FFJORD's einsum("ti,tij->tj", f, [[c, -s], [s, c]]): a rotation by -a.
    x0 = f[:, 0] * c + f[:, 1] * s
    x1 = -f[:, 0] * s + f[:, 1] * c
    return 2 * torch.stack([x0, x1], dim=1)


def _sample_moons(n: int, g: torch.Generator) -> Tensor:
    t = torch.rand(n, generator=g, dtype=torch.float64) * math.pi
    inner = torch.rand(n, generator=g) < 0.5
    outer_pt = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    inner_pt = torch.stack([1 - torch.cos(t), 1 - torch.sin(t) - 0.5], dim=1)
    point = torch.where(inner[:, None], inner_pt, outer_pt)
    point = point + torch.randn(n, 2, generator=g, dtype=torch.float64) * _MOON_NOISE
    return point * 2 + torch.tensor([-1.0, -0.2], dtype=torch.float64)


_SAMPLERS: dict[str, Callable[[int, torch.Generator], Tensor]] = {
    "8gaussians": _sample_8gaussians,
    "checkerboard": _sample_checkerboard,
    "2spirals": _sample_2spirals,
    "rings": _sample_rings,
    "pinwheel": _sample_pinwheel,
    "moons": _sample_moons,
}


def sample_data(
    name: str, n: int, generator: torch.Generator, *, dtype: torch.dtype = torch.float32,
    split: str = "train",
) -> Tensor:
    """Draws `n` points of a dataset.

    A product ``<name>-x<k>`` draws ``n * k`` points of the 2-D dataset in one call and lays
    them out as ``n`` rows of ``k`` blocks, so ``-x1`` draws exactly what the 2-D name does.

    Args:
        name: one of `DATASETS`, or ``<name>-x<k>``.
        n: number of points (positive).
        generator: the torch.Generator all randomness is drawn from; the points are drawn
            on its device.
        dtype: dtype of the result (the draw itself is made in float64).
        split: "train", "validation" or "test": the images ``digits`` draws from; the toy
            datasets are generating processes, the same for every split.

    Returns:
        Tensor[n, d] with d = `dataset_dim(name)`, on the generator's device.
    """
    base, copies = _check_name(name)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if base == _DIGITS:
        return _sample_digits(n, generator, split).to(dtype)
    if base == "gmm":
        return _sample_gmm(copies, n, generator).to(dtype)
    if generator.device.type == "cpu":
        return _SAMPLERS[base](n * copies, generator).reshape(n, 2 * copies).to(dtype)
    with generator.device:  # every factory call of the sampler on the generator's device
        return _SAMPLERS[base](n * copies, generator).reshape(n, 2 * copies).to(dtype)


# --------------------------------------------------------------------------------------------
# Exact log-densities
# --------------------------------------------------------------------------------------------

_LOG_2PI = math.log(2 * math.pi)


def _log_prob_8gaussians(x: Tensor) -> Tensor:
    std = 0.5 / _SCALE_8G
    d2 = ((x[:, None, :] - _8g_centers(x.dtype)[None]) ** 2).sum(-1)
    log_comp = -0.5 * d2 / std**2 - _LOG_2PI - 2 * math.log(std)
    return torch.logsumexp(log_comp, dim=1) - math.log(8.0)


def _log_prob_checkerboard(x: Tensor) -> Tensor:
    u, v = x[:, 0] / 2, x[:, 1] / 2
    shift = torch.floor(u) % 2
    w = v - shift
    inside = (u >= -2) & (u < 2) & (((w >= 0) & (w < 1)) | ((w >= -2) & (w < -1)))
    return torch.where(inside, -math.log(32.0), -math.inf).to(x.dtype)


def _log_box_gauss(y: Tensor, width: float, std: float) -> Tensor:
    """log density of U[0, width] + N(0, std²) at y (stable in the tails)."""
    a = y / std
    b = (y - width) / std
    # Φ(a) - Φ(b) with b < a, via log ndtr in the lower tail, or as Φ(-b) - Φ(-a) in the upper
    # one. Choosing the arguments first (rather than both results) keeps gradients finite.
    upper = a > 0
    hi = torch.where(upper, -b, a)
    lo = torch.where(upper, -a, b)
    log_phi_hi = torch.special.log_ndtr(hi)
    log_phi_lo = torch.special.log_ndtr(lo)
    diff = log_phi_hi + torch.log1p(-torch.exp(log_phi_lo - log_phi_hi).clamp(max=1 - 1e-300))
    return diff - math.log(width)


def _log_prob_2spirals(x: Tensor, nodes: int = 1500, chunk: int = 2048) -> Tensor:
    # Midpoint rule in n on [0, 3π] with density p(n) = 2n / (3π)^2.
    top = 3 * math.pi
    n = (torch.arange(nodes, dtype=torch.float64) + 0.5) * (top / nodes)
    log_w = torch.log(2 * n / top**2 * (top / nodes))
    cx, cy = -torch.cos(n) * n / 3, torch.sin(n) * n / 3
    width = 0.5 / 3
    out = []
    xd = x.double()
    for start in range(0, xd.shape[0], chunk):
        xs = xd[start : start + chunk]
        halves = []
        for sign in (1.0, -1.0):
            px, py = sign * xs[:, 0:1], sign * xs[:, 1:2]
            lp = (
                _log_box_gauss(px - cx, width, _SPIRAL_NOISE)
                + _log_box_gauss(py - cy, width, _SPIRAL_NOISE)
                + log_w
            )
            halves.append(torch.logsumexp(lp, dim=1))
        out.append(torch.logaddexp(halves[0], halves[1]) - math.log(2.0))
    return torch.cat(out).to(x.dtype)


def _log_prob_rings(x: Tensor) -> Tensor:
    rho = x.double().norm(dim=1, keepdim=True)
    r = torch.tensor(_RING_RADII, dtype=torch.float64)[None]
    s2 = _RING_STD**2
    # I0(z) = i0e(z) e^z, so the exponent becomes -(rho - r)^2 / 2σ².
    log_comp = (
        -((rho - r) ** 2) / (2 * s2)
        + torch.log(torch.special.i0e(rho * r / s2))
        - math.log(2 * math.pi * s2)
    )
    return (torch.logsumexp(log_comp, dim=1) - math.log(4.0)).to(x.dtype)


def _log_prob_pinwheel(x: Tensor, grid: int = 96, chunk: int = 4096) -> Tensor:
    r"""Sum over the roots of the angle equation, per class.

    With $f = \rho(\cos\phi, \sin\phi)$ and $x = 2R(-a)f$, $a = 2\pi k/5 + 0.25e^{\rho\cos\phi}$:
    $|x| = 2\rho$ and $\arg x = \phi - a$. So $\rho = |x|/2$ and $\phi$ solves
    $h(\phi) = \phi - 0.25 e^{\rho\cos\phi} - 2\pi k/5 - \arg x \equiv 0 \pmod{2\pi}$. The area
    element is $dx = 4\,|h'(\phi)|\,df$ with $h' = 1 + 0.25\rho\sin\phi\, e^{\rho\cos\phi}$, so
    $p(x) = \tfrac15\sum_k\sum_{\text{roots}} p_f(f)/(4|h'|)$.
    """
    xd = x.double()
    out = []
    phis = torch.linspace(-math.pi, math.pi, grid + 1, dtype=torch.float64)
    for start in range(0, xd.shape[0], chunk):
        xs = xd[start : start + chunk]
        rho = (xs.norm(dim=1) / 2)[:, None, None]
        theta = torch.atan2(xs[:, 1], xs[:, 0])[:, None, None]
        k = torch.arange(_PIN_CLASSES, dtype=torch.float64)[None, :, None]
        offset = 2 * math.pi * k / _PIN_CLASSES + theta

        def h(phi: Tensor, rho: Tensor = rho, offset: Tensor = offset) -> Tensor:
            val = phi - _PIN_RATE * torch.exp(rho * torch.cos(phi)) - offset
            return torch.remainder(val + math.pi, 2 * math.pi) - math.pi

        def dh(phi: Tensor, rho: Tensor = rho) -> Tensor:
            return 1 + _PIN_RATE * rho * torch.sin(phi) * torch.exp(rho * torch.cos(phi))

        vals = h(phis[None, None, :])
        lo, hi = vals[..., :-1], vals[..., 1:]
        # A root where the wrapped value changes sign without jumping across ±π.
        bracket = (torch.sign(lo) != torch.sign(hi)) & ((hi - lo).abs() < math.pi)
        phi = phis[None, None, :-1] - lo * (phis[1] - phis[0]) / (hi - lo).where(
            bracket, torch.ones_like(hi)
        )
        for _ in range(4):
            phi = phi - h(phi) / dh(phi)
        f0 = rho * torch.cos(phi)
        f1 = rho * torch.sin(phi)
        log_pf = (
            -0.5 * ((f0 - 1) / _PIN_RADIAL) ** 2
            - 0.5 * (f1 / _PIN_TANGENTIAL) ** 2
            - _LOG_2PI
            - math.log(_PIN_RADIAL * _PIN_TANGENTIAL)
        )
        terms = log_pf - torch.log(4 * dh(phi).abs())
        terms = torch.where(bracket, terms, torch.full_like(terms, -math.inf))
        out.append(torch.logsumexp(terms.flatten(1), dim=1) - math.log(_PIN_CLASSES))
    return torch.cat(out).to(x.dtype)


def _log_prob_moons(x: Tensor, nodes: int = 400) -> Tensor:
    t = (torch.arange(nodes, dtype=torch.float64) + 0.5) * (math.pi / nodes)
    outer = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    inner = torch.stack([1 - torch.cos(t), 1 - torch.sin(t) - 0.5], dim=1)
    shift = torch.tensor([-1.0, -0.2], dtype=torch.float64)
    centers = torch.cat([outer, inner]) * 2 + shift  # [2*nodes, 2]
    std = 2 * _MOON_NOISE
    out = []
    xd = x.double()
    for start in range(0, xd.shape[0], 2048):
        xs = xd[start : start + 2048]
        d2 = ((xs[:, None, :] - centers[None]) ** 2).sum(-1)
        log_comp = -0.5 * d2 / std**2 - _LOG_2PI - 2 * math.log(std)
        out.append(torch.logsumexp(log_comp, dim=1) - math.log(2 * nodes))
    return torch.cat(out).to(x.dtype)


_LOG_PROBS: dict[str, Callable[[Tensor], Tensor]] = {
    "8gaussians": _log_prob_8gaussians,
    "checkerboard": _log_prob_checkerboard,
    "2spirals": _log_prob_2spirals,
    "rings": _log_prob_rings,
    "pinwheel": _log_prob_pinwheel,
    "moons": _log_prob_moons,
}


def data_log_prob(name: str, x: Tensor, *, differentiable: bool = False) -> Tensor:
    """The exact log-density of a dataset's generating process.

    For a product ``<name>-x<k>`` it is the sum of the 2-D log-densities of the k blocks
    ``x[:, 2j:2j+2]``.

    Args:
        name: one of `DATASETS`, or ``<name>-x<k>``.
        x: Tensor[N, d] of points, d = `dataset_dim(name)`.
        differentiable: let gradients flow to x, so that $-\\log p$ can serve as an energy
            with a known exact sampler (`sample_data`) and $\\log Z = 0$, e.g. for
            `bidirectional_log_z`. Off by default: no graph is kept. (``checkerboard``'s density
            is piecewise constant and has no useful gradient.)

    Returns:
        Tensor[N] of log p(x) (``-inf`` outside the support of ``checkerboard``), in x's dtype.
    """
    base, copies = _check_name(name)
    if base == _DIGITS:
        raise ValueError("digits has no exact density (real data); score a model by its test NLL")
    d = dataset_dim(name)
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != d:
        raise ValueError(f"x must be a Tensor[N, {d}], got {getattr(x, 'shape', type(x))}")
    with torch.set_grad_enabled(differentiable and torch.is_grad_enabled()):
        if base == "gmm" or x.device.type == "cpu":
            return _data_log_prob(base, copies, d, x)
        with x.device:  # the constants of the formulas on x's device
            return _data_log_prob(base, copies, d, x)


def _data_log_prob(base: str, copies: int, d: int, x: Tensor) -> Tensor:
    if base == "gmm":
        return _log_prob_gmm(d, x)
    if copies == 1:
        return _LOG_PROBS[base](x)
    blocks = _LOG_PROBS[base](x.reshape(-1, 2))
    return blocks.reshape(x.shape[0], copies).sum(1)


def reference_nll(
    name: str, *, n_samples: int = 400_000, generator: torch.Generator | None = None
) -> tuple[float, float]:
    """The data's differential entropy in nats, with its standard error.

    Exact for ``checkerboard`` (ln 32, error 0; k ln 32 for ``checkerboard-x<k>``). Otherwise the
    Monte-Carlo mean of $-\\log p(x)$ over `n_samples` fresh samples, with the exact
    log-density `data_log_prob`, and the standard error of that mean. For a product the samples
    are d-dimensional, each costing k 2-D densities: the mean equals k times the 2-D mean over
    the ``n_samples * k`` blocks.

    Args:
        name: one of `DATASETS`, or ``<name>-x<k>``.
        n_samples: Monte-Carlo sample size.
        generator: torch.Generator for the samples (seed 0 when None).

    Returns:
        (entropy, standard_error).
    """
    base, copies = _check_name(name)
    if base == _DIGITS:
        raise ValueError("digits has no known entropy (real data): its models are compared by "
                         "test NLL")
    if base == "checkerboard":
        return copies * math.log(32.0), 0.0
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    if base != "gmm":
        x = sample_data(name, n_samples, generator, dtype=torch.float64)
        nll = -data_log_prob(name, x)
        return float(nll.mean()), float(nll.std() / math.sqrt(n_samples))
    total, total_sq, done = 0.0, 0.0, 0
    while done < n_samples:  # in chunks: 10^6 points of 32 dimensions need no gigabyte
        m = min(100_000, n_samples - done)
        nll = -data_log_prob(name, sample_data(name, m, generator, dtype=torch.float64))
        total, total_sq, done = total + float(nll.sum()), total_sq + float((nll * nll).sum()), \
            done + m
    mean = total / n_samples
    variance = max(0.0, (total_sq - n_samples * mean * mean) / max(1, n_samples - 1))
    return mean, math.sqrt(variance / n_samples)
