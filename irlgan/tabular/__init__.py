r"""Exact finite-horizon tabular machinery: the reference answers for the rest of irlgan.

Conventions: a cost table `cost[s, a]` (lower is more likely), trajectories
$\tau = (x_0, u_0, \dots, x_{T-1}, u_{T-1}, x_T)$ with $T$ = `mdp.horizon` actions, stored as
`states` int64 [N, T+1] and `actions` int64 [N, T]; the model
$p_\theta(\tau \mid x_0) = e^{-c(\tau)} / Z(x_0)$ over action sequences (deterministic dynamics),
with $\log Z(x_0) = V_0(x_0)$ from soft value iteration. Everything is computed in log space and
follows the cost's dtype (float64 by default).
"""

from irlgan.tabular._dynamic import (
    exact_kl,
    log_partition,
    policy_log_prob,
    sample_trajectories,
    soft_value_iteration,
    state_action_visitation,
    trajectory_cost,
    trajectory_log_likelihood,
)
from irlgan.tabular._enumerate import (
    DEFAULT_MAX_TRAJECTORIES,
    brute_force_log_partition,
    enumerate_trajectories,
)
from irlgan.tabular._gymnasium import from_gymnasium
from irlgan.tabular._maxent import MaxEntIRLResult, maxent_irl, mean_log_likelihood
from irlgan.tabular._mdp import StochasticTabularMDP, TabularMDP, TabularProblem

__all__ = [
    "DEFAULT_MAX_TRAJECTORIES",
    "MaxEntIRLResult",
    "StochasticTabularMDP",
    "TabularMDP",
    "TabularProblem",
    "brute_force_log_partition",
    "enumerate_trajectories",
    "exact_kl",
    "from_gymnasium",
    "log_partition",
    "maxent_irl",
    "mean_log_likelihood",
    "policy_log_prob",
    "sample_trajectories",
    "soft_value_iteration",
    "state_action_visitation",
    "trajectory_cost",
    "trajectory_log_likelihood",
]
