"""Stochastic dynamics: the initial-state and transition factors cancel from the discriminator.

For a trajectory ``tau = (x_0, u_0, ..., x_T)`` the model and the sampler are

``p_theta(tau) = rho(x_0) prod_t P(x_{t+1}|x_t,u_t) exp(-c(tau)) / Z`` and
``q(tau) = rho(x_0) prod_t P(x_{t+1}|x_t,u_t) prod_t pi(u_t|x_t)``,

so every ratio used by the losses only needs the policy-only ``log q = sum_t log pi``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from derivations._algebra import (
    THETA,
    cancel_logs,
    disc_loss,
    expand_logs,
    expect,
    grouped_cancel,
    mu_tilde,
    rational_zero,
    sigmoid,
    subs_outside_logs,
    sum_of_squares,
)
from derivations._records import ProofRecord, Timer

FAMILY = "dynamics"
LEVEL = "trajectory support 2 states x 2 actions, T=2"

CANCEL_TITLE = "Transition and initial-state factors cancel from the discriminator"
CANCEL_STATEMENT = (
    r"\frac{p_\theta(\tau)}{p_\theta(\tau) + q(\tau)} = "
    r"\sigma\Big(-c(\tau) - \log Z - \sum_{t} \log\pi(u_t|x_t)\Big),\quad "
    r"p_\theta(\tau) = \frac{\rho(x_0)\prod_t P(x_{t+1}|x_t,u_t)\,e^{-c(\tau)}}{Z},\ "
    r"q(\tau) = \rho(x_0)\prod_t P(x_{t+1}|x_t,u_t)\prod_t\pi(u_t|x_t)"
)
ABC_TITLE = "(a)-(c) on an enumerated trajectory space with the policy-only log q"
ABC_STATEMENT = (
    r"\text{with } \log q(\tau) := \sum_t\log\pi(u_t|x_t):\ "
    r"Z\partial_Z\mathcal{L}_{\mathrm{disc}} = 1 - \frac{\hat Z}{Z},\quad "
    r"\nabla_\theta\mathcal{L}_{\mathrm{disc}} - \nabla_\theta\mathcal{L}_{\mathrm{cost}}"
    r"\big|_{\tilde\mu} = \Big(\frac{Z}{\hat Z}-1\Big)\mathbb{E}_\mu[2D\nabla_\theta c],\quad "
    r"\mathcal{L}_{\mathrm{gen}} = \mathcal{L}_{\mathrm{sampler}} + \log Z"
)


def cancel_integrand(horizon: int) -> ProofRecord:
    """Symbolic factors for a horizon-``horizon`` trajectory cancel in ``D`` and the logit."""
    timer = Timer(FAMILY)
    rho, z = sp.symbols("rho Z", positive=True)
    trans = sp.symbols(f"P_1:{horizon + 1}", positive=True)
    pols = sp.symbols(f"pi_0:{horizon}", positive=True)
    exps = sp.symbols(f"E_0:{horizon}", positive=True)  # exp(c(x_t, u_t))
    costs = [sp.log(e) for e in exps]
    dyn = rho * sp.Mul(*trans)
    p_full = dyn * sp.exp(-sp.Add(*costs)) / z
    q_full = dyn * sp.Mul(*pols)
    policy_logit = -sp.Add(*costs) - sp.log(z) - sp.Add(*[sp.log(p) for p in pols])
    comps = [
        rational_zero(p_full / (p_full + q_full) - sigmoid(policy_logit)),
        expand_logs(sp.log(p_full) - sp.log(q_full) - policy_logit),
    ]
    return timer.record(
        name="factors-cancel",
        title=CANCEL_TITLE,
        statement=CANCEL_STATEMENT,
        assumptions=[
            r"$\rho(x_0)>0$, $P(x_{t+1}|x_t,u_t)>0$, $\pi(u_t|x_t)>0$, $Z>0$ (symbols)",
            f"horizon $T={horizon}$, $c(\\tau) = \\sum_{{t<T}} c(x_t,u_t)$",
        ],
        level=f"integrand T={horizon}",
        residual=sum_of_squares(comps),
        steps=[
            r"\frac{p_\theta}{p_\theta+q} = \frac{\rho\prod P\,e^{-c}/Z}"
            r"{\rho\prod P\,(e^{-c}/Z + \prod\pi)} = \frac{1}{1 + Ze^{c}\prod_t\pi_t}",
            r"\log p_\theta(\tau) - \log q(\tau) = -c(\tau) - \log Z - \sum_t\log\pi_t",
        ],
    )


@dataclass
class TrajectorySpace:
    """All 32 trajectories of a 2-state, 2-action, horizon-2 MDP with symbolic factors."""

    rho: dict[int, sp.Symbol]
    trans: dict[tuple[int, int, int], sp.Symbol]
    pol: dict[tuple[int, int], sp.Symbol]
    expert: dict[tuple[int, int], sp.Symbol]
    cost: dict[tuple[int, int], sp.Expr]
    exps: dict[tuple[int, int], sp.Symbol]
    grads: dict[tuple[int, int], sp.Symbol]
    z: sp.Symbol
    paths: list[tuple[int, int, int, int, int]]

    @classmethod
    def build(cls) -> TrajectorySpace:
        """Free positive symbols for every probability; normalisation comes later."""
        states = actions = (0, 1)
        return cls(
            rho={s: sp.Symbol(f"rho_{s}", positive=True) for s in states},
            trans={
                (s, a, t): sp.Symbol(f"P_{s}{a}{t}", positive=True)
                for s in states
                for a in actions
                for t in states
            },
            pol={(s, a): sp.Symbol(f"pi_{s}{a}", positive=True) for s in states for a in actions},
            expert={
                (s, a): sp.Symbol(f"piE_{s}{a}", positive=True) for s in states for a in actions
            },
            cost={(s, a): sp.Function(f"c_{s}{a}")(THETA) for s in states for a in actions},
            exps={(s, a): sp.Symbol(f"E_{s}{a}", positive=True) for s in states for a in actions},
            grads={(s, a): sp.Symbol(f"g_{s}{a}", real=True) for s in states for a in actions},
            z=sp.Symbol("Z", positive=True),
            paths=list(itertools.product(states, actions, states, actions, states)),
        )

    def dynamics(self, tau: tuple[int, ...]) -> sp.Expr:
        """``rho(x_0) P(x_1|x_0,u_0) P(x_2|x_1,u_1)``."""
        x0, u0, x1, u1, x2 = tau
        return self.rho[x0] * self.trans[(x0, u0, x1)] * self.trans[(x1, u1, x2)]

    def policy(self, tau: tuple[int, ...], table: dict[tuple[int, int], sp.Symbol]) -> sp.Expr:
        """``pi(u_0|x_0) pi(u_1|x_1)`` for the given policy table."""
        x0, u0, x1, u1, _ = tau
        return table[(x0, u0)] * table[(x1, u1)]

    def log_policy(self, tau: tuple[int, ...]) -> sp.Expr:
        """The policy-only ``log q(tau)``."""
        x0, u0, x1, u1, _ = tau
        return sp.log(self.pol[(x0, u0)]) + sp.log(self.pol[(x1, u1)])

    def path_cost(self, tau: tuple[int, ...]) -> sp.Expr:
        """``c(x_0,u_0) + c(x_1,u_1)``."""
        x0, u0, x1, u1, _ = tau
        return self.cost[(x0, u0)] + self.cost[(x1, u1)]

    def normalisation(self) -> dict[sp.Symbol, sp.Expr]:
        """Each distribution's second entry is one minus its first."""
        out: dict[sp.Symbol, sp.Expr] = {self.rho[1]: 1 - self.rho[0]}
        for s in (0, 1):
            for a in (0, 1):
                out[self.trans[(s, a, 1)]] = 1 - self.trans[(s, a, 0)]
            out[self.pol[(s, 1)]] = 1 - self.pol[(s, 0)]
            out[self.expert[(s, 1)]] = 1 - self.expert[(s, 0)]
        return out

    def rationalize(self, expr: sp.Expr) -> sp.Expr:
        """``c'(s,a) -> g_sa`` and ``c(s,a) -> log E_sa``."""
        expr = expr.subs({sp.Derivative(c, THETA): self.grads[k] for k, c in self.cost.items()})
        return expr.subs({c: sp.log(self.exps[k]) for k, c in self.cost.items()})

    def full(self) -> dict[str, list[sp.Expr]]:
        """Per-trajectory weights, full densities and policy-only quantities."""
        out: dict[str, list[sp.Expr]] = {
            k: [] for k in ("p", "q", "model", "sampler", "cost", "pi", "logpi")
        }
        for tau in self.paths:
            dyn = self.dynamics(tau)
            out["p"].append(dyn * self.policy(tau, self.expert))
            out["q"].append(dyn * self.policy(tau, self.pol))
            out["model"].append(dyn * sp.exp(-self.path_cost(tau)) / self.z)
            out["sampler"].append(dyn * self.policy(tau, self.pol))
            out["cost"].append(self.path_cost(tau))
            out["pi"].append(self.policy(tau, self.pol))
            out["logpi"].append(self.log_policy(tau))
        return out


def _full_disc_terms(f: dict[str, list[sp.Expr]]) -> list[sp.Expr]:
    """``D`` from the full densities, per trajectory."""
    return [m / (m + s) for m, s in zip(f["model"], f["sampler"], strict=True)]


def trajectory_cancel() -> ProofRecord:
    """Full-density losses equal the policy-only ones, trajectory by trajectory."""
    timer = Timer(FAMILY)
    space = TrajectorySpace.build()
    f = space.full()
    d_full = _full_disc_terms(f)
    disc_full = sp.Add(
        *[
            -p * sp.log(d) - q * sp.log(1 - d)
            for p, q, d in zip(f["p"], f["q"], d_full, strict=True)
        ]
    )
    disc_pol = disc_loss(f["p"], f["q"], f["cost"], space.z, f["pi"])
    full_prop = [(m + s) / 2 for m, s in zip(f["model"], f["sampler"], strict=True)]
    mu = [(p + q) / 2 for p, q in zip(f["p"], f["q"], strict=True)]
    # Importance weights rho prod P e^{-c} / mu_tilde_full, each brought to lowest terms (exact).
    weight_full = [
        sp.cancel(space.rationalize(m * space.z / prop))
        for m, prop in zip(f["model"], full_prop, strict=True)
    ]
    weight_pol = [
        space.rationalize(sp.exp(-c) / mu_tilde(c, space.z, pi))
        for c, pi in zip(f["cost"], f["pi"], strict=True)
    ]
    comps = [
        expand_logs(space.rationalize(disc_full - disc_pol)),
        grouped_cancel(expect(mu, weight_full) - expect(mu, weight_pol)),
    ]
    return timer.record(
        name="losses-cancel",
        title=CANCEL_TITLE,
        statement=CANCEL_STATEMENT,
        assumptions=[
            r"all 32 trajectories $(x_0,u_0,x_1,u_1,x_2)$ of 2 states, 2 actions, $T=2$",
            r"free positive symbols $\rho(s)$, $P(s'|s,a)$, $\pi(a|s)$, $\pi^{E}(a|s)$; "
            r"$c(s,a)=c_{sa}(\theta)$",
            r"data $p(\tau) = \rho\prod P\prod\pi^{E}$, sampler $q(\tau)=\rho\prod P\prod\pi$",
        ],
        level=LEVEL,
        residual=sum_of_squares(comps),
        steps=[
            r"\mathcal{L}_{\mathrm{disc}}\text{ from } \frac{p_\theta}{p_\theta+q}"
            r"\text{ (full densities)} - \mathcal{L}_{\mathrm{disc}}\text{ from } "
            r"\sigma(-c-\log Z-\textstyle\sum\log\pi) = 0",
            r"\hat Z\text{ from } \frac{\rho\prod P\,e^{-c}}{\tfrac12 p_\theta + \tfrac12 q}"
            r"\ -\ \hat Z \text{ from } \frac{e^{-c}}{\tfrac12 e^{-c}/Z + \tfrac12\prod\pi} = 0",
        ],
    )


def trajectory_abc() -> ProofRecord:
    """(a), (b), (c) on the enumerated trajectory space, losses from the full densities."""
    timer = Timer(FAMILY)
    space = TrajectorySpace.build()
    f = space.full()
    z = space.z
    norm = space.normalisation()
    d_full = _full_disc_terms(f)
    disc = sp.Add(
        *[
            -p * sp.log(d) - q * sp.log(1 - d)
            for p, q, d in zip(f["p"], f["q"], d_full, strict=True)
        ]
    )
    # Exact rewrite: c_sa = log F_sa(theta) with F_sa > 0, then every log argument in lowest
    # terms (the dynamics factors cancel here). Afterwards F_sa' = F_sa g_sa and F_sa -> E_sa.
    pos = {k: sp.Function(f"F_{k[0]}{k[1]}", positive=True)(THETA) for k in space.cost}
    disc = cancel_logs(disc.subs({space.cost[k]: sp.log(fn) for k, fn in pos.items()}))

    def positive_to_rational(expr: sp.Expr) -> sp.Expr:
        expr = expr.subs({sp.Derivative(fn, THETA): fn * space.grads[k] for k, fn in pos.items()})
        return expr.subs({fn: space.exps[k] for k, fn in pos.items()})

    full_prop = [(m + s) / 2 for m, s in zip(f["model"], f["sampler"], strict=True)]
    dyn = [space.dynamics(tau) for tau in space.paths]
    mu = [(p + q) / 2 for p, q in zip(f["p"], f["q"], strict=True)]
    # Rationalised per-trajectory pieces, each brought to lowest terms (an exact rewrite).
    weight_r = [
        sp.cancel(space.rationalize(k * sp.exp(-c) / prop))
        for k, c, prop in zip(dyn, f["cost"], full_prop, strict=True)
    ]
    d_r = [sp.cancel(space.rationalize(d)) for d in d_full]
    zhat_r = expect(mu, weight_r)
    # (a)
    res_a = grouped_cancel(positive_to_rational(z * sp.diff(disc, z)) - (1 - zhat_r / z), norm)
    # (b): mu_tilde as constants m_tau, Zhat as an independent symbol (the residual is affine
    # in 1/Zhat).
    ms = sp.symbols(f"m_0:{len(space.paths)}", positive=True)
    zhat_m = sp.Add(
        *[w * k * sp.exp(-c) / m for w, k, c, m in zip(mu, dyn, f["cost"], ms, strict=True)]
    )
    zhat_sym = sp.Symbol("Zhat", positive=True)
    cost_loss = expect(f["p"], f["cost"]) + sp.log(zhat_m)
    grad_cost = space.rationalize(sp.diff(cost_loss, THETA).subs(zhat_m, zhat_sym))
    assert zhat_sym in grad_cost.free_symbols
    prop_r = [sp.cancel(space.rationalize(prop)) for prop in full_prop]
    grad_cost = grad_cost.xreplace(dict(zip(ms, prop_r, strict=True)))
    grad_disc = positive_to_rational(sp.diff(disc, THETA))
    dc = [space.rationalize(sp.diff(c, THETA)) for c in f["cost"]]
    rhs = (z / zhat_sym - 1) * expect(mu, [2 * d * g for d, g in zip(d_r, dc, strict=True)])
    res_b = grouped_cancel(grad_disc - grad_cost - rhs, norm)
    # (c)
    gen = expect(f["q"], [sp.log(1 - d) - sp.log(d) for d in d_full])
    sampler = expect(f["q"], [c + lp for c, lp in zip(f["cost"], f["logpi"], strict=True)])
    res_c = subs_outside_logs(expand_logs(space.rationalize(gen - sampler - sp.log(z))), norm)
    return timer.record(
        name="abc",
        title=ABC_TITLE,
        statement=ABC_STATEMENT,
        assumptions=[
            r"all 32 trajectories of 2 states, 2 actions, $T=2$; symbolic $\rho$, $P$, "
            r"$\pi$, $\pi^{E}$ normalised (second entry one minus the first)",
            r"$\mathcal{L}_{\mathrm{disc}}$, $\hat Z$, $\mathcal{L}_{\mathrm{gen}}$ computed "
            r"from the full densities; $\mathcal{L}_{\mathrm{sampler}} = \mathbb{E}_q[c] + "
            r"\mathbb{E}_q[\sum_t\log\pi]$ uses the policy-only $\log q$",
        ],
        level=LEVEL,
        residual=sum_of_squares([res_a, res_b, res_c]),
        steps=[
            r"\text{(a)}\ Z\partial_Z\mathcal{L}_{\mathrm{disc}} - (1 - \hat Z/Z) = 0"
            r"\quad\text{(terms grouped by denominator } 1 + Ze^{c(\tau)}\textstyle\prod\pi)",
            r"\text{(b)}\ \nabla_\theta\mathcal{L}_{\mathrm{disc}} - \nabla_\theta"
            r"\mathcal{L}_{\mathrm{cost}}\big|_{\tilde\mu} - \Big(\frac{Z}{\hat Z}-1\Big)"
            r"\mathbb{E}_\mu[2D\nabla c] = 0 \quad(\hat Z \text{ an independent symbol})",
            r"\text{(c)}\ \mathbb{E}_q\Big[\log\frac{1-D}{D}\Big] - \mathbb{E}_q\big[c + "
            r"\textstyle\sum_t\log\pi\big] - \log Z = 0",
            r"\text{the causal entropy } -\mathbb{E}_q[\sum_t\log\pi] \text{ replaces } "
            r"-\mathbb{E}_q[\log q]\text{: the dynamics terms never enter}",
        ],
    )


def proofs() -> list[ProofRecord]:
    """All records of this family."""
    return [cancel_integrand(2), cancel_integrand(3), trajectory_cancel(), trajectory_abc()]
