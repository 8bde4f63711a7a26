"""Initial-state log Z: the enumerated log-partition function is the soft value V_0(x_0).

For a deterministic MDP with horizon T, the model conditioned on the initial state is
``p_theta(tau|x_0) = exp(-c(tau)) / Z(x_0)`` with ``Z(x_0)`` the sum over all action sequences
from ``x_0``; ``log Z(x_0)`` is computed by the soft Bellman recursion
``V_T = 0``, ``Q_t(s,a) = -c(s,a) + V_{t+1}(next(s,a))``, ``V_t(s) = log sum_a exp Q_t(s,a)``.
"""

from __future__ import annotations

import itertools

import sympy as sp

from derivations._algebra import sum_of_squares
from derivations._records import ProofRecord, Timer

FAMILY = "initial_state"

TITLE = "log Z(x0) is the finite-horizon soft value V_0(x0)"
STATEMENT = (
    r"\log\sum_{u_0,\dots,u_{T-1}} \exp\Big(-\sum_{t<T} c(x_t,u_t)\Big) = V_0(x_0),"
    r"\quad x_{t+1} = \mathrm{next}(x_t,u_t),\quad V_T = 0,\quad "
    r"V_t(s) = \log\sum_a \exp\big(-c(s,a) + V_{t+1}(\mathrm{next}(s,a))\big)"
)
COND_TITLE = "The conditional model exp(-c)/Z(x0) is normalised for every initial state"
COND_STATEMENT = (
    r"\sum_{u_0,\dots,u_{T-1}} \frac{e^{-c(\tau)}}{Z(x_0)} = 1,\qquad Z(x_0) = e^{V_0(x_0)}"
)

STATES = (0, 1)
ACTIONS = (0, 1)


def _canonical_logs(expr: sp.Expr) -> sp.Expr:
    return expr.replace(sp.log, lambda arg: sp.log(sp.expand(arg)))


def induction_step(n_actions: int) -> ProofRecord:
    """One Bellman backup: ``log sum_a e^{-c_a} W_a = log sum_a exp(-c_a + log W_a)``."""
    timer = Timer(FAMILY)
    costs = sp.symbols(f"c_1:{n_actions + 1}", real=True)
    conts = sp.symbols(f"W_1:{n_actions + 1}", positive=True)
    lhs = sp.log(sp.Add(*[sp.exp(-c) * w for c, w in zip(costs, conts, strict=True)]))
    rhs = sp.log(sp.Add(*[sp.exp(-c + sp.log(w)) for c, w in zip(costs, conts, strict=True)]))
    return timer.record(
        name="soft-value",
        title=TITLE,
        statement=STATEMENT,
        assumptions=[
            f"${n_actions}$ actions; $W_a = \\sum e^{{-C}} > 0$ over the continuations from "
            r"$\mathrm{next}(s,a)$, $V_{t+1}(\mathrm{next}(s,a)) = \log W_a$ (induction hypothesis)"
        ],
        level=f"induction step, {n_actions} actions",
        residual=_canonical_logs(lhs - rhs),
        steps=[
            r"\sum_{a,\ \text{rest}} e^{-c(s,a) - C(\text{rest})} = "
            r"\sum_a e^{-c(s,a)}\sum_{\text{rest}} e^{-C(\text{rest})} = \sum_a e^{-c(s,a)}W_a"
            r"\quad\text{(distributivity)}",
            r"e^{-c(s,a)}W_a = \exp\big(-c(s,a) + V_{t+1}(\mathrm{next}(s,a))\big) = e^{Q_t(s,a)}",
            r"\text{base case } V_T = 0 = \log 1 \text{ (the empty sequence); induct from } t = T-1"
            r"\text{ down to } 0",
        ],
    )


def _soft_value(next_state: dict, cost: dict, horizon: int) -> list[sp.Expr]:
    values = [sp.S.Zero for _ in STATES]
    for _ in range(horizon):
        values = [
            sp.log(sp.Add(*[sp.exp(-cost[(s, a)] + values[next_state[(s, a)]]) for a in ACTIONS]))
            for s in STATES
        ]
    return values


def _enumerated(next_state: dict, cost: dict, horizon: int, x0: int) -> sp.Expr:
    total = sp.S.Zero
    for actions in itertools.product(ACTIONS, repeat=horizon):
        state, path_cost = x0, sp.S.Zero
        for a in actions:
            path_cost += cost[(state, a)]
            state = next_state[(state, a)]
        total += sp.exp(-path_cost)
    return total


def all_tables(horizon: int) -> ProofRecord:
    """Every deterministic 2-state, 2-action transition table, both initial states."""
    timer = Timer(FAMILY)
    cost = {(s, a): sp.Symbol(f"c_{s}{a}", real=True) for s in STATES for a in ACTIONS}
    keys = [(s, a) for s in STATES for a in ACTIONS]
    comps: list[sp.Expr] = []
    for targets in itertools.product(STATES, repeat=len(keys)):
        table = dict(zip(keys, targets, strict=True))
        values = _soft_value(table, cost, horizon)
        for x0 in STATES:
            enum = sp.log(_enumerated(table, cost, horizon, x0))
            comps.append(_canonical_logs(enum - values[x0]))
    return timer.record(
        name="soft-value",
        title=TITLE,
        statement=STATEMENT,
        assumptions=[
            r"2 states, 2 actions, real symbolic costs $c(s,a)$; all $2^4 = 16$ deterministic "
            r"tables $\mathrm{next}(s,a)$; both initial states"
        ],
        level=f"deterministic MDP 2x2, T={horizon}, all 16 tables",
        residual=sum_of_squares(comps),
        steps=[
            r"V_0(x_0)\text{ unrolled: } \exp\big(-c + \log S\big) = S\,e^{-c}"
            r"\text{ at every backup; the argument of the outer log, expanded, is the sum of } "
            r"e^{-c(\tau)} \text{ over all } 2^{" + str(horizon) + r"} \text{ action sequences}",
            r"\text{32 residuals (16 tables} \times \text{2 initial states), each } 0",
        ],
    )


def conditional_normalised(horizon: int) -> ProofRecord:
    """``sum_tau exp(-c(tau)) / exp(V_0(x_0)) = 1`` for one table and each initial state."""
    timer = Timer(FAMILY)
    cost = {(s, a): sp.Symbol(f"c_{s}{a}", real=True) for s in STATES for a in ACTIONS}
    table = {(0, 0): 0, (0, 1): 1, (1, 0): 0, (1, 1): 1}
    values = _soft_value(table, cost, horizon)
    comps = [
        sp.cancel(
            sp.expand(_enumerated(table, cost, horizon, x0)) / sp.expand(sp.exp(values[x0])) - 1
        )
        for x0 in STATES
    ]
    return timer.record(
        name="conditional-normalised",
        title=COND_TITLE,
        statement=COND_STATEMENT,
        assumptions=[r"2 states, 2 actions, $\mathrm{next}(s,a) = a$, symbolic costs"],
        level=f"deterministic MDP 2x2, T={horizon}",
        residual=sum_of_squares(comps),
        steps=[
            r"e^{V_0(x_0)} = Z(x_0) \Rightarrow \sum_\tau e^{-c(\tau)}/Z(x_0) = 1"
            r"\text{ separately for each } x_0",
            r"\text{a single scalar } Z \text{ normalises all of them only if every } V_0(x_0)"
            r"\text{ is equal: with a random initial state } \log Z \text{ must depend on } x_0",
        ],
    )


def proofs() -> list[ProofRecord]:
    """All records of this family."""
    return [
        induction_step(2),
        induction_step(3),
        all_tables(2),
        all_tables(3),
        conditional_normalised(2),
    ]
