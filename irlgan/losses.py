r"""The losses that connect GANs, maximum-entropy IRL and energy-based models.

Every function here is pure: it takes one value per sample as 1-D tensors and returns a 0-d
tensor (``discriminator_logit`` returns one logit per sample). Algorithms call these functions;
nothing else in `irlgan` writes loss arithmetic of its own.

Notation (see the theory pages): a batch holds demonstrations ("data", distribution $p$) and
samples of the sampler ("gen", density $q$). For each sample we are given its cost $c$ (or
energy $E$) and the current sampler's log-density $\log q$. The model is
$p_\theta = e^{-c}/Z$ and the discriminator is

$$ D = \sigma(\ell), \qquad \ell = -c - \log Z - \log q, $$

always handled through $\ell$ (log-sigmoid, softplus), never as a probability.

Expectations are weighted means $\mathbb{E}_w[f] = \sum_i w_i f_i / \sum_i w_i$ (uniform when the
weights are ``None``). With the probabilities of a finite support as the weights these are exact
expectations, which is how the oracle tests check this module.

**Checks.** Every function validates its inputs: shapes, dtypes and emptiness always (these are
known on the host), and in the default ``"checked"`` mode also their values (every value
finite, weights non-negative with a positive sum), which reads the values back to the host: on a
GPU, a synchronisation per call. In ``"fast"`` mode (`set_checks`, or the `checks` context) the
value checks are skipped, a non-finite input gives a non-finite loss instead of an error, and
no function but `optimal_log_z` (a scalar search) waits for the device. The trainers use the
fast mode on GPUs and catch non-finite values once per iteration (`irlgan.errors`); tests and
the CPU keep the checked mode, where a check costs nothing.

``log_z`` is a learned scalar. For a log-partition that depends on the initial state,
$\log Z(x_0)$, pass a pair ``(log_z_data, log_z_gen)`` of 1-D tensors with one value per sample
(`discriminator_logit` takes a 1-D tensor directly). `optimal_log_z` only concerns the scalar.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "checks",
    "checks_for",
    "cost_loss",
    "discriminator_logit",
    "discriminator_loss",
    "generator_loss",
    "importance_ess",
    "importance_log_z",
    "optimal_log_z",
    "sampler_loss",
    "set_checks",
]

LogZ = Tensor | float | tuple[Tensor, Tensor]

_LOG_HALF = -math.log(2.0)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

CheckMode = Literal["checked", "fast"]
_mode: list[CheckMode] = ["checked"]


def set_checks(mode: CheckMode) -> CheckMode:
    """Sets how the losses validate their inputs for this process; returns the previous mode.

    ``"checked"`` (the default): shapes, dtypes and values, with one host read per check.
    ``"fast"``: shapes and dtypes only, no host synchronisation.
    """
    if mode not in ("checked", "fast"):
        raise ValueError(f"checks must be 'checked' or 'fast', got {mode!r}")
    previous = _mode[0]
    _mode[0] = mode
    return previous


@contextlib.contextmanager
def checks(mode: CheckMode) -> Iterator[None]:
    """The losses validate in ``mode`` inside the block (see `set_checks`)."""
    previous = set_checks(mode)
    try:
        yield
    finally:
        _mode[0] = previous


def checks_for(device: torch.device) -> contextlib.AbstractContextManager[None]:
    """The checks a trainer on `device` uses: the current mode on the CPU (a check costs
    nothing there), ``"fast"`` on any other device."""
    return contextlib.nullcontext() if device.type == "cpu" else checks("fast")


def _checked() -> bool:
    return _mode[0] == "checked"


def _as_vector(name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 1:
        raise ValueError(f"{name} must be 1-D (one value per sample), got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} is empty: a batch needs at least one sample")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if _checked() and not bool(torch.isfinite(x).all()):
        bad = "NaN" if bool(torch.isnan(x).any()) else "inf"
        raise ValueError(f"{name} contains {bad}; every value must be finite")
    return x


def _check_same_length(names: Sequence[str], tensors: Sequence[Tensor]) -> None:
    first = tensors[0].shape
    for name, t in zip(names[1:], tensors[1:], strict=True):
        if t.shape != first:
            raise ValueError(
                f"{name} has shape {tuple(t.shape)} but {names[0]} has shape {tuple(first)}; "
                "they must describe the same samples"
            )


def _log_weights(name: str, weight: Tensor | None, like: Tensor) -> Tensor:
    """Log of the normalised weights (log 1/B each when ``weight`` is None)."""
    n = like.shape[0]
    if weight is None:
        return torch.full_like(like, -math.log(n)).detach()
    weight = _as_vector(name, weight)
    if weight.shape != like.shape:
        raise ValueError(
            f"{name} has shape {tuple(weight.shape)} but the samples it weights have shape "
            f"{tuple(like.shape)}"
        )
    total = weight.sum()
    if _checked() and bool((weight < 0).any()):
        raise ValueError(f"{name} has negative entries; weights must be non-negative")
    if _checked() and not bool(total > 0):
        raise ValueError(f"{name} sums to zero; at least one weight must be positive")
    return torch.log(weight.to(like.dtype)) - torch.log(total.to(like.dtype))


def _normalised_weights(name: str, weight: Tensor | None, like: Tensor) -> Tensor:
    return torch.exp(_log_weights(name, weight, like))


def _common_dtype(*tensors: Tensor) -> torch.dtype:
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def _scalar_log_z(log_z: object, dtype: torch.dtype, device: torch.device) -> Tensor:
    if isinstance(log_z, Tensor):
        if log_z.numel() != 1 or log_z.dim() > 1:
            raise ValueError(
                f"log_z must be a scalar (0-d tensor or float), got shape {tuple(log_z.shape)}; "
                "for a per-sample log Z(x_0) pass a pair (log_z_data, log_z_gen)"
            )
        if not log_z.is_floating_point():
            raise ValueError(f"log_z must be floating point, got dtype {log_z.dtype}")
        if _checked() and not bool(torch.isfinite(log_z).all()):
            raise ValueError("log_z must be finite")
        return log_z.reshape(())
    if isinstance(log_z, bool) or not isinstance(log_z, (int, float)):
        raise ValueError(
            "log_z must be a float, a 0-d tensor or a pair (log_z_data, log_z_gen) of 1-D tensors, "
            f"got {type(log_z).__name__}"
        )
    if not math.isfinite(float(log_z)):
        raise ValueError("log_z must be finite")
    return torch.tensor(float(log_z), dtype=dtype, device=device)


def _split_log_z(
    log_z: object, n_data: int, n_gen: int, dtype: torch.dtype, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Return log Z for the data and the generated samples (scalars or per-sample vectors)."""
    if isinstance(log_z, tuple):
        if len(log_z) != 2:
            raise ValueError("log_z as a tuple must be a pair (log_z_data, log_z_gen)")
        log_z_data = _as_vector("log_z_data (log_z[0])", log_z[0])
        log_z_gen = _as_vector("log_z_gen (log_z[1])", log_z[1])
        if log_z_data.shape[0] != n_data:
            raise ValueError(
                f"log_z_data (log_z[0]) has {log_z_data.shape[0]} values for {n_data} data samples"
            )
        if log_z_gen.shape[0] != n_gen:
            raise ValueError(
                f"log_z_gen (log_z[1]) has {log_z_gen.shape[0]} values for {n_gen} generated "
                "samples"
            )
        return log_z_data, log_z_gen
    scalar = _scalar_log_z(log_z, dtype, device)
    return scalar, scalar


class _Batch:
    """Validated inputs of the two-sided losses, cast to one dtype."""

    def __init__(
        self,
        cost_data: Tensor,
        log_q_data: Tensor,
        cost_gen: Tensor,
        log_q_gen: Tensor,
        log_z: object,
        weight_data: Tensor | None,
        weight_gen: Tensor | None,
        *,
        need_log_z: bool = True,
    ) -> None:
        cost_data = _as_vector("cost_data", cost_data)
        log_q_data = _as_vector("log_q_data", log_q_data)
        cost_gen = _as_vector("cost_gen", cost_gen)
        log_q_gen = _as_vector("log_q_gen", log_q_gen)
        _check_same_length(["cost_data", "log_q_data"], [cost_data, log_q_data])
        _check_same_length(["cost_gen", "log_q_gen"], [cost_gen, log_q_gen])
        dtype = _common_dtype(cost_data, log_q_data, cost_gen, log_q_gen)
        self.cost_data = cost_data.to(dtype)
        self.log_q_data = log_q_data.to(dtype)
        self.cost_gen = cost_gen.to(dtype)
        self.log_q_gen = log_q_gen.to(dtype)
        self.log_w_data = _log_weights("weight_data", weight_data, self.cost_data)
        self.log_w_gen = _log_weights("weight_gen", weight_gen, self.cost_gen)
        if need_log_z:
            lz_data, lz_gen = _split_log_z(
                log_z, cost_data.shape[0], cost_gen.shape[0], dtype, cost_data.device
            )
            self.log_z_data = lz_data.to(dtype)
            self.log_z_gen = lz_gen.to(dtype)

    def mean_data(self, f: Tensor) -> Tensor:
        return (torch.exp(self.log_w_data) * f).sum()

    def mean_gen(self, f: Tensor) -> Tensor:
        return (torch.exp(self.log_w_gen) * f).sum()


# --------------------------------------------------------------------------------------------
# The losses
# --------------------------------------------------------------------------------------------


def _logit(cost: Tensor, log_q: Tensor, log_z: object, names: tuple[str, str, str]) -> Tensor:
    cost = _as_vector(names[0], cost)
    log_q = _as_vector(names[1], log_q)
    _check_same_length(names[:2], [cost, log_q])
    dtype = _common_dtype(cost, log_q)
    if isinstance(log_z, Tensor) and log_z.dim() == 1 and log_z.numel() != 1:
        log_z = _as_vector(names[2], log_z)
        _check_same_length([names[0], names[2]], [cost, log_z])
    else:
        log_z = _scalar_log_z(log_z, dtype, cost.device)
    return -cost.to(dtype) - log_z.to(dtype) - log_q.to(dtype)


def discriminator_logit(cost: Tensor, log_q: Tensor, log_z: Tensor | float) -> Tensor:
    r"""Per-sample discriminator logit $\ell = -c - \log Z - \log q$.

    $D = \sigma(\ell) = \dfrac{e^{-c}/Z}{e^{-c}/Z + q}$ is the probability that the sample is a
    demonstration; the logit is the log-ratio of the model density to the sampler density.

    Args:
        cost: Tensor[B], cost (or energy) of each sample.
        log_q: Tensor[B], the sampler's log-density at each sample.
        log_z: scalar log Z, or Tensor[B] with one log Z(x_0) per sample.

    Returns:
        Tensor[B] of logits.
    """
    return _logit(cost, log_q, log_z, ("cost", "log_q", "log_z"))


def discriminator_loss(
    cost_data: Tensor,
    log_q_data: Tensor,
    cost_gen: Tensor,
    log_q_gen: Tensor,
    log_z: LogZ,
    *,
    weight_data: Tensor | None = None,
    weight_gen: Tensor | None = None,
) -> Tensor:
    r"""Binary cross-entropy of the discriminator, $L_\text{disc}$.

    $$ L_\text{disc} = \mathbb{E}_p[-\log\sigma(\ell)] + \mathbb{E}_q[-\log\sigma(-\ell)]
       = \mathbb{E}_p[\operatorname{softplus}(-\ell)]
       + \mathbb{E}_q[\operatorname{softplus}(\ell)]. $$

    Args:
        cost_data: Tensor[N], costs of the demonstrations.
        log_q_data: Tensor[N], the sampler's log-density at the demonstrations.
        cost_gen: Tensor[M], costs of the sampler's samples.
        log_q_gen: Tensor[M], the sampler's log-density at its samples.
        log_z: scalar log Z, or a pair (Tensor[N], Tensor[M]) of per-sample log Z(x_0).
        weight_data: optional non-negative Tensor[N]; uniform when None.
        weight_gen: optional non-negative Tensor[M]; uniform when None.

    Returns:
        0-d tensor.
    """
    b = _Batch(cost_data, log_q_data, cost_gen, log_q_gen, log_z, weight_data, weight_gen)
    logit_data = -b.cost_data - b.log_z_data - b.log_q_data
    logit_gen = -b.cost_gen - b.log_z_gen - b.log_q_gen
    return b.mean_data(torch.nn.functional.softplus(-logit_data, threshold=50.0)) + b.mean_gen(
        torch.nn.functional.softplus(logit_gen, threshold=50.0)
    )


def generator_loss(
    cost_gen: Tensor,
    log_q_gen: Tensor,
    log_z: Tensor | float,
    *,
    weight_gen: Tensor | None = None,
) -> Tensor:
    r"""The generator's loss, $L_\text{gen} = \mathbb{E}_q[\log(1-D) - \log D]$.

    $L_\text{gen} = \mathbb{E}_q[-\ell]$.

    It equals `sampler_loss` plus $\log Z$, so minimising it over the sampler is the MaxEnt-RL
    sampler step.

    Args:
        cost_gen: Tensor[M], costs of the sampler's samples.
        log_q_gen: Tensor[M], the sampler's log-density at its samples.
        log_z: scalar log Z, or Tensor[M] with one log Z(x_0) per sample.
        weight_gen: optional non-negative Tensor[M].

    Returns:
        0-d tensor.
    """
    logit = _logit(cost_gen, log_q_gen, log_z, ("cost_gen", "log_q_gen", "log_z"))
    w = _normalised_weights("weight_gen", weight_gen, logit)
    return (w * -logit).sum()


def sampler_loss(
    cost_gen: Tensor, log_q_gen: Tensor, *, weight_gen: Tensor | None = None
) -> Tensor:
    r"""The MaxEnt-RL sampler objective $L_\text{sampler} = \mathbb{E}_q[c] + \mathbb{E}_q[\log q]$.

    Args:
        cost_gen: Tensor[M], costs of the sampler's samples.
        log_q_gen: Tensor[M], the sampler's log-density at its samples.
        weight_gen: optional non-negative Tensor[M].

    Returns:
        0-d tensor.
    """
    cost_gen = _as_vector("cost_gen", cost_gen)
    log_q_gen = _as_vector("log_q_gen", log_q_gen)
    _check_same_length(["cost_gen", "log_q_gen"], [cost_gen, log_q_gen])
    dtype = _common_dtype(cost_gen, log_q_gen)
    total = cost_gen.to(dtype) + log_q_gen.to(dtype)
    w = _normalised_weights("weight_gen", weight_gen, total)
    return (w * total).sum()


def _log_importance_terms(b: _Batch) -> tuple[Tensor, Tensor]:
    r"""Per-sample $\log(\hat w_i\, e^{-c_i}/\tilde\mu_i)$ with $\tilde\mu$ held constant.

    $\hat w$ are the weights of $\mu = \tfrac12 p + \tfrac12 q$ (each side's normalised weights
    halved).
    """
    with torch.no_grad():
        log_mu_tilde_data = (
            torch.logaddexp(-b.cost_data - b.log_z_data, b.log_q_data) + _LOG_HALF
        )
        log_mu_tilde_gen = torch.logaddexp(-b.cost_gen - b.log_z_gen, b.log_q_gen) + _LOG_HALF
    terms_data = _LOG_HALF + b.log_w_data - b.cost_data - log_mu_tilde_data
    terms_gen = _LOG_HALF + b.log_w_gen - b.cost_gen - log_mu_tilde_gen
    return terms_data, terms_gen


def importance_ess(
    cost_data: Tensor,
    log_q_data: Tensor,
    cost_gen: Tensor,
    log_q_gen: Tensor,
    log_z: LogZ,
    *,
    weight_data: Tensor | None = None,
    weight_gen: Tensor | None = None,
    part: Literal["all", "gen"] = "all",
) -> Tensor:
    r"""Kish's effective sample size of the weights the cost gradient puts on the batch.

    Both cost objectives pull the cost down on the demonstrations and push it up on the whole
    batch $\mu$ (demonstrations and samples) with weights $\hat w_k D_k$: the gradient of
    `discriminator_loss` with respect to the costs is
    $\sum_{i \in p} \hat w^p_i \nabla c_i - \sum_k \hat w_k D_k \nabla c_k$ ($\hat w$: the weights
    of $\mu = \tfrac12 p + \tfrac12 q$), and that of `cost_loss` is the same with the weights
    normalised, $\bar w_k \propto \hat w_k e^{-c_k}/\tilde\mu_k \propto \hat w_k D_k$ for a scalar
    $Z$ (at `optimal_log_z` the two gradients coincide). This returns
    $(\sum_k \hat w_k D_k)^2 / \sum_k (\hat w_k D_k)^2$: between 1 (one trajectory carries the
    whole push) and $1/\sum_k \hat w_k^2$ ($N + M$ for $N = M$ uniform weights, all $D$ equal).
    With ``part="gen"`` the same over the sampler's samples alone: how many generated
    trajectories the push up rests on (on a batch the discriminator separates, $D \approx 1$ on
    the demonstrations and their weights dominate the whole batch's size). A diagnostic: no
    gradient flows through it.

    Args:
        cost_data, log_q_data, cost_gen, log_q_gen, log_z, weight_data, weight_gen: as in
            `discriminator_loss` (`log_z` a scalar or a per-sample pair).
        part: ``"all"`` (the whole batch) or ``"gen"`` (the samples only).

    Returns:
        0-d tensor.
    """
    b = _Batch(cost_data, log_q_data, cost_gen, log_q_gen, log_z, weight_data, weight_gen)
    with torch.no_grad():
        logit_data = -b.cost_data - b.log_z_data - b.log_q_data
        logit_gen = -b.cost_gen - b.log_z_gen - b.log_q_gen
        log_w_gen = b.log_w_gen + torch.nn.functional.logsigmoid(logit_gen)
        if part == "gen":
            log_w = log_w_gen
        elif part == "all":
            log_w = torch.cat([b.log_w_data + torch.nn.functional.logsigmoid(logit_data),
                               log_w_gen])
        else:
            raise ValueError(f"part must be 'all' or 'gen', got {part!r}")
        return torch.exp(2 * torch.logsumexp(log_w, dim=0) - torch.logsumexp(2 * log_w, dim=0))


def importance_log_z(
    cost_data: Tensor,
    log_q_data: Tensor,
    cost_gen: Tensor,
    log_q_gen: Tensor,
    log_z: LogZ,
    *,
    weight_data: Tensor | None = None,
    weight_gen: Tensor | None = None,
) -> Tensor:
    r"""Importance-sampling estimate of the log-partition function.

    $$ \log\hat Z = \log \mathbb{E}_\mu\!\left[\frac{e^{-c}}{\tilde\mu}\right], \qquad
       \mu = \tfrac12 p + \tfrac12 q, \qquad \tilde\mu = \tfrac12 e^{-c}/Z + \tfrac12 q, $$

    where $\tilde\mu$ uses the given ``log_z`` and is a constant for autograd: gradients flow to
    the costs only. The discriminator's optimal log Z is the fixed point $\hat Z(Z) = Z$.

    Args:
        cost_data, log_q_data, cost_gen, log_q_gen, log_z, weight_data, weight_gen: as in
            `discriminator_loss`.

    Returns:
        0-d tensor.
    """
    b = _Batch(cost_data, log_q_data, cost_gen, log_q_gen, log_z, weight_data, weight_gen)
    terms_data, terms_gen = _log_importance_terms(b)
    return torch.logsumexp(torch.cat([terms_data, terms_gen]), dim=0)


def cost_loss(
    cost_data: Tensor,
    log_q_data: Tensor,
    cost_gen: Tensor,
    log_q_gen: Tensor,
    log_z: LogZ,
    *,
    weight_data: Tensor | None = None,
    weight_gen: Tensor | None = None,
) -> Tensor:
    r"""Guided cost learning's (negative log-likelihood) cost objective.

    $$ L_\text{cost} = \mathbb{E}_p[c] + \log\hat Z, $$

    with $\tilde\mu$ held constant. At ``log_z = optimal_log_z(...)`` its gradient with respect
    to the costs equals that of `discriminator_loss`.

    Its gradient on a demonstration is its batch weight minus its share of $\hat Z$, two terms
    that cancel when the batch is separated ($D \approx 1$ on the data, $\approx 0$ on the
    samples): by tens of nats, as trajectory batches are, only rounding is left (float32: norms
    of $10^{-7}$ where the exact gradient is $10^{-20}$). For a step at the optimal log Z take
    the gradient of `discriminator_loss` there, as `irlgan.algorithms.gcl_cost_loss` does.

    Args:
        cost_data, log_q_data, cost_gen, log_q_gen, log_z, weight_data, weight_gen: as in
            `discriminator_loss`.

    Returns:
        0-d tensor.
    """
    b = _Batch(cost_data, log_q_data, cost_gen, log_q_gen, log_z, weight_data, weight_gen)
    terms_data, terms_gen = _log_importance_terms(b)
    return b.mean_data(b.cost_data) + torch.logsumexp(torch.cat([terms_data, terms_gen]), dim=0)


def optimal_log_z(
    cost_data: Tensor,
    log_q_data: Tensor,
    cost_gen: Tensor,
    log_q_gen: Tensor,
    *,
    weight_data: Tensor | None = None,
    weight_gen: Tensor | None = None,
    max_iter: int = 200,
) -> Tensor:
    r"""The scalar log Z that minimises `discriminator_loss`, to float64 precision.

    $\partial L_\text{disc}/\partial \log Z = \mathbb{E}_p[1-D] - \mathbb{E}_q[D]$, which grows
    strictly with $b = \log Z$ (from $-1$ to $1$), so the loss is convex in $\log Z$ and the
    minimiser is the unique root of

    $$ g(b) = \log\frac{\mathbb{E}_p[\sigma(a - b)]}{\mathbb{E}_q[\sigma(b - a)]}
       - \log\frac{\mathbb{E}_p[\sigma(b - a)]}{\mathbb{E}_q[\sigma(a - b)]},
       \qquad a = -c - \log q, $$

    a form without the cancellation of $\mathbb{E}_p D + \mathbb{E}_q D - 1$ on nearly separable
    batches. Each of its two terms alone has the same root, but rounds to 0 over tens of nats
    on batches that the discriminator separates (the first) or separates the wrong way round
    (the second) beyond float64's resolution; their difference does not. Its slope lies in
    $(-4, 0)$. The root lies in
    $[-\log(2\sum \hat w e^{-a}),\ \log(2\sum \hat w e^{a})]$ ($\hat w$: the weights of $\mu$),
    and a Newton iteration safeguarded by bisection of that bracket converges in a few steps,
    where the fixed-point iteration $b \leftarrow \log\hat Z(b)$ can crawl for thousands.

    The result is differentiable: one Newton step with a constant slope carries the gradient of
    the implicit function, $\partial b^* = -\partial_x g / \partial_b g$.

    Args:
        cost_data, log_q_data, cost_gen, log_q_gen, weight_data, weight_gen: as in
            `discriminator_loss`.
        max_iter: iteration cap of the safeguarded Newton search.

    Returns:
        0-d tensor in the inputs' dtype.
    """
    b = _Batch(
        cost_data, log_q_data, cost_gen, log_q_gen, None, weight_data, weight_gen, need_log_z=False
    )
    dtype = b.cost_data.dtype
    a_data = -b.cost_data - b.log_q_data
    a_gen = -b.cost_gen - b.log_q_gen
    logsig = torch.nn.functional.logsigmoid

    def g_and_slope(ad: Tensor, ag: Tensor, lwd: Tensor, lwg: Tensor, x: Tensor):
        # log(E_p D / E_q (1 - D)), informative while some D is far from 1 on the data or from
        # 0 on the samples ...
        td = lwd + logsig(ad - x)
        tg = lwg + logsig(x - ag)
        g1 = torch.logsumexp(td, dim=0) - torch.logsumexp(tg, dim=0)
        slope1 = -(torch.softmax(td, 0) * torch.sigmoid(x - ad)).sum() - (
            torch.softmax(tg, 0) * torch.sigmoid(ag - x)
        ).sum()
        # ... and log(E_p (1 - D) / E_q D), informative on a batch the discriminator separates
        # beyond float64's resolution, where the first rounds to 0 over a range of tens of nats.
        # Both vanish at the same root only, so their difference is exact everywhere.
        ud = lwd + logsig(x - ad)
        ug = lwg + logsig(ag - x)
        g2 = torch.logsumexp(ud, dim=0) - torch.logsumexp(ug, dim=0)
        slope2 = (torch.softmax(ud, 0) * torch.sigmoid(ad - x)).sum() + (
            torch.softmax(ug, 0) * torch.sigmoid(x - ag)
        ).sum()
        return g1 - g2, slope1 - slope2

    with torch.no_grad():
        ad, ag = a_data.detach().double(), a_gen.detach().double()
        lwd, lwg = b.log_w_data.detach().double(), b.log_w_gen.detach().double()
        a_all = torch.cat([ad, ag])
        lw_mu = torch.cat([lwd, lwg])  # log of 2 * (weights of mu)
        lo = -torch.logsumexp(lw_mu - a_all, dim=0).item()
        hi = torch.logsumexp(lw_mu + a_all, dim=0).item()

        def g_at(x: float) -> tuple[float, float]:
            g, slope = g_and_slope(ad, ag, lwd, lwg,
                                   torch.tensor(x, dtype=torch.float64, device=ad.device))
            return g.item(), slope.item()

        # The bounds hold analytically; widen them if rounding says otherwise.
        width = 1.0
        while g_at(lo)[0] < 0:
            lo -= width
            width *= 2
        width = 1.0
        while g_at(hi)[0] > 0:
            hi += width
            width *= 2
        x = 0.5 * (lo + hi)
        for _ in range(max_iter):
            f, slope = g_at(x)
            if f == 0:
                break
            if f > 0:
                lo = x
            else:
                hi = x
            x_new = x - f / slope if slope < 0 else math.nan
            if not lo < x_new < hi:
                x_new = 0.5 * (lo + hi)
            done = abs(x_new - x) <= 2e-16 * max(1.0, abs(x)) or hi - lo <= 4e-16 * max(
                1.0, abs(x)
            )
            x = x_new
            if done:
                break
        root = torch.tensor(x, dtype=torch.float64, device=ad.device)
        slope = g_and_slope(ad, ag, lwd, lwg, root)[1]

    root_d = root.to(dtype)
    if not (a_data.requires_grad or a_gen.requires_grad or b.log_w_data.requires_grad
            or b.log_w_gen.requires_grad):
        return root_d
    # Implicit-function gradient -g_x / g_b; the value stays exactly the root found above.
    g, _ = g_and_slope(a_data, a_gen, b.log_w_data, b.log_w_gen, root_d)
    return root_d - (g - g.detach()) / slope.to(dtype)
