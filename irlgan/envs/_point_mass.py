r"""`irlgan/PointMass-v0`: a 2-D point mass steered to a goal under a known quadratic cost.

Dynamics (a single integrator, deterministic): the observation is the position $x \in [-L, L]^2$,
the action a velocity command $u \in [-1, 1]^2$, and

$$x_{t+1} = \operatorname{clip}(x_t + \delta\,u_t,\; -L,\; L).$$

The cost of a step is the known quadratic

$$c(x, u) = \lVert x - g \rVert^2 + \rho\,\lVert u \rVert^2,$$

evaluated at the state the action is taken in; the reward is $-c$. Episodes start uniformly in
$[-s, s]^2$, never terminate, and are truncated after `horizon` steps by the registration's
`max_episode_steps`. `true_cost` is the same formula as a torch function, so a learned cost can
be compared with the truth on any batch of states and actions.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from torch import Tensor

__all__ = [
    "POINT_MASS_ACTION_WEIGHT",
    "POINT_MASS_GOAL",
    "POINT_MASS_HORIZON",
    "PointMassEnv",
    "point_mass_true_cost",
]

POINT_MASS_GOAL: tuple[float, float] = (1.0, 1.0)
"""The goal g of the registered environment."""
POINT_MASS_ACTION_WEIGHT = 0.1
"""The action-cost weight rho of the registered environment."""
POINT_MASS_HORIZON = 50
"""Episode length T of the registered environment."""


def point_mass_true_cost(
    obs: Tensor,
    act: Tensor,
    goal: tuple[float, float] = POINT_MASS_GOAL,
    action_weight: float = POINT_MASS_ACTION_WEIGHT,
) -> Tensor:
    r"""The true cost $\lVert x - g\rVert^2 + \rho \lVert u \rVert^2$.

    Args:
        obs: positions [..., 2].
        act: actions [..., 2].
        goal: g.
        action_weight: rho.

    Returns:
        Tensor [...], one cost per step, in the dtype of `obs`.
    """
    if obs.shape[-1] != 2 or act.shape[-1] != 2 or obs.shape[:-1] != act.shape[:-1]:
        raise ValueError(
            f"obs and act must both have shape [..., 2], got {list(obs.shape)} and "
            f"{list(act.shape)}"
        )
    target = torch.as_tensor(goal, dtype=obs.dtype, device=obs.device)
    return (obs - target).square().sum(-1) + action_weight * act.to(obs.dtype).square().sum(-1)


class PointMassEnv(gymnasium.Env):
    """The point-mass navigation task (see the module docstring).

    Args:
        goal: g, inside the arena.
        action_weight: rho >= 0.
        step_size: delta, the distance moved per step at full action.
        arena: L, the half-width of the arena.
        start_spread: s, starts are uniform in [-s, s]^2 (s <= L).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        goal: tuple[float, float] = POINT_MASS_GOAL,
        action_weight: float = POINT_MASS_ACTION_WEIGHT,
        step_size: float = 0.2,
        arena: float = 3.0,
        start_spread: float = 2.0,
    ) -> None:
        super().__init__()
        goal_array = np.asarray(goal, dtype=np.float64)
        if goal_array.shape != (2,) or not np.isfinite(goal_array).all():
            raise ValueError(f"goal must be two finite numbers, got {goal!r}")
        if not arena > 0 or not 0 < start_spread <= arena:
            raise ValueError(
                f"need arena > 0 and 0 < start_spread <= arena, got {arena}, {start_spread}"
            )
        if np.abs(goal_array).max() > arena:
            raise ValueError(f"goal {goal!r} lies outside the arena [-{arena}, {arena}]^2")
        if not action_weight >= 0 or not step_size > 0:
            raise ValueError(
                f"need action_weight >= 0 and step_size > 0, got {action_weight}, {step_size}"
            )
        self.goal = (float(goal_array[0]), float(goal_array[1]))
        self.action_weight = float(action_weight)
        self.step_size = float(step_size)
        self.arena = float(arena)
        self.start_spread = float(start_spread)
        self.observation_space = spaces.Box(-self.arena, self.arena, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.state = np.zeros(2, dtype=np.float64)

    def _obs(self) -> np.ndarray:
        return self.state.astype(np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draws a start position uniformly in [-s, s]^2 (deterministic given `seed`)."""
        super().reset(seed=seed)
        self.state = self.np_random.uniform(-self.start_spread, self.start_spread, size=2)
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Moves by step_size * clip(action, -1, 1); reward = -c(x_t, u_t)."""
        act = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        goal = np.asarray(self.goal)
        cost = float(((self.state - goal) ** 2).sum() + self.action_weight * (act**2).sum())
        self.state = np.clip(self.state + self.step_size * act, -self.arena, self.arena)
        return self._obs(), -cost, False, False, {"cost": cost}

    def true_cost(self, obs: Tensor, act: Tensor) -> Tensor:
        """This environment's cost as a torch function: obs [..., 2], act [..., 2] -> [...]."""
        return point_mass_true_cost(obs, act.clamp(-1.0, 1.0), self.goal, self.action_weight)
