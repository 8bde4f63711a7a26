"""Gymnasium environments of irlgan, registered on import.

- `irlgan/GridWorld-v0`: `GridWorldEnv` on `DEFAULT_LAYOUT`, one start state.
- `irlgan/GridWorldRandomStart-v0`: the same grid with several start cells (`RANDOM_START_LAYOUT`).
- `irlgan/PointMass-v0`: `PointMassEnv`, a 2-D point mass with a known quadratic cost, 50 steps.
"""

import gymnasium

from irlgan.envs._grid_world import (
    ACTION_NAMES,
    DEFAULT_HORIZON,
    DEFAULT_LAYOUT,
    RANDOM_START_LAYOUT,
    GridWorldEnv,
    default_grid_problem,
)
from irlgan.envs._point_mass import (
    POINT_MASS_ACTION_WEIGHT,
    POINT_MASS_GOAL,
    POINT_MASS_HORIZON,
    PointMassEnv,
    point_mass_true_cost,
)

__all__ = [
    "ACTION_NAMES",
    "DEFAULT_HORIZON",
    "DEFAULT_LAYOUT",
    "RANDOM_START_LAYOUT",
    "GridWorldEnv",
    "default_grid_problem",
]
__all__ += [  # the continuous point mass (issue 4)
    "POINT_MASS_ACTION_WEIGHT",
    "POINT_MASS_GOAL",
    "POINT_MASS_HORIZON",
    "PointMassEnv",
    "point_mass_true_cost",
]

_REGISTRATIONS = {
    "irlgan/GridWorld-v0": {"layout": DEFAULT_LAYOUT, "horizon": DEFAULT_HORIZON},
    "irlgan/GridWorldRandomStart-v0": {"layout": RANDOM_START_LAYOUT, "horizon": DEFAULT_HORIZON},
}

for _env_id, _kwargs in _REGISTRATIONS.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(
            id=_env_id, entry_point="irlgan.envs._grid_world:GridWorldEnv", kwargs=_kwargs
        )

if "irlgan/PointMass-v0" not in gymnasium.registry:
    gymnasium.register(
        id="irlgan/PointMass-v0",
        entry_point="irlgan.envs._point_mass:PointMassEnv",
        max_episode_steps=POINT_MASS_HORIZON,
    )
