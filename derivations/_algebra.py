"""Symbolic building blocks shared by the proof modules.

Everything here is plain SymPy. The batch losses are written exactly as on the design page
(`docs/design.md`): logit ``l = -c - log Z - log q``, ``D = sigma(l)``, ``mu = (p + q)/2`` and
``mu_tilde = exp(-c)/(2 Z) + q/2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

THETA = sp.Symbol("theta", real=True)
SUPPORT_SIZES = (2, 3, 4)


def sigmoid(x: sp.Expr) -> sp.Expr:
    """The logistic function written as ``1/(1 + exp(-x))``."""
    return 1 / (1 + sp.exp(-x))


def logit(cost: sp.Expr, z: sp.Expr, q: sp.Expr) -> sp.Expr:
    """Discriminator logit ``-c - log Z - log q``."""
    return -cost - sp.log(z) - sp.log(q)


def disc_loss(
    pw: Sequence[sp.Expr],
    qw: Sequence[sp.Expr],
    cost: Sequence[sp.Expr],
    z: sp.Expr,
    qdens: Sequence[sp.Expr],
) -> sp.Expr:
    """``sum_i pw_i (-log sigma(l_i)) + qw_i (-log sigma(-l_i))`` over a support.

    Args:
        pw: Data probabilities of the support points.
        qw: Sampler probabilities of the support points (the weights of ``E_q``).
        cost: Cost of each support point.
        z: Partition function ``Z``.
        qdens: The density entering the logit (equals ``qw`` except for trajectories, where it
            is the policy-only factor).

    Returns:
        The discriminator loss.
    """
    total = sp.S.Zero
    for p_i, q_i, c_i, d_i in zip(pw, qw, cost, qdens, strict=True):
        ell = logit(c_i, z, d_i)
        total += -p_i * sp.log(sigmoid(ell)) - q_i * sp.log(sigmoid(-ell))
    return total


def mu_tilde(cost: sp.Expr, z: sp.Expr, qdens: sp.Expr) -> sp.Expr:
    """The importance proposal ``exp(-c)/(2 Z) + q/2`` at one point."""
    return sp.exp(-cost) / (2 * z) + qdens / 2


def importance_z(
    pw: Sequence[sp.Expr],
    qw: Sequence[sp.Expr],
    cost: Sequence[sp.Expr],
    proposal: Sequence[sp.Expr],
) -> sp.Expr:
    """``Zhat = E_mu[exp(-c)/mu_tilde] = sum_i (pw_i + qw_i)/2 * exp(-c_i)/proposal_i``."""
    return sp.Add(
        *[
            (p_i + q_i) / 2 * sp.exp(-c_i) / m_i
            for p_i, q_i, c_i, m_i in zip(pw, qw, cost, proposal, strict=True)
        ]
    )


def expect(weights: Sequence[sp.Expr], values: Sequence[sp.Expr]) -> sp.Expr:
    """``sum_i w_i f_i`` for weights that already sum to one."""
    return sp.Add(*[w * f for w, f in zip(weights, values, strict=True)])


@dataclass(frozen=True)
class FiniteSupport:
    """A support of ``n`` points with symbolic, normalised probabilities.

    Attributes:
        n: Number of support points.
        p: Data probabilities; the last is ``1 - sum(others)``.
        q: Sampler probabilities; the last is ``1 - sum(others)``.
        cost: ``c_i(theta)`` as undefined SymPy functions of ``THETA``.
        z: Positive symbol ``Z``.
        e: Positive symbols standing for ``exp(c_i)`` after :meth:`rationalize`.
        g: Symbols standing for ``d c_i / d theta`` after :meth:`rationalize`.
    """

    n: int
    p: tuple[sp.Expr, ...]
    q: tuple[sp.Expr, ...]
    cost: tuple[sp.Expr, ...]
    z: sp.Symbol
    e: tuple[sp.Symbol, ...]
    g: tuple[sp.Symbol, ...]

    @property
    def mu(self) -> tuple[sp.Expr, ...]:
        """The mixture weights ``(p_i + q_i)/2``."""
        return tuple((a + b) / 2 for a, b in zip(self.p, self.q, strict=True))

    def rationalize(self, expr: sp.Expr) -> sp.Expr:
        """Replace ``c_i'`` by ``g_i`` and ``c_i`` by ``log E_i`` so ``exp(c_i)`` is rational."""
        expr = expr.subs(
            {sp.Derivative(c, THETA): g for c, g in zip(self.cost, self.g, strict=True)}
        )
        return expr.subs({c: sp.log(e) for c, e in zip(self.cost, self.e, strict=True)})

    def normalisation(self) -> dict[sp.Expr, sp.Expr]:
        """For a support built with ``normalise=False``: last probability -> one minus the rest."""
        out: dict[sp.Expr, sp.Expr] = {}
        for probs in (self.p, self.q):
            out[probs[-1]] = 1 - sp.Add(*probs[:-1])
        return out


def normalised(prefix: str, n: int, normalise: bool = True) -> tuple[sp.Expr, ...]:
    """Positive symbols ``prefix_1..prefix_n``; the last replaced by ``1 - sum`` if normalising."""
    free = sp.symbols(f"{prefix}_1:{n + 1}", positive=True)
    if not normalise:
        return tuple(free)
    return (*free[:-1], 1 - sp.Add(*free[:-1]))


def finite_support(n: int, cost_name: str = "c", normalise: bool = True) -> FiniteSupport:
    """Build the symbolic support of size ``n`` (costs named ``cost_name``).

    Args:
        n: Number of points.
        cost_name: Name of the cost functions (``c`` or ``E``).
        normalise: Substitute the last probabilities as one minus the rest right away. Keep
            them as positive symbols (and substitute with :func:`subs_outside_logs` later) when
            logs of probabilities must be expanded.

    Returns:
        The support.
    """
    return FiniteSupport(
        n=n,
        p=normalised("p", n, normalise),
        q=normalised("q", n, normalise),
        cost=tuple(sp.Function(f"{cost_name}_{i}")(THETA) for i in range(1, n + 1)),
        z=sp.Symbol("Z", positive=True),
        e=sp.symbols(f"E_1:{n + 1}", positive=True),
        g=sp.symbols(f"g_1:{n + 1}", real=True),
    )


def rational_zero(expr: sp.Expr) -> sp.Expr:
    """Bring a rational function to canonical form ``num/den`` (zero iff identically zero)."""
    return sp.cancel(sp.together(expr))


def _group_pass(expr: sp.Expr) -> sp.Expr:
    """One pass of :func:`grouped_cancel`: sum the terms that share a non-monomial denominator."""
    groups: dict[sp.Expr, list[sp.Expr]] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        num, key = [], []
        for factor in sp.Mul.make_args(term):
            base, exp = factor.as_base_exp()
            if base.is_Add and exp.is_negative:
                key.append(sp.expand(base) ** -exp)
            else:
                num.append(factor)
        groups.setdefault(sp.Mul(*key), []).append(sp.Mul(*num))
    return sp.Add(
        *[
            sp.Add(*nums) if den == 1 else sp.cancel(sp.Add(*nums) / den)
            for den, nums in groups.items()
        ]
    )


def grouped_cancel(expr: sp.Expr, then: dict[sp.Expr, sp.Expr] | None = None) -> sp.Expr:
    """Cancel a big sum of rational terms by grouping the terms that share a denominator.

    The sum is expanded, each term split into its polynomial-denominator factors and the rest,
    the terms of each distinct denominator are added and cancelled, and the remainder is
    brought to canonical form. This is an exact rearrangement, much cheaper than ``together`` on
    the whole sum when there are many distinct denominators that cancel group by group.

    Args:
        expr: A rational function in its symbols.
        then: Optional substitution (e.g. a normalisation ``p_n = 1 - sum``) applied after the
            first grouping pass, followed by a second pass.

    Returns:
        The canonical form of ``expr`` (``0`` iff it vanishes identically).
    """
    total = _group_pass(expr)
    if then:
        total = _group_pass(total.xreplace(then))
    return rational_zero(total)


def expand_logs(expr: sp.Expr) -> sp.Expr:
    """Put every log argument over a common denominator, then split logs of products."""
    expr = expr.replace(sp.log, lambda arg: sp.log(sp.cancel(sp.together(arg))))
    return sp.expand(sp.expand_log(expr, force=True))


def sum_of_squares(components: Sequence[sp.Expr]) -> sp.Expr:
    """Combine simplified component residuals into one (zero iff all components are zero)."""
    return sp.Add(*[r**2 for r in components])


def subs_outside_logs(expr: sp.Expr, mapping: dict[sp.Expr, sp.Expr]) -> sp.Expr:
    """Substitute ``mapping`` everywhere except inside ``log`` atoms, then expand."""
    masks = {atom: sp.Dummy() for atom in sp.ordered(expr.atoms(sp.log))}
    masked = sp.expand(expr.xreplace(masks).subs(mapping))
    return masked.xreplace({dummy: atom for atom, dummy in masks.items()})


def cancel_logs(expr: sp.Expr) -> sp.Expr:
    """Replace every ``log(a)`` by ``log(cancel(a))`` (an exact rewrite of the argument)."""
    return expr.replace(sp.log, lambda arg: sp.log(sp.cancel(sp.together(arg))))


def with_cost_name(text: str, cost_name: str) -> str:
    """Puts the cost's symbol (``c`` or ``E``) into a LaTeX template's ``@c`` placeholders."""
    return text.replace("@c", cost_name)
