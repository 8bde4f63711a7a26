"""Identity (a): the optimal partition function is the importance-sampling estimate."""

from __future__ import annotations

import sympy as sp

from derivations._algebra import (
    SUPPORT_SIZES,
    disc_loss,
    expect,
    finite_support,
    importance_z,
    logit,
    mu_tilde,
    rational_zero,
    sigmoid,
    sum_of_squares,
)
from derivations._algebra import with_cost_name as _sub
from derivations._records import ProofRecord, Timer

FAMILY = "partition"

A_TITLE = "(a) The optimal Z is the importance-sampling estimate"
A_STATEMENT = (
    r"Z\,\frac{\partial \mathcal{L}_{\mathrm{disc}}}{\partial Z} = 1 - \frac{\hat Z(Z)}{Z},"
    r"\qquad \hat Z(Z) = \mathbb{E}_\mu\!\left[\frac{e^{-@c}}{\tilde\mu}\right],"
    r"\quad \tilde\mu = \tfrac12\,\tfrac1Z e^{-@c} + \tfrac12 q,"
    r"\quad\text{so}\quad \frac{\partial \mathcal{L}_{\mathrm{disc}}}{\partial Z} = 0"
    r"\iff Z = \hat Z(Z)"
)
W_TITLE = "The importance weight is 2ZD, so Zhat = Z (E_p D + E_q D)"
W_STATEMENT = (
    r"\frac{e^{-@c}}{\tilde\mu} = 2 Z D,\qquad "
    r"\hat Z = Z\big(\mathbb{E}_p[D] + \mathbb{E}_q[D]\big),\qquad D = \sigma(-@c-\log Z-\log q)"
)
C_TITLE = "The discriminator loss is convex in log Z"
C_STATEMENT = (
    r"\frac{\partial \mathcal{L}_{\mathrm{disc}}}{\partial \log Z} = "
    r"1 - \big(\mathbb{E}_p[D] + \mathbb{E}_q[D]\big),\qquad "
    r"\frac{\partial^{2} \mathcal{L}_{\mathrm{disc}}}{\partial (\log Z)^{2}} = "
    r"\mathbb{E}_p[D(1-D)] + \mathbb{E}_q[D(1-D)] > 0"
)


def _pointwise_symbols(cost_name: str) -> tuple[sp.Symbol, ...]:
    p, q, z, e = sp.symbols("p q Z E_x", positive=True)
    return p, q, z, e, sp.Symbol(cost_name, real=True)


def a_integrand(family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """Pointwise form of (a); the integral of ``p`` is one."""
    timer = Timer(family)
    p, q, z, e, c = _pointwise_symbols(cost_name)
    ell = logit(c, z, q)
    integrand = -p * sp.log(sigmoid(ell)) - q * sp.log(sigmoid(-ell))
    mu = (p + q) / 2
    rhs = p - mu * (sp.exp(-c) / mu_tilde(c, z, q)) / z
    residual = rational_zero((z * sp.diff(integrand, z) - rhs).subs(c, sp.log(e)))
    return timer.record(
        name="a-optimal-z",
        title=A_TITLE,
        statement=_sub(A_STATEMENT, cost_name),
        assumptions=[
            _sub(r"$p, q > 0$ densities of probability measures, $Z>0$, @c real", cost_name),
            _sub(
                r"$\int e^{-@c}/\tilde\mu\,d\mu < \infty$ (differentiation under the "
                r"integral)",
                cost_name,
            ),
        ],
        level="integrand",
        residual=residual,
        steps=[
            _sub(
                r"g = -p\log\sigma(\ell) - q\log\sigma(-\ell),\quad \ell = -@c-\log Z-\log q",
                cost_name,
            ),
            _sub(
                r"Z\,\partial_Z g = p(1-D) - qD = p - 2\mu D,\qquad "
                r"2D = \frac{e^{-@c}}{Z\tilde\mu}",
                cost_name,
            ),
            _sub(
                r"Z\,\partial_Z g - \Big(p - \mu\,\frac{e^{-@c}}{Z\tilde\mu}\Big) = 0"
                r"\quad\text{(pointwise, residual below)}",
                cost_name,
            ),
            _sub(
                r"\text{integrate, using } \int p = 1:\quad "
                r"Z\,\partial_Z\mathcal{L}_{\mathrm{disc}}"
                r" = 1 - \frac1Z\,\mathbb{E}_\mu\!\left[\frac{e^{-@c}}{\tilde\mu}\right]"
                r" = 1 - \frac{\hat Z(Z)}{Z}",
                cost_name,
            ),
        ],
    )


def a_finite(n: int, family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """(a) on a support of ``n`` points."""
    timer = Timer(family)
    s = finite_support(n, cost_name)
    loss = disc_loss(s.p, s.q, s.cost, s.z, s.q)
    zhat = importance_z(
        s.p, s.q, s.cost, [mu_tilde(c, s.z, q) for c, q in zip(s.cost, s.q, strict=True)]
    )
    residual = rational_zero(s.rationalize(s.z * sp.diff(loss, s.z) - (1 - zhat / s.z)))
    return timer.record(
        name="a-optimal-z",
        title=A_TITLE,
        statement=_sub(A_STATEMENT, cost_name),
        assumptions=[
            f"support of ${n}$ points, $p_i, q_i>0$ normalised (last one is one minus the rest)",
            _sub(r"$Z>0$, @c_i real", cost_name),
        ],
        level=f"finite-support n={n}",
        residual=residual,
        steps=[
            _sub(
                r"\mathcal{L}_{\mathrm{disc}} = "
                r"\sum_i -p_i\log\sigma(\ell_i) - q_i\log\sigma(-\ell_i),"
                r"\quad \ell_i = -@c_i - \log Z - \log q_i",
                cost_name,
            ),
            _sub(
                r"\hat Z = \sum_i \tfrac{p_i+q_i}{2}\,\frac{e^{-@c_i}}"
                r"{\tfrac12 e^{-@c_i}/Z + \tfrac12 q_i}",
                cost_name,
            ),
            r"Z\,\partial_Z\mathcal{L}_{\mathrm{disc}} - \big(1 - \hat Z/Z\big) = 0"
            r"\quad\text{(common denominator, cancelled)}",
        ],
    )


def weight_integrand(family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """Pointwise ``exp(-c)/mu_tilde = 2 Z D``."""
    timer = Timer(family)
    _, q, z, e, c = _pointwise_symbols(cost_name)
    d = sigmoid(logit(c, z, q))
    residual = rational_zero((sp.exp(-c) / mu_tilde(c, z, q) - 2 * z * d).subs(c, sp.log(e)))
    return timer.record(
        name="importance-weight",
        title=W_TITLE,
        statement=_sub(W_STATEMENT, cost_name),
        assumptions=["$q>0$, $Z>0$"],
        level="integrand",
        residual=residual,
        steps=[
            _sub(
                r"\frac{e^{-@c}}{\tfrac12 e^{-@c}/Z + \tfrac12 q} = "
                r"2Z\,\frac{e^{-@c}/Z}{e^{-@c}/Z + q} = 2ZD",
                cost_name,
            ),
            r"\hat Z = \mathbb{E}_\mu[2ZD] = Z\big(\mathbb{E}_p[D] + \mathbb{E}_q[D]\big)"
            r"\quad\text{(linearity, } \mu = \tfrac12 p + \tfrac12 q)",
            r"\text{hence } \hat Z(Z) = Z \iff \mathbb{E}_p[D] + \mathbb{E}_q[D] = 1",
        ],
    )


def weight_finite(n: int, family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """``Zhat = Z (E_p D + E_q D)`` on ``n`` points."""
    timer = Timer(family)
    s = finite_support(n, cost_name)
    zhat = importance_z(
        s.p, s.q, s.cost, [mu_tilde(c, s.z, q) for c, q in zip(s.cost, s.q, strict=True)]
    )
    ds = [sigmoid(logit(c, s.z, q)) for c, q in zip(s.cost, s.q, strict=True)]
    residual = rational_zero(s.rationalize(zhat - s.z * (expect(s.p, ds) + expect(s.q, ds))))
    return timer.record(
        name="importance-weight",
        title=W_TITLE,
        statement=_sub(W_STATEMENT, cost_name),
        assumptions=[f"support of ${n}$ points, $p_i, q_i>0$ normalised, $Z>0$"],
        level=f"finite-support n={n}",
        residual=residual,
        steps=[r"\hat Z - Z\sum_i (p_i + q_i) D_i = 0"],
    )


def convex_integrand(family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """Pointwise first and second derivatives in ``s = log Z``."""
    timer = Timer(family)
    p, q, _, e, c = _pointwise_symbols(cost_name)
    s_log = sp.Symbol("s", real=True)
    ell = -c - s_log - sp.log(q)
    d = sigmoid(ell)
    integrand = -p * sp.log(sigmoid(ell)) - q * sp.log(sigmoid(-ell))
    first = sp.diff(integrand, s_log) - (p - (p + q) * d)
    second = sp.diff(integrand, s_log, 2) - (p + q) * d * (1 - d)
    w = sp.Symbol("w", positive=True)  # w = exp(s)
    comps = [rational_zero(r.subs(c, sp.log(e)).subs(s_log, sp.log(w))) for r in (first, second)]
    curvature = rational_zero(((p + q) * d * (1 - d)).subs(c, sp.log(e)).subs(s_log, sp.log(w)))
    return timer.record(
        name="convex-in-log-z",
        title=C_TITLE,
        statement=_sub(C_STATEMENT, cost_name),
        assumptions=["$p, q>0$ densities of probability measures"],
        level="integrand",
        residual=sum_of_squares(comps),
        steps=[
            r"\partial_{\log Z}\, g = p - (p+q)D,\qquad \partial_{\log Z} D = -D(1-D)",
            r"\partial^{2}_{\log Z}\, g = (p+q)D(1-D) = " + sp.latex(curvature) + r" > 0",
            r"\text{so } \partial_{\log Z}\mathcal{L}_{\mathrm{disc}} = "
            r"1 - (\mathbb{E}_pD+\mathbb{E}_qD)"
            r"\text{ is increasing: the minimiser over } \log Z \text{ is the unique root of }"
            r"\ \mathbb{E}_pD + \mathbb{E}_qD = 1",
        ],
        extra_ok=bool(curvature.is_positive),
    )


def proofs() -> list[ProofRecord]:
    """All records of this family."""
    out = [a_integrand(), *[a_finite(n) for n in SUPPORT_SIZES]]
    out += [weight_integrand(), *[weight_finite(n) for n in SUPPORT_SIZES]]
    out.append(convex_integrand())
    return out
