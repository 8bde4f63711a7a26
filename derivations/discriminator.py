"""The optimal discriminator and the logit form of the structured discriminator."""

from __future__ import annotations

import sympy as sp

from derivations._algebra import (
    SUPPORT_SIZES,
    finite_support,
    logit,
    rational_zero,
    sigmoid,
    sum_of_squares,
)
from derivations._records import ProofRecord, Timer

FAMILY = "discriminator"

OPT_TITLE = "The optimal discriminator is D* = p/(p+q)"
OPT_STATEMENT = (
    r"D^{*} = \arg\min_{D\in(0,1)} \big[-p\log D - q\log(1-D)\big] = \frac{p}{p+q},"
    r"\qquad D^{*}(x) = \frac{p(x)}{p(x)+q(x)} \text{ minimises } "
    r"\mathcal{L}_{\mathrm{disc}}(D) = \mathbb{E}_p[-\log D] + \mathbb{E}_q[-\log(1-D)]"
)
LOGIT_TITLE = "The structured discriminator in logit form"
LOGIT_STATEMENT = (
    r"\sigma(-c - \log Z - \log q) = \frac{\tfrac1Z e^{-c}}{\tfrac1Z e^{-c} + q},"
    r"\qquad \sigma(x) = \frac{1}{1+e^{-x}}"
)


def optimum_integrand() -> ProofRecord:
    """Pointwise: first derivative zero at ``p/(p+q)``, second derivative positive."""
    timer = Timer(FAMILY)
    p, q, d, t = sp.symbols("p q D t", positive=True)
    f = -p * sp.log(d) - q * sp.log(1 - d)
    d_star = p / (p + q)
    first = rational_zero(sp.diff(f, d).subs(d, d_star))
    second = sp.diff(f, d, 2)
    curvature = (p + q) ** 3 / (p * q)
    second_res = rational_zero(second.subs(d, d_star) - curvature)
    # Strict convexity on (0, 1): write D = 1/(1+t) with t > 0.
    convex = rational_zero(second.subs(d, 1 / (1 + t)))
    extra_ok = bool(curvature.is_positive) and bool(convex.is_positive)
    return timer.record(
        name="optimum",
        title=OPT_TITLE,
        statement=OPT_STATEMENT,
        assumptions=["$p>0$, $q>0$ at the point", "$D\\in(0,1)$"],
        level="integrand",
        residual=sum_of_squares([first, second_res]),
        steps=[
            r"f(D) = -p\log D - q\log(1-D)",
            r"f'(D) = -\frac{p}{D} + \frac{q}{1-D},\qquad "
            r"f'\!\left(\tfrac{p}{p+q}\right) = -(p+q) + (p+q) = 0",
            r"f''(D) = \frac{p}{D^{2}} + \frac{q}{(1-D)^{2}},\qquad "
            r"f''\!\left(\tfrac{p}{p+q}\right) = " + sp.latex(curvature) + r" > 0",
            r"D = \tfrac{1}{1+t},\ t>0:\quad f''(D) = "
            + sp.latex(convex)
            + r" > 0 \text{ (strictly convex, so the stationary point is the unique minimum)}",
            r"\mathcal{L}_{\mathrm{disc}}(D) = \int f_{p(x),q(x)}\big(D(x)\big)\,dx"
            r" \text{ is minimised pointwise, by linearity of the integral}",
        ],
        extra_ok=extra_ok,
    )


def optimum_finite(n: int) -> ProofRecord:
    """On ``n`` points: the gradient in every ``D_i`` vanishes at ``p_i/(p_i+q_i)``."""
    timer = Timer(FAMILY)
    s = finite_support(n)
    ds = sp.symbols(f"D_1:{n + 1}", positive=True)
    loss = sp.Add(
        *[-p * sp.log(d) - q * sp.log(1 - d) for p, q, d in zip(s.p, s.q, ds, strict=True)]
    )
    at_star = {d: p / (p + q) for d, p, q in zip(ds, s.p, s.q, strict=True)}
    grads = [rational_zero(sp.diff(loss, d).subs(at_star)) for d in ds]
    hessian_diag = [rational_zero(sp.diff(loss, d, 2).subs(at_star)) for d in ds]
    off_diag = [sp.diff(loss, a, b) for i, a in enumerate(ds) for b in ds[i + 1 :]]
    extra_ok = all(h.is_positive is not False for h in hessian_diag) and all(
        o == 0 for o in off_diag
    )
    return timer.record(
        name="optimum",
        title=OPT_TITLE,
        statement=OPT_STATEMENT,
        assumptions=[
            f"support of ${n}$ points, $p_i, q_i > 0$, "
            f"$p_{n} = 1-\\sum_{{i<{n}}} p_i$, $q_{n} = 1-\\sum_{{i<{n}}} q_i$"
        ],
        level=f"finite-support n={n}",
        residual=sum_of_squares(grads),
        steps=[
            r"\mathcal{L}_{\mathrm{disc}}(D_1,\dots,D_n) = \sum_i -p_i\log D_i - q_i\log(1-D_i)",
            r"\frac{\partial\mathcal{L}_{\mathrm{disc}}}{\partial D_i}"
            r"\Big|_{D_j = p_j/(p_j+q_j)} = 0 \quad (i = 1,\dots," + str(n) + ")",
            r"\text{the Hessian is diagonal with entries } "
            r"\frac{p_i}{D_i^{2}} + \frac{q_i}{(1-D_i)^{2}} > 0",
            r"\text{residual: } \sum_i \big(\partial_{D_i}\mathcal{L}\big)^{2} = 0",
        ],
        extra_ok=extra_ok,
    )


def logit_integrand() -> ProofRecord:
    """Pointwise: the sigmoid of the logit equals the density ratio."""
    timer = Timer(FAMILY)
    c = sp.Symbol("c", real=True)
    z, q = sp.symbols("Z q", positive=True)
    model = sp.exp(-c) / z
    residual = rational_zero(sigmoid(logit(c, z, q)) - model / (model + q))
    return timer.record(
        name="logit",
        title=LOGIT_TITLE,
        statement=LOGIT_STATEMENT,
        assumptions=["$Z>0$, $q>0$, $c\\in\\mathbb{R}$"],
        level="integrand",
        residual=residual,
        steps=[
            r"\sigma(-c-\log Z-\log q) = \frac{1}{1 + e^{c+\log Z+\log q}} = \frac{1}{1+Zqe^{c}}",
            r"\frac{\tfrac1Z e^{-c}}{\tfrac1Z e^{-c} + q} = \frac{1}{1 + Zqe^{c}}"
            r"\quad\text{(multiply through by } Ze^{c})",
        ],
    )


def logit_finite(n: int) -> ProofRecord:
    """On ``n`` points with the normalised model ``exp(-c_i)/sum_j exp(-c_j)``."""
    timer = Timer(FAMILY)
    s = finite_support(n)
    z_true = sp.Add(*[sp.exp(-c) for c in s.cost])
    model = [sp.exp(-c) / z_true for c in s.cost]
    comps = [
        rational_zero(s.rationalize(sigmoid(logit(c, z_true, q)) - m / (m + q)))
        for c, q, m in zip(s.cost, s.q, model, strict=True)
    ]
    return timer.record(
        name="logit",
        title=LOGIT_TITLE,
        statement=LOGIT_STATEMENT,
        assumptions=[
            f"support of ${n}$ points, $q_i>0$ normalised, "
            r"$Z = \sum_j e^{-c_j}$ (the normalised model $p_\theta$)"
        ],
        level=f"finite-support n={n}",
        residual=sum_of_squares(comps),
        steps=[
            r"p_\theta(i) = e^{-c_i}/\sum_j e^{-c_j}",
            r"\sigma\big(-c_i - \log\textstyle\sum_j e^{-c_j} - \log q_i\big) "
            r"= \frac{p_\theta(i)}{p_\theta(i) + q_i}\quad (i=1,\dots," + str(n) + ")",
        ],
    )


def proofs() -> list[ProofRecord]:
    """All records of this family."""
    out = [optimum_integrand(), *[optimum_finite(n) for n in SUPPORT_SIZES]]
    out += [logit_integrand(), *[logit_finite(n) for n in SUPPORT_SIZES]]
    return out
