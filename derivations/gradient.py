"""Identity (b): the discriminator's cost gradient is the importance-sampled IRL gradient."""

from __future__ import annotations

import sympy as sp

from derivations._algebra import (
    SUPPORT_SIZES,
    THETA,
    disc_loss,
    expect,
    finite_support,
    grouped_cancel,
    importance_z,
    logit,
    mu_tilde,
    rational_zero,
    sigmoid,
    sum_of_squares,
)
from derivations._algebra import with_cost_name as _sub
from derivations._records import ProofRecord, Timer

FAMILY = "gradient"

B_TITLE = "(b) The cost gradient of the discriminator loss is the MaxEnt IRL gradient"
B_STATEMENT = (
    r"\nabla_\theta\mathcal{L}_{\mathrm{disc}} - \nabla_\theta\mathcal{L}_{\mathrm{cost}}"
    r"\big|_{\tilde\mu\ \mathrm{const}} = \Big(\frac{Z}{\hat Z} - 1\Big)\,"
    r"\mathbb{E}_\mu\big[2D\,\nabla_\theta @c\big],\qquad "
    r"\mathcal{L}_{\mathrm{cost}} = \mathbb{E}_p[@c] + \log\hat Z,"
    r"\quad\text{so the two gradients agree at the optimal } Z = \hat Z"
)
X_TITLE = "(b') Differentiating through the proposal adds a non-zero term"
X_STATEMENT = (
    r"\nabla_\theta\mathcal{L}_{\mathrm{cost}} - \nabla_\theta\mathcal{L}_{\mathrm{cost}}"
    r"\big|_{\tilde\mu\ \mathrm{const}} = \frac{1}{2Z\hat Z}\,\mathbb{E}_\mu\!\left["
    r"\frac{e^{-2@c}\,\nabla_\theta @c}{\tilde\mu^{2}}\right],\quad\text{so at the optimal } Z:\ "
    r"\nabla_\theta\mathcal{L}_{\mathrm{disc}} - \nabla_\theta\mathcal{L}_{\mathrm{cost}} = "
    r"-\frac{1}{2Z\hat Z}\,\mathbb{E}_\mu\!\left[\frac{e^{-2@c}\,\nabla_\theta @c}"
    r"{\tilde\mu^{2}}\right]"
)


def b_integrand(family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """Pointwise form of (b), for any constant ``Zhat``."""
    timer = Timer(family)
    p, q, z, zhat, m, e = sp.symbols("p q Z Zhat m E_x", positive=True)
    g = sp.Symbol("g", real=True)
    c = sp.Function(cost_name)(THETA)
    ell = logit(c, z, q)
    mu = (p + q) / 2
    disc = sp.diff(-p * sp.log(sigmoid(ell)) - q * sp.log(sigmoid(-ell)), THETA)
    cost = sp.diff(p * c, THETA) + mu * sp.diff(sp.exp(-c) / m, THETA) / zhat
    cost = cost.subs(m, mu_tilde(c, z, q))
    rhs = (z / zhat - 1) * mu * 2 * sigmoid(ell) * sp.diff(c, THETA)
    residual = (disc - cost - rhs).subs(sp.Derivative(c, THETA), g).subs(c, sp.log(e))
    return timer.record(
        name="b-gradient",
        title=B_TITLE,
        statement=_sub(B_STATEMENT, cost_name),
        assumptions=[
            _sub(
                r"$p,q>0$ normalised densities, $Z>0$, $@c = @c_\theta$ differentiable", cost_name
            ),
            r"$\hat Z>0$ any constant (later: its value $\mathbb{E}_\mu[e^{-"
            + cost_name
            + r"}/\tilde\mu]$)",
            r"differentiation under the integral sign",
        ],
        level="integrand",
        residual=rational_zero(residual),
        steps=[
            _sub(
                r"\partial_\theta\big[-p\log\sigma(\ell) - q\log\sigma(-\ell)\big] = "
                r"\big(p(1-D) - qD\big)\nabla @c",
                cost_name,
            ),
            _sub(
                r"\nabla\log\hat Z\big|_{\tilde\mu\ \mathrm{const}} = \frac{1}{\hat Z}"
                r"\int \mu\,\frac{\nabla e^{-@c}}{\tilde\mu} = -\frac{1}{\hat Z}\int\mu\,"
                r"2ZD\,\nabla @c",
                cost_name,
            ),
            _sub(
                r"\text{integrands: } \big(p(1-D) - qD\big)\nabla @c - p\nabla @c - "
                r"\frac{\mu}{\hat Z}\,\frac{\nabla e^{-@c}}{\tilde\mu} - "
                r"\Big(\frac{Z}{\hat Z}-1\Big)2\mu D\nabla @c = 0",
                cost_name,
            ),
            r"\text{integrate (linearity); at } Z = \hat Z \text{ (identity (a)) the right side"
            r" vanishes}",
        ],
    )


def _finite_parts(n: int, cost_name: str) -> dict[str, sp.Expr]:
    s = finite_support(n, cost_name)
    ms = sp.symbols(f"m_1:{n + 1}", positive=True)
    proposal = [mu_tilde(c, s.z, q) for c, q in zip(s.cost, s.q, strict=True)]
    back = dict(zip(ms, proposal, strict=True))
    grad_disc = sp.diff(disc_loss(s.p, s.q, s.cost, s.z, s.q), THETA)
    cost_const = expect(s.p, s.cost) + sp.log(importance_z(s.p, s.q, s.cost, ms))
    grad_const = sp.diff(cost_const, THETA).subs(back)
    # The same gradient with the value of Zhat kept as an independent symbol.
    zhat_sym = sp.Symbol("Zhat", positive=True)
    grad_const_sym = (
        sp.diff(cost_const, THETA).subs(importance_z(s.p, s.q, s.cost, ms), zhat_sym).subs(back)
    )
    cost_full = expect(s.p, s.cost) + sp.log(importance_z(s.p, s.q, s.cost, proposal))
    grad_full = sp.diff(cost_full, THETA)
    zhat = importance_z(s.p, s.q, s.cost, proposal)
    ds = [sigmoid(logit(c, s.z, q)) for c, q in zip(s.cost, s.q, strict=True)]
    dc = [sp.diff(c, THETA) for c in s.cost]
    return {
        "support": s,
        "grad_disc": grad_disc,
        "grad_const": grad_const,
        "grad_const_sym": grad_const_sym,
        "zhat_sym": zhat_sym,
        "grad_full": grad_full,
        "zhat": zhat,
        "sum_d": expect(s.p, ds) + expect(s.q, ds),
        "rhs": (s.z / zhat - 1) * expect(s.mu, [2 * d * g for d, g in zip(ds, dc, strict=True)]),
        "rhs_sym": (s.z / zhat_sym - 1)
        * expect(s.mu, [2 * d * g for d, g in zip(ds, dc, strict=True)]),
        "extra": expect(
            s.mu, [sp.exp(-2 * c) * g / m**2 for c, g, m in zip(s.cost, dc, proposal, strict=True)]
        )
        / (2 * s.z * zhat),
    }


def b_finite(n: int, family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """(b) on ``n`` points, plus ``Z/Zhat - 1 = (1 - S)/S`` with ``S = E_p D + E_q D``."""
    timer = Timer(family)
    parts = _finite_parts(n, cost_name)
    s = parts["support"]
    # Zhat enters only as 1/Zhat; the residual vanishes identically in an independent symbol
    # Zhat, hence at its actual value (a sum over the support).
    assert parts["zhat_sym"] in parts["grad_const_sym"].free_symbols
    main = grouped_cancel(
        s.rationalize(parts["grad_disc"] - parts["grad_const_sym"] - parts["rhs_sym"])
    )
    total = parts["sum_d"]
    # Z/Zhat - 1 - (1 - S)/S = (Z S - Zhat)/(Zhat S): it suffices that Zhat - Z S vanishes.
    factor = rational_zero(s.rationalize(parts["zhat"] - s.z * total))
    return timer.record(
        name="b-gradient",
        title=B_TITLE,
        statement=_sub(B_STATEMENT, cost_name),
        assumptions=[
            f"support of ${n}$ points, $p_i,q_i>0$ normalised, $Z>0$",
            _sub(r"$@c_i = @c_i(\theta)$ arbitrary differentiable functions", cost_name),
        ],
        level=f"finite-support n={n}",
        residual=sum_of_squares([main, factor]),
        steps=[
            r"\hat Z = \sum_i \mu_i\,e^{-" + cost_name + r"_i}/\tilde\mu_i"
            r"\text{ built from constants } \tilde\mu_i\text{, differentiated, then "
            r"substituted back}",
            r"\nabla\log\hat Z = \nabla\hat Z/\hat Z:\ \text{the residual is affine in } 1/\hat Z;"
            r"\text{ it is cancelled with } \hat Z \text{ as an independent symbol, so it "
            r"vanishes at every value of } \hat Z",
            r"\nabla_\theta\mathcal{L}_{\mathrm{disc}} - \nabla_\theta\mathcal{L}_{\mathrm{cost}}"
            r"\big|_{\tilde\mu} - \Big(\frac{Z}{\hat Z}-1\Big)\sum_i \mu_i 2D_i\nabla "
            + cost_name
            + r"_i = 0",
            r"\hat Z - ZS = 0,\quad S = \sum_i (p_i+q_i) D_i,\quad\text{so}\quad "
            r"\frac{Z}{\hat Z} - 1 = \frac{1 - S}{S}"
            r"\text{ and the difference vanishes exactly when } S = 1",
        ],
    )


def extra_integrand(family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """Pointwise derivative of ``exp(-c)/mu_tilde`` when ``mu_tilde`` depends on theta."""
    timer = Timer(family)
    q, z, e = sp.symbols("q Z E_x", positive=True)
    g = sp.Symbol("g", real=True)
    c = sp.Function(cost_name)(THETA)
    m = sp.Symbol("m", positive=True)
    prop = mu_tilde(c, z, q)
    full = sp.diff(sp.exp(-c) / prop, THETA)
    const = sp.diff(sp.exp(-c) / m, THETA).subs(m, prop)
    extra = sp.exp(-2 * c) * sp.diff(c, THETA) / (2 * z * prop**2)
    residual = (full - const - extra).subs(sp.Derivative(c, THETA), g).subs(c, sp.log(e))
    return timer.record(
        name="b-full-proposal",
        title=X_TITLE,
        statement=_sub(X_STATEMENT, cost_name),
        assumptions=[
            "$q>0$, $Z>0$; $\\tilde\\mu$ now depends on $\\theta$ through $e^{-" + cost_name + "}$"
        ],
        level="integrand",
        residual=rational_zero(residual),
        steps=[
            _sub(r"\nabla\tilde\mu = -\frac{e^{-@c}}{2Z}\nabla @c", cost_name),
            _sub(
                r"\nabla\frac{e^{-@c}}{\tilde\mu} - \frac{\nabla e^{-@c}}{\tilde\mu} = "
                r"-\frac{e^{-@c}\nabla\tilde\mu}{\tilde\mu^{2}} = "
                r"\frac{e^{-2@c}\nabla @c}{2Z\tilde\mu^{2}}",
                cost_name,
            ),
            r"\text{integrate against } \mu \text{ and divide by } \hat Z"
            r"\ (\nabla\log\hat Z = \nabla\hat Z/\hat Z)",
        ],
    )


def extra_finite(n: int, family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """The extra term on ``n`` points."""
    timer = Timer(family)
    parts = _finite_parts(n, cost_name)
    s = parts["support"]
    residual = rational_zero(
        s.rationalize(parts["grad_full"] - parts["grad_const"] - parts["extra"])
    )
    return timer.record(
        name="b-full-proposal",
        title=X_TITLE,
        statement=_sub(X_STATEMENT, cost_name),
        assumptions=[f"support of ${n}$ points, $p_i,q_i>0$ normalised, $Z>0$"],
        level=f"finite-support n={n}",
        residual=residual,
        steps=[
            r"\nabla\mathcal{L}_{\mathrm{cost}} - "
            r"\nabla\mathcal{L}_{\mathrm{cost}}\big|_{\tilde\mu}"
            r" - \frac{1}{2Z\hat Z}\sum_i\mu_i\frac{e^{-2"
            + cost_name
            + r"_i}\nabla "
            + cost_name
            + r"_i}{\tilde\mu_i^{2}} = 0",
        ],
    )


def extra_numeric(family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """A concrete case at the optimal Z where the full-proposal gradient differs."""
    timer = Timer(family)
    parts = _finite_parts(2, cost_name)
    s = parts["support"]
    # Support {1, 2}: c = (0, log 2) so exp(-c) = (1, 1/2), Z = 3/2, q = p_theta = (2/3, 1/3),
    # data p = (3/4, 1/4); dc/dtheta = (1, 0). Then D = 1/2 everywhere: the optimum.
    values = {
        s.p[0]: sp.Rational(3, 4),
        s.q[0]: sp.Rational(2, 3),
        s.z: sp.Rational(3, 2),
        s.e[0]: sp.Integer(1),
        s.e[1]: sp.Integer(2),
        s.g[0]: sp.Integer(1),
        s.g[1]: sp.Integer(0),
    }

    def at(expr: sp.Expr) -> sp.Expr:
        return sp.nsimplify(sp.simplify(s.rationalize(expr).subs(values)))

    total = at(parts["sum_d"])
    agree = at(parts["grad_disc"] - parts["grad_const"])
    residual = at(parts["grad_disc"] - parts["grad_full"])
    extra = at(parts["extra"])
    ok = total == 1 and agree == 0 and residual == -extra and residual != 0
    return timer.record(
        name="b-full-proposal-nonzero",
        title=X_TITLE,
        statement=_sub(X_STATEMENT, cost_name),
        assumptions=[
            _sub(
                r"two points, $e^{-@c} = (1, \tfrac12)$, $Z = \tfrac32$, "
                r"$q = p_\theta = (\tfrac23, \tfrac13)$, $p = (\tfrac34, \tfrac14)$, "
                r"$\nabla @c = (1, 0)$",
                cost_name,
            ),
        ],
        level="numeric case",
        residual=residual,
        steps=[
            r"D_i = \tfrac12,\quad \mathbb{E}_pD + \mathbb{E}_qD = "
            + sp.latex(total)
            + r"\quad(\text{the optimal } Z)",
            r"\nabla\mathcal{L}_{\mathrm{disc}} - \nabla\mathcal{L}_{\mathrm{cost}}"
            r"\big|_{\tilde\mu\ \mathrm{const}} = " + sp.latex(agree),
            r"\nabla\mathcal{L}_{\mathrm{disc}} - \nabla\mathcal{L}_{\mathrm{cost}}"
            r"\big|_{\tilde\mu\ \mathrm{differentiated}} = "
            + sp.latex(residual)
            + r" = -\frac{1}{2Z\hat Z}\,\mathbb{E}_\mu\!\left[\frac{e^{-2"
            + cost_name
            + r"}\nabla "
            + cost_name
            + r"}{\tilde\mu^{2}}\right] \neq 0",
        ],
        expect_zero=False,
        extra_ok=ok,
    )


def proofs() -> list[ProofRecord]:
    """All records of this family."""
    out = [b_integrand(), *[b_finite(n) for n in SUPPORT_SIZES]]
    out += [extra_integrand(), *[extra_finite(n) for n in SUPPORT_SIZES], extra_numeric()]
    return out
