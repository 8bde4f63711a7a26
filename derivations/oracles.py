"""Symbolic reference losses and the high-precision oracle files built from them.

Every loss of the design page (`docs/design.md`) is written as a SymPy expression over a finite
batch (data points with weights, generated points with weights), independently of any numeric
package. Inputs are exact
(rationals, logs of rationals, or exact symbolic values such as ``-E - log Z``); outputs and
gradients are evaluated with mpmath at ``WORK_DPS`` digits and written with ``DIGITS``
significant digits.

Three families are written:

* ``cost`` (``tests/oracles/losses.json``): finite supports and batches, hard cases included.
* ``energy`` (``tests/oracles/ebm.json``): the same with energies of 1-D support points.
* ``dynamics`` (``tests/oracles/dynamics.json``): all trajectories of a small stochastic MDP.
  The inputs ``log_q_*`` are the policy-only ``sum_t log pi(u_t|x_t)``; the expected outputs are
  computed from the full densities ``rho prod P prod pi`` and ``rho prod P exp(-c)/Z``, so an
  implementation that only sees the policy term matches them exactly when the factors cancel.
"""

from __future__ import annotations

import itertools
import json
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mpmath
import sympy as sp

DIGITS = 40
WORK_DPS = 250
ZERO_BELOW = mpmath.mpf(10) ** -150
OPTIMAL = "optimal"

LOSSES = ("discriminator_loss", "generator_loss", "sampler_loss", "importance_log_z", "cost_loss")
GRAD_KEYS = ("cost_data", "log_q_data", "cost_gen", "log_q_gen", "log_z")
ORACLE_FILES = {
    "cost": "tests/oracles/losses.json",
    "energy": "tests/oracles/ebm.json",
    "dynamics": "tests/oracles/dynamics.json",
}
GENERATED_NOTE = (
    "GENERATED FILE - do not edit. Written by `python -m derivations` (derivations/oracles.py); "
    "`python -m derivations --check` verifies it is current."
)

Number = sp.Expr


@dataclass(frozen=True)
class OracleCase:
    """One batch with exact inputs.

    Attributes:
        name: Unique slug.
        description: One line.
        cost_data: Cost (or energy) of each data point.
        log_q_data: Sampler log-density at each data point (policy-only for trajectories).
        weight_data: Non-negative weights of the data points (need not sum to one).
        cost_gen: Cost of each generated point.
        log_q_gen: Sampler log-density at each generated point.
        weight_gen: Weights of the generated points.
        log_z: Exact ``log Z``, or :data:`OPTIMAL` for the minimiser of the discriminator loss.
        dyn_data: For trajectories: ``rho(x_0) prod_t P(x_{t+1}|x_t,u_t)`` of each data point;
            the outputs are then computed from the full densities.
        dyn_gen: The same for the generated points.
    """

    name: str
    description: str
    cost_data: tuple[Number, ...]
    log_q_data: tuple[Number, ...]
    weight_data: tuple[Number, ...]
    cost_gen: tuple[Number, ...]
    log_q_gen: tuple[Number, ...]
    weight_gen: tuple[Number, ...]
    log_z: Number | str
    dyn_data: tuple[Number, ...] | None = None
    dyn_gen: tuple[Number, ...] | None = None


@dataclass
class ReferenceLosses:
    """The symbolic batch losses of one case shape.

    Attributes:
        args: Input symbols, in the order cost_data, log_q_data, cost_gen, log_q_gen, log_z.
        groups: The input symbols by gradient key.
        outputs: Name -> expression (or list of expressions for the logits).
        gradients: Loss -> gradient key -> list of expressions (a single one for ``log_z``).
    """

    args: list[sp.Symbol]
    groups: dict[str, list[sp.Symbol]]
    outputs: dict[str, Any] = field(default_factory=dict)
    gradients: dict[str, dict[str, list[sp.Expr]]] = field(default_factory=dict)


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def _normalise(weights: Sequence[Number]) -> list[sp.Expr]:
    weights = [exact(w) for w in weights]
    total = sp.Add(*weights)
    return [w / total for w in weights]


def gradient(expr: sp.Expr, syms: Sequence[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    """``sympy.diff(expr, s)`` for every ``s``, visiting only the terms that contain ``s``.

    Sums are differentiated term by term and ``log(A)`` by ``dA/A``; every other node is handed
    to :func:`sympy.diff`. The result equals ``sympy.diff(expr, s)``; it is only faster for the
    large sums of a batch.

    Args:
        expr: The expression.
        syms: The symbols.

    Returns:
        Symbol -> derivative.
    """
    wanted = set(syms)
    parts: dict[sp.Symbol, list[sp.Expr]] = {s: [] for s in syms}
    if isinstance(expr, sp.log):
        inner = expr.args[0]
        return {s: g / inner for s, g in gradient(inner, syms).items()}
    if expr.is_Add:
        for term in expr.args:
            if term.free_symbols & wanted:
                for s, g in gradient(term, syms).items():
                    parts[s].append(g)
        return {s: sp.Add(*parts[s]) for s in syms}
    present = expr.free_symbols & wanted
    return {s: sp.diff(expr, s) if s in present else sp.S.Zero for s in syms}


def mp_eval(expr: sp.Expr, env: dict[sp.Symbol, mpmath.mpf], cache: dict) -> mpmath.mpf:
    """Evaluate a SymPy expression with mpmath at the current precision.

    Shared sub-expressions are evaluated once (``cache`` is keyed by the expression). Only the
    node types the reference losses use are supported.

    Args:
        expr: Expression in the symbols of ``env``.
        env: Symbol values.
        cache: Memo of already evaluated nodes (use one per ``env``).

    Returns:
        The value.
    """
    hit = cache.get(expr)
    if hit is not None:
        return hit
    if expr.is_Symbol:
        value = env[expr]
    elif expr.is_Rational:
        value = mpmath.mpf(expr.p) / expr.q
    elif expr.is_Add:
        value = mpmath.fsum(mp_eval(a, env, cache) for a in expr.args)
    elif expr.is_Mul:
        value = mpmath.fprod(mp_eval(a, env, cache) for a in expr.args)
    elif expr.is_Pow:
        base = mp_eval(expr.base, env, cache)
        if expr.exp.is_Integer:
            value = base ** int(expr.exp)
        else:
            value = mpmath.power(base, mp_eval(expr.exp, env, cache))
    elif isinstance(expr, sp.exp):
        value = mpmath.exp(mp_eval(expr.args[0], env, cache))
    elif isinstance(expr, sp.log):
        value = mpmath.log(mp_eval(expr.args[0], env, cache))
    elif expr is sp.E:
        value = mpmath.e
    else:
        raise TypeError(f"mp_eval: unsupported node {expr.func.__name__}")
    cache[expr] = value
    return value


def reference_losses(case: OracleCase) -> ReferenceLosses:
    """Build every loss of the design page (`docs/design.md`) for the batch shape (and weights)
    of ``case``.

    In ``importance_log_z`` and ``cost_loss`` the proposal ``mu_tilde`` is built from separate
    symbols, differentiated, and only then replaced by ``exp(-c - log Z)/2 + q/2``: their
    gradients with respect to ``log_q`` and ``log_z`` are exactly zero.

    Args:
        case: The case; only its sizes, weights and dynamics factors are used.

    Returns:
        Symbols, outputs and gradients.
    """
    nd, ng = len(case.cost_data), len(case.cost_gen)
    cd = list(sp.symbols(f"cd0:{nd}", real=True))
    qd = list(sp.symbols(f"lqd0:{nd}", real=True))
    cg = list(sp.symbols(f"cg0:{ng}", real=True))
    qg = list(sp.symbols(f"lqg0:{ng}", real=True))
    lz = sp.Symbol("log_z", real=True)
    wd, wg = _normalise(case.weight_data), _normalise(case.weight_gen)
    ref = ReferenceLosses(
        args=[*cd, *qd, *cg, *qg, lz],
        groups={"cost_data": cd, "log_q_data": qd, "cost_gen": cg, "log_q_gen": qg, "log_z": [lz]},
    )
    md = list(sp.symbols(f"md0:{nd}", positive=True))
    mg = list(sp.symbols(f"mg0:{ng}", positive=True))

    if case.dyn_data is None:
        ell_d = [-c - lz - q for c, q in zip(cd, qd, strict=True)]
        ell_g = [-c - lz - q for c, q in zip(cg, qg, strict=True)]
        disc = sp.Add(*[-w * sp.log(_sigmoid(x)) for w, x in zip(wd, ell_d, strict=True)]) + sp.Add(
            *[-w * sp.log(_sigmoid(-x)) for w, x in zip(wg, ell_g, strict=True)]
        )
        gen = sp.Add(*[-w * x for w, x in zip(wg, ell_g, strict=True)])
        num_d = [sp.exp(-c) for c in cd]
        num_g = [sp.exp(-c) for c in cg]
        prop_d = [sp.exp(-c - lz) / 2 + sp.exp(q) / 2 for c, q in zip(cd, qd, strict=True)]
        prop_g = [sp.exp(-c - lz) / 2 + sp.exp(q) / 2 for c, q in zip(cg, qg, strict=True)]
    else:
        assert case.dyn_gen is not None
        kd = [exact(k) for k in case.dyn_data]
        kg = [exact(k) for k in case.dyn_gen]
        model_d = [k * sp.exp(-c - lz) for k, c in zip(kd, cd, strict=True)]
        samp_d = [k * sp.exp(q) for k, q in zip(kd, qd, strict=True)]
        model_g = [k * sp.exp(-c - lz) for k, c in zip(kg, cg, strict=True)]
        samp_g = [k * sp.exp(q) for k, q in zip(kg, qg, strict=True)]
        ell_d = [sp.log(m) - sp.log(s) for m, s in zip(model_d, samp_d, strict=True)]
        ell_g = [sp.log(m) - sp.log(s) for m, s in zip(model_g, samp_g, strict=True)]
        disc = sp.Add(
            *[-w * sp.log(m / (m + s)) for w, m, s in zip(wd, model_d, samp_d, strict=True)]
        ) + sp.Add(*[-w * sp.log(s / (m + s)) for w, m, s in zip(wg, model_g, samp_g, strict=True)])
        gen = sp.Add(
            *[
                w * (sp.log(s / (m + s)) - sp.log(m / (m + s)))
                for w, m, s in zip(wg, model_g, samp_g, strict=True)
            ]
        )
        num_d = [k * sp.exp(-c) for k, c in zip(kd, cd, strict=True)]
        num_g = [k * sp.exp(-c) for k, c in zip(kg, cg, strict=True)]
        prop_d = [(m + s) / 2 for m, s in zip(model_d, samp_d, strict=True)]
        prop_g = [(m + s) / 2 for m, s in zip(model_g, samp_g, strict=True)]

    sampler = sp.Add(*[w * (c + q) for w, c, q in zip(wg, cg, qg, strict=True)])
    zhat_m = (
        sp.Add(*[w * n / m for w, n, m in zip(wd, num_d, md, strict=True)]) / 2
        + sp.Add(*[w * n / m for w, n, m in zip(wg, num_g, mg, strict=True)]) / 2
    )
    implz_m = sp.log(zhat_m)
    cost_m = sp.Add(*[w * c for w, c in zip(wd, cd, strict=True)]) + implz_m
    back = dict(zip(md + mg, prop_d + prop_g, strict=True))

    ref.outputs = {
        "discriminator_logit_data": ell_d,
        "discriminator_logit_gen": ell_g,
        "discriminator_loss": disc,
        "generator_loss": gen,
        "sampler_loss": sampler,
        "importance_log_z": implz_m.xreplace(back),
        "cost_loss": cost_m.xreplace(back),
    }
    plain = {"discriminator_loss": disc, "generator_loss": gen, "sampler_loss": sampler}
    held = {"importance_log_z": implz_m, "cost_loss": cost_m}
    for loss in LOSSES:
        grads = gradient(plain[loss] if loss in plain else held[loss], ref.args)
        ref.gradients[loss] = {
            key: [grads[s] if loss in plain else grads[s].xreplace(back) for s in syms]
            for key, syms in ref.groups.items()
        }
    return ref


def to_mpf(value: Number) -> mpmath.mpf:
    """Evaluate an exact SymPy number at the working precision."""
    return mpmath.mpf(str(sp.N(exact(value), WORK_DPS + 20)))


def fmt(value: mpmath.mpf) -> str:
    """``DIGITS`` significant digits; exact zeros (and |x| < 1e-150) as ``"0"``."""
    if value == 0 or abs(value) < ZERO_BELOW:
        return "0"
    return mpmath.nstr(value, DIGITS)


def optimal_log_z(a_values: Sequence[mpmath.mpf], weights: Sequence[mpmath.mpf]) -> mpmath.mpf:
    """Root of ``sum_k w_k tanh((a_k - s)/2) = 0``, i.e. ``E_p D + E_q D = 1``.

    Args:
        a_values: ``a_k = -c_k - log q_k`` over all points of both sides.
        weights: The half-normalised weights of both sides (summing to one).

    Returns:
        The root, to about ``WORK_DPS - 20`` digits, found by safeguarded Newton iteration in
        the bracket ``[-log sum w e^{-a}, log sum w e^{a}]``.
    """
    lo = -mpmath.log(
        mpmath.fsum(w * mpmath.exp(-a) for w, a in zip(weights, a_values, strict=True))
    )
    hi = mpmath.log(mpmath.fsum(w * mpmath.exp(a) for w, a in zip(weights, a_values, strict=True)))

    def f(s: mpmath.mpf) -> mpmath.mpf:
        return mpmath.fsum(
            w * mpmath.tanh((a - s) / 2) for w, a in zip(weights, a_values, strict=True)
        )

    def df(s: mpmath.mpf) -> mpmath.mpf:
        return (
            -mpmath.fsum(
                w * mpmath.sech((a - s) / 2) ** 2 for w, a in zip(weights, a_values, strict=True)
            )
            / 2
        )

    tol = mpmath.mpf(10) ** (-(WORK_DPS - 20))
    if hi - lo <= tol:
        return (lo + hi) / 2
    s = (lo + hi) / 2
    for _ in range(2000):
        value = f(s)
        if value == 0:
            return s
        if value > 0:
            lo = s
        else:
            hi = s
        step = value / df(s)
        candidate = s - step
        if not lo < candidate < hi:
            candidate = (lo + hi) / 2
        if abs(candidate - s) <= tol * max(1, abs(s)):
            return candidate
        s = candidate
    raise RuntimeError("optimal_log_z did not converge")


def evaluate_case(case: OracleCase) -> dict[str, Any]:
    """Compute the JSON entry of one case.

    Args:
        case: The case, with exact inputs.

    Returns:
        The case as a JSON-ready dictionary (all numbers as decimal strings).
    """
    ref = reference_losses(case)
    flat: list[sp.Expr] = []
    layout: list[tuple[str, ...]] = []
    for name, expr in ref.outputs.items():
        if isinstance(expr, list):
            for i, e in enumerate(expr):
                flat.append(e)
                layout.append(("outputs", name, str(i)))
        else:
            flat.append(expr)
            layout.append(("outputs", name))
    for loss, by_key in ref.gradients.items():
        for key, exprs in by_key.items():
            for i, e in enumerate(exprs):
                flat.append(e)
                layout.append(("gradients", loss, key, str(i)))
    implz = ref.outputs["importance_log_z"]

    def func(*values: mpmath.mpf) -> list[mpmath.mpf]:
        env = dict(zip(ref.args, values, strict=True))
        cache: dict = {}
        return [mp_eval(e, env, cache) for e in flat]

    def implz_at(*values: mpmath.mpf) -> mpmath.mpf:
        return mp_eval(implz, dict(zip(ref.args, values, strict=True)), {})

    with mpmath.workdps(WORK_DPS):
        cd = [to_mpf(v) for v in case.cost_data]
        qd = [to_mpf(v) for v in case.log_q_data]
        cg = [to_mpf(v) for v in case.cost_gen]
        qg = [to_mpf(v) for v in case.log_q_gen]
        wd = [to_mpf(w) for w in _normalise(case.weight_data)]
        wg = [to_mpf(w) for w in _normalise(case.weight_gen)]
        if case.dyn_data is None:
            a_vals = [-c - q for c, q in zip(cd + cg, qd + qg, strict=True)]
        else:
            # From the full densities: log(k e^{-c}) - log(k e^{log pi}).
            ks = [to_mpf(k) for k in (*case.dyn_data, *(case.dyn_gen or ()))]
            a_vals = [
                (mpmath.log(k) - c) - (mpmath.log(k) + q)
                for k, c, q in zip(ks, cd + cg, qd + qg, strict=True)
            ]
        opt = optimal_log_z(a_vals, [w / 2 for w in wd + wg])
        log_z = opt if case.log_z == OPTIMAL else to_mpf(case.log_z)  # type: ignore[arg-type]
        values = func(*cd, *qd, *cg, *qg, log_z)
        scan_points = [opt + d for d in (-4, -1, 0, 1, 4)]
        if case.log_z != OPTIMAL and all(abs(log_z - s) > 1 for s in scan_points):
            scan_points.append(log_z)
        scan_points.sort()
        scan = [
            {"log_z": fmt(s), "importance_log_z": fmt(implz_at(*cd, *qd, *cg, *qg, s))}
            for s in scan_points
        ]
        entry: dict[str, Any] = {
            "name": case.name,
            "description": case.description,
            "inputs": {
                "cost_data": [fmt(v) for v in cd],
                "log_q_data": [fmt(v) for v in qd],
                "weight_data": [fmt(to_mpf(w)) for w in case.weight_data],
                "cost_gen": [fmt(v) for v in cg],
                "log_q_gen": [fmt(v) for v in qg],
                "weight_gen": [fmt(to_mpf(w)) for w in case.weight_gen],
                "log_z": fmt(log_z),
            },
            "outputs": {
                "discriminator_logit_data": [],
                "discriminator_logit_gen": [],
            },
            "gradients": {loss: {key: [] for key in GRAD_KEYS} for loss in LOSSES},
        }
        for where, value in zip(layout, values, strict=True):
            if where[0] == "outputs" and len(where) == 3:
                entry["outputs"][where[1]].append(fmt(value))
            elif where[0] == "outputs":
                entry["outputs"][where[1]] = fmt(value)
            else:
                entry["gradients"][where[1]][where[2]].append(fmt(value))
        entry["outputs"]["optimal_log_z"] = fmt(opt)
        for loss in LOSSES:
            entry["gradients"][loss]["log_z"] = entry["gradients"][loss]["log_z"][0]
        entry["importance_log_z_scan"] = scan
    return entry


# --------------------------------------------------------------------------- case catalogue


def R(p: int, q: int = 1) -> sp.Rational:  # noqa: N802 - a short constructor for the tables
    """Exact rational ``p/q``."""
    return sp.Rational(p, q)


def exact(value: Number | int) -> sp.Expr:
    """Sympify an exact input; Python floats are refused (they would silently lose digits)."""
    if isinstance(value, float) or (isinstance(value, sp.Basic) and value.has(sp.Float)):
        raise TypeError(f"oracle inputs must be exact, got {value!r}")
    return sp.sympify(value)


def support_case(
    name: str,
    description: str,
    costs: Sequence[Number],
    p: Sequence[Number],
    q: Sequence[Number],
    log_z: Number | str,
) -> OracleCase:
    """Data and generated points both on the same support, weighted by ``p`` and ``q``."""
    costs_t = tuple(exact(c) for c in costs)
    log_q = tuple(sp.log(exact(v)) for v in q)
    return OracleCase(
        name=name,
        description=description,
        cost_data=costs_t,
        log_q_data=log_q,
        weight_data=tuple(exact(v) for v in p),
        cost_gen=costs_t,
        log_q_gen=log_q,
        weight_gen=tuple(exact(v) for v in q),
        log_z=log_z if isinstance(log_z, str) else exact(log_z),
    )


def batch_case(
    name: str,
    description: str,
    data: Sequence[tuple[Number, Number, Number]],
    gen: Sequence[tuple[Number, Number, Number]],
    log_z: Number | str,
) -> OracleCase:
    """A batch given as ``(cost, q, weight)`` triples per side; ``log_q = log q`` exactly."""
    return OracleCase(
        name=name,
        description=description,
        cost_data=tuple(exact(c) for c, _, _ in data),
        log_q_data=tuple(sp.log(exact(q)) for _, q, _ in data),
        weight_data=tuple(exact(w) for _, _, w in data),
        cost_gen=tuple(exact(c) for c, _, _ in gen),
        log_q_gen=tuple(sp.log(exact(q)) for _, q, _ in gen),
        weight_gen=tuple(exact(w) for _, _, w in gen),
        log_z=log_z if isinstance(log_z, str) else exact(log_z),
    )


def cost_cases() -> list[OracleCase]:
    """The ``cost`` family (tests/oracles/losses.json)."""
    tiny = R(1, 10**30)
    c3, p3, q3 = [-1, R(1, 2), 2], [R(1, 5), R(3, 10), R(1, 2)], [R(1, 2), R(1, 4), R(1, 4)]
    c4 = [R(3, 2), R(-1, 2), 0, R(5, 4)]
    p4, q4 = [R(1, 10), R(1, 5), R(3, 10), R(2, 5)], [R(1, 4)] * 4
    distinct_data = [(1, R(1, 3), R(2, 5)), (R(-1, 4), R(1, 2), R(3, 5))]
    distinct_gen = [(0, R(1, 3), R(1, 3)), (R(1, 2), R(1, 2), R(1, 6)), (2, R(1, 6), R(1, 2))]
    pm50 = [50, -50, 0]
    ext_c = [50, -50, 25, -25]
    ext_q = [tiny, R(1, 10**10), R(1, 2), R(1, 2) - tiny - R(1, 10**10)]
    model_r = [R(1, 2), R(1, 3), R(1, 6), R(1)]  # exp(-c); Z = 2
    return [
        support_case(
            "single-point", "one support point on each side, p = q = 1", [R(1, 2)], [1], [1], 0
        ),
        support_case(
            "two-point",
            "two points, p uniform, q = (1/3, 2/3), log Z = 0",
            [0, 1],
            [R(1, 2), R(1, 2)],
            [R(1, 3), R(2, 3)],
            0,
        ),
        support_case(
            "two-point-skewed",
            "two points, p and q skewed opposite ways, log Z = 1/2",
            [R(-1, 2), R(3, 2)],
            [R(3, 4), R(1, 4)],
            [R(1, 4), R(3, 4)],
            R(1, 2),
        ),
        support_case(
            "two-point-rare-q",
            "two points, q = (1/1000, 999/1000)",
            [R(1, 3), R(2, 3)],
            [R(1, 2), R(1, 2)],
            [R(1, 1000), R(999, 1000)],
            R(-1, 3),
        ),
        support_case("three-point", "three points, log Z = 1/3", c3, p3, q3, R(1, 3)),
        support_case("four-point", "four points, q uniform, log Z = log 2", c4, p4, q4, sp.log(2)),
        support_case(
            "four-point-p-equals-q",
            "four points with p = q, log Z = -1",
            [0, 1, 2, 3],
            [R(1, 8), R(3, 8), R(1, 4), R(1, 4)],
            [R(1, 8), R(3, 8), R(1, 4), R(1, 4)],
            -1,
        ),
        batch_case(
            "integer-weights",
            "distinct data (3) and generated (4) points, unnormalised integer weights",
            [(1, R(1, 2), 3), (2, R(1, 4), 1), (R(1, 2), R(1, 8), 2)],
            [(0, R(1, 5), 1), (R(1, 4), R(1, 10), 1), (3, R(3, 5), 4), (-1, R(1, 10), 2)],
            R(1, 4),
        ),
        batch_case(
            "distinct-supports",
            "data and generated points at different places",
            distinct_data,
            distinct_gen,
            R(1, 5),
        ),
        batch_case(
            "data-single-point",
            "a single data point, four generated points",
            [(R(1, 3), R(1, 7), 1)],
            [
                (0, R(1, 4), R(1, 4)),
                (1, R(1, 4), R(1, 4)),
                (2, R(1, 4), R(1, 4)),
                (-1, R(1, 4), R(1, 4)),
            ],
            R(1, 2),
        ),
        batch_case(
            "gen-single-point",
            "three data points, a single generated point",
            [(0, R(1, 3), R(1, 3)), (1, R(1, 6), R(1, 3)), (R(-3, 2), R(1, 2), R(1, 3))],
            [(R(1, 2), R(2, 3), 1)],
            0,
        ),
        support_case(
            "costs-pm50", "costs +-50 and 0", pm50, [R(1, 3)] * 3, [R(1, 2), R(1, 4), R(1, 4)], 0
        ),
        support_case(
            "tiny-q",
            "q down to 1e-30",
            [0, 1, 2],
            [R(1, 4), R(1, 4), R(1, 2)],
            [tiny, R(1, 2), R(1, 2) - tiny],
            0,
        ),
        support_case(
            "log-z-minus-20", "four points, log Z = -20 (far below the optimum)", c4, p4, q4, -20
        ),
        support_case(
            "log-z-plus-20", "four points, log Z = +20 (far above the optimum)", c4, p4, q4, 20
        ),
        support_case(
            "extreme-plus-20",
            "costs +-50 and +-25, q down to 1e-30, log Z = 20",
            ext_c,
            [R(1, 4)] * 4,
            ext_q,
            20,
        ),
        support_case(
            "extreme-minus-20",
            "costs +-50 and +-25, q down to 1e-30, log Z = -20",
            ext_c,
            [R(1, 4)] * 4,
            ext_q,
            -20,
        ),
        support_case(
            "optimum-q-equals-model",
            "q = p_theta = exp(-c)/2 exactly, so the optimal "
            "log Z is log 2 for any p; log Z = log 2",
            [-sp.log(r) for r in model_r],
            [R(2, 5), R(1, 5), R(1, 5), R(1, 5)],
            [r / 2 for r in model_r],
            sp.log(2),
        ),
        support_case(
            "optimum-three-point",
            "three points at the optimal log Z (numeric root)",
            c3,
            p3,
            q3,
            OPTIMAL,
        ),
        batch_case(
            "optimum-distinct-supports",
            "distinct supports at the optimal log Z",
            distinct_data,
            distinct_gen,
            OPTIMAL,
        ),
        support_case(
            "optimum-costs-pm50",
            "costs +-50 at the optimal log Z",
            pm50,
            [R(1, 3)] * 3,
            [R(1, 2), R(1, 4), R(1, 4)],
            OPTIMAL,
        ),
        support_case(
            "optimum-tiny-q",
            "q down to 1e-30 at the optimal log Z",
            [0, 1, 2],
            [R(1, 4), R(1, 4), R(1, 2)],
            [tiny, R(1, 2), R(1, 2) - tiny],
            OPTIMAL,
        ),
    ]


def _energy_case(
    name: str,
    description: str,
    xs: Sequence[Number],
    energy: Callable[[sp.Expr], sp.Expr],
    p: Sequence[Number] | str,
    q: Sequence[Number] | str,
    log_z: Number | str,
) -> OracleCase:
    """Energies of 1-D support points; ``"model"`` for ``p`` or ``q`` means ``exp(-E)/Z``."""
    xs_s = [exact(x) for x in xs]
    energies = tuple(exact(energy(x)) for x in xs_s)
    z_true = sp.Add(*[sp.exp(-e) for e in energies])
    model = tuple(sp.exp(-e) / z_true for e in energies)
    p_t = model if p == "model" else tuple(exact(v) for v in p)
    if q == "model":
        q_t = model
        log_q = tuple(-e - sp.log(z_true) for e in energies)
    else:
        q_t = tuple(exact(v) for v in q)
        log_q = tuple(sp.log(v) for v in q_t)
    lz: Number | str = log_z
    if isinstance(log_z, str) and log_z.startswith("true"):
        lz = sp.log(z_true) + exact(log_z[4:] or 0)
    points = ", ".join(str(x) for x in xs_s)
    return OracleCase(
        name=name,
        description=f"{description}; support x = ({points})",
        cost_data=energies,
        log_q_data=log_q,
        weight_data=p_t,
        cost_gen=energies,
        log_q_gen=log_q,
        weight_gen=q_t,
        log_z=lz if isinstance(lz, str) else exact(lz),
    )


def energy_cases() -> list[OracleCase]:
    """The ``energy`` family (tests/oracles/ebm.json)."""
    xs5 = [-2, -1, 0, 1, 2]
    xs7 = [-2, -1, R(-1, 2), 0, R(1, 2), 1, 2]

    def gauss(x: sp.Expr) -> sp.Expr:
        return x**2 / 2

    def well(x: sp.Expr) -> sp.Expr:
        return (x**2 - 1) ** 2

    def steep(x: sp.Expr) -> sp.Expr:
        return 10 * x**2

    p5 = [R(1, 20), R(1, 5), R(1, 2), R(1, 5), R(1, 20)]
    p7 = [R(1, 40), R(9, 40), R(1, 10), R(1, 10), R(1, 10), R(9, 40), R(9, 40)]
    return [
        _energy_case(
            "gaussian-uniform-q",
            "E = x^2/2, q uniform, log Z = 1",
            xs5,
            gauss,
            p5,
            [R(1, 5)] * 5,
            1,
        ),
        _energy_case(
            "gaussian-q-equals-model",
            "E = x^2/2, q = p_theta exactly, log Z = the true log Z (the optimum)",
            xs5,
            gauss,
            p5,
            "model",
            "true",
        ),
        _energy_case(
            "gaussian-all-model",
            "E = x^2/2, p = q = p_theta, log Z = the true log Z",
            xs5,
            gauss,
            "model",
            "model",
            "true",
        ),
        _energy_case(
            "gaussian-q-equals-model-off",
            "E = x^2/2, q = p_theta, log Z = true + 3",
            xs5,
            gauss,
            p5,
            "model",
            "true3",
        ),
        _energy_case(
            "double-well-broad-q",
            "E = (x^2-1)^2, q uniform, data near +-1, log Z = 0",
            xs7,
            well,
            p7,
            [R(1, 7)] * 7,
            0,
        ),
        _energy_case(
            "double-well-optimum",
            "E = (x^2-1)^2 at the optimal log Z (numeric root)",
            xs7,
            well,
            p7,
            [R(1, 7)] * 7,
            OPTIMAL,
        ),
        _energy_case(
            "double-well-q-equals-model",
            "E = (x^2-1)^2, q = p_theta, log Z = the true log Z",
            xs7,
            well,
            p7,
            "model",
            "true",
        ),
        _energy_case(
            "steep-energy",
            "E = 10 x^2 (up to 40), q uniform, log Z = -20",
            xs5,
            steep,
            p5,
            [R(1, 5)] * 5,
            -20,
        ),
        OracleCase(
            name="gen-single-point",
            description="E = x^2/2: data at x = (-1, 0, 1), one generated point x = 1/2",
            cost_data=(R(1, 2), sp.S.Zero, R(1, 2)),
            log_q_data=(sp.log(R(1, 4)), sp.log(R(1, 2)), sp.log(R(1, 4))),
            weight_data=(R(1, 4), R(1, 2), R(1, 4)),
            cost_gen=(R(1, 8),),
            log_q_gen=(sp.log(R(3, 5)),),
            weight_gen=(sp.S.One,),
            log_z=R(1, 2),
        ),
    ]


def dynamics_case(
    name: str,
    description: str,
    rho0: Number,
    trans0: dict[tuple[int, int], Number],
    policy0: dict[int, Number],
    expert0: dict[int, Number],
    cost: dict[tuple[int, int], Number],
    log_z: Number | str,
) -> OracleCase:
    """All 32 trajectories of a 2-state, 2-action, horizon-2 stochastic MDP.

    Args:
        name: Slug.
        description: One line.
        rho0: ``rho(x_0 = 0)``.
        trans0: ``P(x' = 0 | s, a)``.
        policy0: Sampler ``pi(a = 0 | s)``.
        expert0: Data (expert) ``pi^E(a = 0 | s)``.
        cost: ``c(s, a)``.
        log_z: Exact log Z or :data:`OPTIMAL`.

    Returns:
        The case: data weights ``rho prod P prod pi^E``, generated weights ``rho prod P prod pi``,
        ``log_q`` the policy-only ``sum_t log pi``, and the dynamics factors for the full
        densities.
    """

    def rho(s: int) -> sp.Expr:
        return exact(rho0) if s == 0 else 1 - exact(rho0)

    def trans(s: int, a: int, t: int) -> sp.Expr:
        p0 = exact(trans0[(s, a)])
        return p0 if t == 0 else 1 - p0

    def pol(table: dict[int, Number], s: int, a: int) -> sp.Expr:
        p0 = exact(table[s])
        return p0 if a == 0 else 1 - p0

    costs, log_q, pw, qw, dyn = [], [], [], [], []
    for x0, u0, x1, u1, x2 in itertools.product((0, 1), repeat=5):
        k = rho(x0) * trans(x0, u0, x1) * trans(x1, u1, x2)
        costs.append(exact(cost[(x0, u0)]) + exact(cost[(x1, u1)]))
        log_q.append(sp.log(pol(policy0, x0, u0)) + sp.log(pol(policy0, x1, u1)))
        pw.append(k * pol(expert0, x0, u0) * pol(expert0, x1, u1))
        qw.append(k * pol(policy0, x0, u0) * pol(policy0, x1, u1))
        dyn.append(k)
    return OracleCase(
        name=name,
        description=description + "; trajectories (x0,u0,x1,u1,x2) in lexicographic order",
        cost_data=tuple(costs),
        log_q_data=tuple(log_q),
        weight_data=tuple(pw),
        cost_gen=tuple(costs),
        log_q_gen=tuple(log_q),
        weight_gen=tuple(qw),
        log_z=log_z if isinstance(log_z, str) else exact(log_z),
        dyn_data=tuple(dyn),
        dyn_gen=tuple(dyn),
    )


def dynamics_cases() -> list[OracleCase]:
    """The ``dynamics`` family (tests/oracles/dynamics.json)."""
    trans = {(0, 0): R(9, 10), (0, 1): R(1, 5), (1, 0): R(3, 10), (1, 1): R(3, 5)}
    policy = {0: R(1, 2), 1: R(2, 5)}
    expert = {0: R(4, 5), 1: R(1, 10)}
    cost = {(0, 0): R(1, 2), (0, 1): 1, (1, 0): R(-1, 4), (1, 1): R(3, 2)}
    sticky = {(0, 0): R(999, 1000), (0, 1): R(1, 1000), (1, 0): R(1, 1000), (1, 1): R(999, 1000)}
    big = {(0, 0): 10, (0, 1): -10, (1, 0): 20, (1, 1): -5}
    return [
        dynamics_case(
            "traj-basic",
            "stochastic transitions, log Z = 0",
            R(2, 3),
            trans,
            policy,
            expert,
            cost,
            0,
        ),
        dynamics_case(
            "traj-log-z-2",
            "stochastic transitions, log Z = 2",
            R(2, 3),
            trans,
            policy,
            expert,
            cost,
            2,
        ),
        dynamics_case(
            "traj-optimum",
            "stochastic transitions at the optimal log Z",
            R(2, 3),
            trans,
            policy,
            expert,
            cost,
            OPTIMAL,
        ),
        dynamics_case(
            "traj-sticky-big-costs",
            "near-deterministic transitions (1e-3), costs up "
            "to 20 per step, nearly greedy policy, log Z = 5",
            R(1, 2),
            sticky,
            {0: R(1, 100), 1: R(99, 100)},
            {0: R(1, 2), 1: R(1, 2)},
            big,
            5,
        ),
        dynamics_case(
            "traj-sticky-optimum",
            "near-deterministic transitions at the optimal log Z",
            R(1, 2),
            sticky,
            {0: R(1, 100), 1: R(99, 100)},
            {0: R(1, 2), 1: R(1, 2)},
            big,
            OPTIMAL,
        ),
    ]


FAMILIES: dict[str, Callable[[], list[OracleCase]]] = {
    "cost": cost_cases,
    "energy": energy_cases,
    "dynamics": dynamics_cases,
}


def oracle_document(family: str) -> dict[str, Any]:
    """The full JSON document of one family."""
    cases = FAMILIES[family]()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), f"duplicate case names in {family}"
    return {
        "_generated": GENERATED_NOTE,
        "generator": {
            "python": platform.python_version(),
            "sympy": sp.__version__,
            "mpmath": mpmath.__version__,
        },
        "family": family,
        "digits": DIGITS,
        "cases": [evaluate_case(c) for c in cases],
    }


def write_oracles(root: Path) -> list[Path]:
    """Write the three oracle files under ``root`` (same relative layout as the repo).

    Args:
        root: Repository root (or any folder to mirror it in).

    Returns:
        The paths written.
    """
    written = []
    for family, rel in ORACLE_FILES.items():
        path = Path(root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(oracle_document(family), indent=1) + "\n"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
