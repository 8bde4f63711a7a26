"""Learnable costs, log-partition functions and samplers.

The algorithms in `irlgan.algorithms` only need these small interfaces:

* a cost: ``cost(states, actions) -> Tensor[B]``, the trajectory cost c(τ) = Σ_t c(x_t, u_t);
* a log Z: ``log_z(initial_states) -> Tensor[B]``, a scalar broadcast or a function of x_0;
* a sampler: ``log_prob(states, actions) -> Tensor[B]``, ``sample(n, generator)`` and
  ``snapshot()`` (a frozen copy for the sample buffer's mixture density).
"""

from irlgan.models._costs import MLPCost, MLPLogZ, ShapedReward, masked_sum
from irlgan.models._policies import (
    GaussianPolicy,
    TanhGaussianPolicy,
    mlp,
    trajectory_log_prob,
)
from irlgan.models._tabular import (
    InitialStateLogZ,
    ScalarLogZ,
    TabularCost,
    TabularSoftmaxPolicy,
)

__all__ = [
    "InitialStateLogZ",
    "ScalarLogZ",
    "TabularCost",
    "TabularSoftmaxPolicy",
]
__all__ += ["MLPCost", "MLPLogZ", "ShapedReward", "masked_sum"]  # continuous costs (issue 4)

__all__ += ["GaussianPolicy", "TanhGaussianPolicy", "mlp", "trajectory_log_prob"]  # policies
