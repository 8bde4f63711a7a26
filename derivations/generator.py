"""Identity (c): the generator loss is the MaxEnt sampler loss plus log Z."""

from __future__ import annotations

import sympy as sp

from derivations._algebra import (
    SUPPORT_SIZES,
    expand_logs,
    expect,
    finite_support,
    logit,
    sigmoid,
    subs_outside_logs,
    sum_of_squares,
)
from derivations._algebra import with_cost_name as _sub
from derivations._records import ProofRecord, Timer

FAMILY = "generator"

C_TITLE = "(c) The generator loss is the sampler loss plus log Z"
C_STATEMENT = (
    r"\mathcal{L}_{\mathrm{gen}} = \mathbb{E}_q\big[\log(1-D) - \log D\big] = \mathbb{E}_q[-\ell]"
    r" = \mathbb{E}_q[@c] + \mathbb{E}_q[\log q] + \log Z = \mathcal{L}_{\mathrm{sampler}} + \log Z"
)


def c_integrand(family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """Pointwise ``log(1-D) - log D = c + log Z + log q = -l``."""
    timer = Timer(family)
    q, z, e = sp.symbols("q Z E_x", positive=True)
    c = sp.Symbol(cost_name, real=True)
    ell = logit(c, z, q)
    log_ratio = sp.log(sigmoid(-ell)) - sp.log(sigmoid(ell))
    comps = [
        expand_logs((log_ratio - (c + sp.log(z) + sp.log(q))).subs(c, sp.log(e))),
        expand_logs((log_ratio + ell).subs(c, sp.log(e))),
    ]
    return timer.record(
        name="c-generator",
        title=C_TITLE,
        statement=_sub(C_STATEMENT, cost_name),
        assumptions=[r"$q>0$ a normalised density, $Z>0$"],
        level="integrand",
        residual=sum_of_squares(comps),
        steps=[
            r"1 - D = \sigma(-\ell),\qquad \log\sigma(-\ell) - \log\sigma(\ell) = "
            r"\log\frac{1+e^{-\ell}}{1+e^{\ell}} = -\ell",
            _sub(
                r"-\ell = @c + \log Z + \log q \quad\text{(pointwise; residual below)}", cost_name
            ),
            r"\text{integrate against } q\text{; } \log Z \text{ is constant and } \int q = 1",
            r"\text{so } \nabla_\phi\mathcal{L}_{\mathrm{gen}} = "
            r"\nabla_\phi\mathcal{L}_{\mathrm{sampler}}"
            r"\text{ for the sampler parameters } \phi",
        ],
    )


def c_finite(n: int, family: str = FAMILY, cost_name: str = "c") -> ProofRecord:
    """(c) on ``n`` points."""
    timer = Timer(family)
    s = finite_support(n, cost_name, normalise=False)
    ells = [logit(c, s.z, q) for c, q in zip(s.cost, s.q, strict=True)]
    gen = expect(s.q, [sp.log(sigmoid(-x)) - sp.log(sigmoid(x)) for x in ells])
    sampler = expect(s.q, [c + sp.log(q) for c, q in zip(s.cost, s.q, strict=True)])
    comps = [
        subs_outside_logs(
            expand_logs(s.rationalize(gen - sampler - sp.log(s.z))), s.normalisation()
        ),
        subs_outside_logs(
            expand_logs(s.rationalize(gen - expect(s.q, [-x for x in ells]))), s.normalisation()
        ),
    ]
    return timer.record(
        name="c-generator",
        title=C_TITLE,
        statement=_sub(C_STATEMENT, cost_name),
        assumptions=[f"support of ${n}$ points, $q_i>0$ with $q_{n} = 1 - \\sum_{{i<{n}}} q_i$"],
        level=f"finite-support n={n}",
        residual=sum_of_squares(comps),
        steps=[
            r"\sum_i q_i\big(\log\sigma(-\ell_i) - \log\sigma(\ell_i)\big) - "
            r"\sum_i q_i\big(" + cost_name + r"_i + \log q_i\big) - \log Z = 0",
            r"\text{(logs expanded with } q_n \text{ a free positive symbol; then } "
            r"q_n = 1 - \sum_{i<n} q_i \text{ outside the logs: the coefficient of } \log Z"
            r"\text{ is } \sum_i q_i - 1 = 0)",
        ],
    )


def proofs() -> list[ProofRecord]:
    """All records of this family."""
    return [c_integrand(), *[c_finite(n) for n in SUPPORT_SIZES]]
