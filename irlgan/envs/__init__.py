"""Gymnasium environments of irlgan, registered on import.

- `irlgan/GridWorld-v0`: `GridWorldEnv` on `DEFAULT_LAYOUT`, one start state.
- `irlgan/GridWorldRandomStart-v0`: the same grid with several start cells (`RANDOM_START_LAYOUT`).
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

__all__ = [
    "ACTION_NAMES",
    "DEFAULT_HORIZON",
    "DEFAULT_LAYOUT",
    "RANDOM_START_LAYOUT",
    "GridWorldEnv",
    "default_grid_problem",
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
