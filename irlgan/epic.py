r"""EPIC: a distance between reward functions that ignores potential shaping and positive scale.

Gleave, Dennis, Legg, Russell and Leike, "Quantifying Differences in Reward Functions" (ICLR
2021). Two rewards that differ by potential shaping $\gamma\Phi(s') - \Phi(s)$ and a positive
factor induce the same optimal policies in every dynamics; EPIC is zero exactly for such pairs.
It first maps each reward to a canonical form,

$$C(R)(s, a, s') = R(s, a, s') + \mathbb{E}\big[\gamma R(s', A, S') - R(s, A, S')
  - \gamma R(S, A, S')\big],$$

with $S, S' \sim \mathcal{D}_S$ and $A \sim \mathcal{D}_A$ independent, which removes any
shaping term, and then takes the Pearson distance of the two canonical rewards on a coverage
distribution $\mathcal{D}$ of transitions,

$$D_\text{EPIC}(R_A, R_B) = \sqrt{\tfrac{1}{2}\big(1 - \rho(C(R_A)(S, A, S'),\,
  C(R_B)(S, A, S'))\big)}, \quad (S, A, S') \sim \mathcal{D},$$

which lies in $[0, 1]$: 0 for equivalent rewards, 1 for $R_B = -R_A$.

`epic_tabular` computes it exactly for rewards given as arrays ``[S, A, S]`` and any
distributions; `epic_sampled` estimates it for rewards given as functions of batched tensors,
from samples of the distributions (the canonicalising expectations by `n_mean` samples each, the
Pearson correlation on `n_coverage` transitions), for continuous tasks. The distributions are
part of the result: a distance is only defined with them, and benchmark tables state them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["canonicalise_tabular", "epic_sampled", "epic_tabular", "pearson_distance"]

RewardFn = Callable[[Tensor, Tensor, Tensor], Tensor]
"""reward(obs [N, d_obs], act [N, d_act], next_obs [N, d_obs]) -> [N]."""


def _distribution(p: Tensor | None, n: int, name: str) -> Tensor:
    if p is None:
        return torch.full((n,), 1.0 / n, dtype=torch.float64)
    p = torch.as_tensor(p, dtype=torch.float64)
    if p.shape != (n,) or (p < 0).any() or not torch.isclose(p.sum(), p.new_tensor(1.0)):
        raise ValueError(f"{name} must be a probability vector of length {n}")
    return p


def canonicalise_tabular(reward: Tensor, discount: float, state_dist: Tensor | None = None,
                         action_dist: Tensor | None = None) -> Tensor:
    """The canonical reward C(R) ``[S, A, S]`` of a tabular reward ``[S, A, S]`` (exact).

    Args:
        reward: R[s, a, s'].
        discount: gamma in [0, 1].
        state_dist: D_S over the S states (uniform when None).
        action_dist: D_A over the A actions (uniform when None).
    """
    reward = torch.as_tensor(reward, dtype=torch.float64)
    if reward.ndim != 3 or reward.shape[0] != reward.shape[2]:
        raise ValueError(f"reward must have shape [S, A, S], got {list(reward.shape)}")
    if not 0.0 <= discount <= 1.0:
        raise ValueError(f"discount must be in [0, 1], got {discount!r}")
    states, actions, _ = reward.shape
    d_s = _distribution(state_dist, states, "state_dist")
    d_a = _distribution(action_dist, actions, "action_dist")
    # m[x] = E_{A, S'} R(x, A, S'), the mean reward leaving x
    leaving = torch.einsum("xak,a,k->x", reward, d_a, d_s)
    overall = torch.dot(d_s, leaving)  # E_{S, A, S'} R(S, A, S')
    return (reward + discount * leaving[None, None, :] - leaving[:, None, None]
            - discount * overall)


def pearson_distance(x: Tensor, y: Tensor, weights: Tensor | None = None) -> float:
    """sqrt((1 - rho) / 2) of two samples (optionally weighted): 0 when perfectly positively
    correlated, 1 when perfectly negatively.

    Raises:
        ValueError: a sample is constant (the correlation, and EPIC, are undefined: the
            reward is equivalent to zero on the coverage).
    """
    x = x.reshape(-1).to(torch.float64)
    y = y.reshape(-1).to(torch.float64)
    w = (torch.full_like(x, 1.0 / x.numel()) if weights is None
         else weights.reshape(-1).to(torch.float64) / weights.sum())
    mx, my = (w * x).sum(), (w * y).sum()
    vx, vy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum()
    if vx <= 1e-300 or vy <= 1e-300:
        raise ValueError("a canonical reward is constant on the coverage distribution: it is "
                         "equivalent to zero there, and EPIC is undefined")
    rho = ((w * (x - mx) * (y - my)).sum() / torch.sqrt(vx * vy)).clamp(-1.0, 1.0)
    return float(torch.sqrt((1.0 - rho) / 2.0))


def epic_tabular(reward_a: Tensor, reward_b: Tensor, discount: float, *,
                 state_dist: Tensor | None = None, action_dist: Tensor | None = None,
                 coverage: Tensor | None = None) -> float:
    """EPIC between two tabular rewards ``[S, A, S]``, exactly.

    Args:
        reward_a, reward_b: the rewards R[s, a, s'].
        discount: gamma.
        state_dist, action_dist: D_S and D_A of the canonicalisation (uniform when None).
        coverage: D, weights ``[S, A, S]`` over transitions (uniform when None), for example the
            visitation of a policy times the dynamics.
    """
    a = canonicalise_tabular(reward_a, discount, state_dist, action_dist)
    b = canonicalise_tabular(reward_b, discount, state_dist, action_dist)
    if a.shape != b.shape:
        raise ValueError(f"the rewards have shapes {list(a.shape)} and {list(b.shape)}")
    weights = None
    if coverage is not None:
        weights = torch.as_tensor(coverage, dtype=torch.float64)
        if weights.shape != a.shape or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"coverage must be non-negative weights of shape {list(a.shape)}")
    return pearson_distance(a, b, weights)


def _canonical_sampled(reward: RewardFn, obs: Tensor, act: Tensor, next_obs: Tensor,
                       mean_states: Tensor, mean_actions: Tensor, discount: float) -> Tensor:
    """C(R) at the coverage transitions, the expectations over the `n_mean` samples."""
    n, m = obs.shape[0], mean_states.shape[0]

    def mean_leaving(x: Tensor) -> Tensor:  # E_{A, S'} R(x, A, S') for each row of x
        xs = x[:, None, :].expand(-1, m, -1).reshape(x.shape[0] * m, -1)
        acts = mean_actions[None].expand(x.shape[0], -1, -1).reshape(x.shape[0] * m, -1)
        nexts = mean_states[None].expand(x.shape[0], -1, -1).reshape(x.shape[0] * m, -1)
        return reward(xs, acts, nexts).reshape(x.shape[0], m).to(torch.float64).mean(1)

    overall = reward(mean_states, mean_actions, mean_states.roll(1, 0)).to(torch.float64).mean()
    direct = reward(obs, act, next_obs).to(torch.float64).reshape(n)
    return direct + discount * mean_leaving(next_obs) - mean_leaving(obs) - discount * overall


def epic_sampled(reward_a: RewardFn, reward_b: RewardFn, discount: float, *,
                 sample_states: Callable[[int, torch.Generator], Tensor],
                 sample_actions: Callable[[int, torch.Generator], Tensor],
                 sample_coverage: Callable[[int, torch.Generator], tuple[Tensor, Tensor, Tensor]],
                 n_mean: int = 512, n_coverage: int = 4096, seed: int = 0) -> float:
    """EPIC between two reward functions, estimated from samples.

    Args:
        reward_a, reward_b: ``reward(obs, act, next_obs) -> [N]`` on batched tensors.
        discount: gamma.
        sample_states: ``(n, generator) -> [n, d_obs]`` samples of D_S.
        sample_actions: ``(n, generator) -> [n, d_act]`` samples of D_A.
        sample_coverage: ``(n, generator) -> (obs, act, next_obs)`` transitions of D.
        n_mean: samples behind each canonicalising expectation.
        n_coverage: transitions behind the Pearson correlation.
        seed: seeds the samples (both rewards see the same ones).

    Returns:
        The estimate; its sampling error shrinks as 1/sqrt(n_mean) and 1/sqrt(n_coverage).
    """
    generator = torch.Generator().manual_seed(int(seed))
    mean_states = sample_states(n_mean, generator).to(torch.float64)
    mean_actions = sample_actions(n_mean, generator).to(torch.float64)
    obs, act, next_obs = (t.to(torch.float64) for t in sample_coverage(n_coverage, generator))
    with torch.no_grad():
        a = _canonical_sampled(reward_a, obs, act, next_obs, mean_states, mean_actions, discount)
        b = _canonical_sampled(reward_b, obs, act, next_obs, mean_states, mean_actions, discount)
    return pearson_distance(a, b)
