"""Gymnasium environments of irlgan, registered on import.

- `irlgan/GridWorld-v0`: `GridWorldEnv` on `DEFAULT_LAYOUT`, one start state.
- `irlgan/GridWorldRandomStart-v0`: the same grid with several start cells (`RANDOM_START_LAYOUT`).
- `irlgan/PointMass-v0`: `PointMassEnv`, a 2-D point mass with a known quadratic cost, 50 steps;
  `point_mass_expert_demonstrations` records a scripted expert's episodes in it.
- `irlgan/PointMazeLeft-v0`, `irlgan/PointMazeRight-v0`: `PointMazeEnv`, AIRL's shifting maze
  (the wall's opening on the left for training, on the right for the changed task), 100 steps.
- `irlgan/DisabledAnt-v0`: Ant-v5 with shortened front legs (AIRL's disabled Ant), built from
  the installed gymnasium's model (needs the extra ``irlgan[mujoco]``).
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
from irlgan.envs._transfer import (
    MAZE_GOAL,
    PointMazeEnv,
    disabled_ant_class,
    disabled_ant_xml,
)

__all__ = [
    "ACTION_NAMES",
    "DEFAULT_HORIZON",
    "DEFAULT_LAYOUT",
    "RANDOM_START_LAYOUT",
    "GridWorldEnv",
    "default_grid_problem",
]
__all__ += [  # AIRL's transfer tasks
    "MAZE_GOAL",
    "PointMazeEnv",
    "disabled_ant_class",
    "disabled_ant_xml",
]
__all__ += [  # the continuous point mass
    "POINT_MASS_ACTION_WEIGHT",
    "POINT_MASS_GOAL",
    "POINT_MASS_HORIZON",
    "PointMassEnv",
    "point_mass_expert_demonstrations",
    "point_mass_true_cost",
]



def point_mass_expert_demonstrations(episodes: int = 64, seed: int = 0, noise: float = 0.3,
                                     eval_episodes: int = 50):
    r"""Demonstrations of a scripted, near-optimal expert for `irlgan/PointMass-v0`.

    The expert is the infinite-horizon LQR feedback of the point mass's true cost, clipped to the
    action box; with ``noise > 0`` it samples $u = \tanh(\operatorname{atanh}(\bar u) +
    \sigma\varepsilon)$ around that action (a stochastic expert, as the theory assumes). It
    needs no training. Episode i is reset with seed ``seed + i``.

    Args:
        episodes: the number of demonstrated episodes (50 steps each).
        seed: the first reset seed and the seed of the action noise.
        noise: sigma of the pre-tanh noise (0: deterministic).
        eval_episodes: held-out episodes behind the reference returns.

    Returns:
        `irlgan.Demonstrations` with `env_id`, each episode's return, `expert_return` (the
        deterministic expert's mean return on `eval_episodes` held-out episodes) and
        `random_return` (uniformly random actions on the same episodes) set.
    """
    from irlgan.control._point_mass_expert import point_mass_expert_demonstrations as record

    return record(episodes, seed, noise, eval_episodes)


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

for _side in ("Left", "Right"):
    if f"irlgan/PointMaze{_side}-v0" not in gymnasium.registry:
        gymnasium.register(id=f"irlgan/PointMaze{_side}-v0",
                           entry_point="irlgan.envs._transfer:PointMazeEnv",
                           kwargs={"opening": _side.lower()}, max_episode_steps=100)

if "irlgan/DisabledAnt-v0" not in gymnasium.registry:
    gymnasium.register(id="irlgan/DisabledAnt-v0",
                       entry_point="irlgan.envs._transfer:make_disabled_ant",
                       max_episode_steps=1000)
