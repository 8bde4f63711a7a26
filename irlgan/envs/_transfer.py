r"""The two transfer tasks of AIRL (Fu, Luo and Levine, ICLR 2018): a maze whose wall opening
moves, and an Ant whose front legs are shortened.

`irlgan/PointMazeLeft-v0` and `irlgan/PointMazeRight-v0` (`PointMazeEnv`): a 2-D point mass in
the box $[-1, 1]^2$ must get from below a horizontal wall at $y = 0$ to the goal $(0, 0.7)$
above it. The wall spans the whole width except an opening of width `gap` at one end: on the
left (training) or on the right (test). A move is $x_{t+1} = x_t + \delta\,\operatorname{clip}
(u_t, -1, 1)$ with $\delta = 0.1$, clipped to the box; a move that would cross the wall outside
the opening stops just short of it. The reward is minus the distance to the goal, evaluated after
the move, so a reward learned on states alone, $r(x')$, is the whole of it. Starts are uniform in
$[-0.2, 0.2] \times [-0.8, -0.6]$; episodes never terminate and are truncated after 100 steps.
The state is `unwrapped.state`, so a run resumes exactly.

`irlgan/DisabledAnt-v0` (`disabled_ant_class()`): gymnasium's Ant-v5 (same observations, actions,
reward and 1000-step limit) on a model built from the installed gymnasium's own ``ant.xml``,
with both segments of the two front legs beyond the hip (thigh and shin) shortened to
`front_leg_scale` (default 0.25) of their length. The modified model is written once to a
temporary file named by the hash of its text; nothing is shipped with irlgan.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

__all__ = ["MAZE_GOAL", "PointMazeEnv", "disabled_ant_class", "disabled_ant_xml",
           "make_disabled_ant"]

MAZE_GOAL = (0.0, 0.7)
"""The goal of the point-mass maze, above the wall."""
_WALL_Y = 0.0
_EPS = 1e-6


class PointMazeEnv(gymnasium.Env):
    """The point-mass maze with its wall opening on one side (see the module docstring).

    Args:
        opening: ``"left"`` (training) or ``"right"`` (test).
        gap: the width of the opening.
        step_size: delta, the distance moved per step at full action.
    """

    metadata = {"render_modes": []}

    def __init__(self, opening: str = "left", gap: float = 0.5, step_size: float = 0.1) -> None:
        super().__init__()
        if opening not in ("left", "right"):
            raise ValueError(f"opening must be 'left' or 'right', got {opening!r}")
        if not 0 < gap < 2 or not 0 < step_size <= 0.5:
            raise ValueError(f"need 0 < gap < 2 and 0 < step_size <= 0.5, got {gap}, "
                             f"{step_size}")
        self.opening, self.gap, self.step_size = opening, float(gap), float(step_size)
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.state = np.zeros(2, dtype=np.float64)

    def in_opening(self, x: float) -> bool:
        """Whether the wall is open at horizontal position `x`."""
        if self.opening == "left":
            return x <= -1.0 + self.gap
        return x >= 1.0 - self.gap

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.state = np.array([self.np_random.uniform(-0.2, 0.2),
                               self.np_random.uniform(-0.8, -0.6)])
        return self.state.astype(np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        act = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        here = self.state
        there = np.clip(here + self.step_size * act, -1.0, 1.0)
        below, after = here[1] < _WALL_Y, there[1] < _WALL_Y
        if below != after:  # crosses y = 0: where?
            t = (_WALL_Y - here[1]) / (there[1] - here[1])
            crossing = here[0] + t * (there[0] - here[0])
            if not self.in_opening(crossing):
                there = np.array([there[0], _WALL_Y - _EPS if below else _WALL_Y + _EPS])
        self.state = there
        distance = float(np.hypot(*(there - np.asarray(MAZE_GOAL))))
        return there.astype(np.float32), -distance, False, False, {"distance": distance}


def disabled_ant_xml(front_leg_scale: float = 0.25) -> Path:
    """The path of the disabled Ant's model: gymnasium's installed ``ant.xml`` with the thigh
    and shin of both front legs scaled by `front_leg_scale` (written once, named by its hash).
    """
    if not 0 < front_leg_scale <= 1:
        raise ValueError(f"front_leg_scale must be in (0, 1], got {front_leg_scale!r}")
    source = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / "ant.xml"
    tree = ElementTree.parse(source)
    root = tree.getroot()
    for leg in ("front_left_leg", "front_right_leg"):
        body = root.find(f".//body[@name='{leg}']")
        if body is None:
            raise ValueError(f"{source} has no body {leg!r}: another Ant model than expected")
        hip = body.find("body")  # aux_1 / aux_2: the hip joint, thigh geom and shin body
        thigh = hip.find("geom")
        shin_body = hip.find("body")
        shin = shin_body.find("geom")
        for element, attribute in ((thigh, "fromto"), (shin_body, "pos"), (shin, "fromto")):
            values = [float(v) * front_leg_scale for v in element.get(attribute).split()]
            element.set(attribute, " ".join(f"{v:.6g}" for v in values))
    text = ElementTree.tostring(root, encoding="unicode")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"irlgan-disabled-ant-{digest}.xml"
    if not path.is_file():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    return path


_DISABLED_ANT_CLASS: Any = None


def disabled_ant_class() -> type:
    """`DisabledAntEnv`: a subclass of gymnasium's Ant-v5 environment, defined on first use so
    that importing irlgan does not import MuJoCo."""
    global _DISABLED_ANT_CLASS
    if _DISABLED_ANT_CLASS is None:
        from gymnasium.envs.mujoco.ant_v5 import AntEnv

        class DisabledAntEnv(AntEnv):
            """Ant-v5 with shortened front legs (`disabled_ant_xml`); other keyword arguments
            are Ant-v5's."""

            def __init__(self, front_leg_scale: float = 0.25, **kwargs: Any) -> None:
                super().__init__(xml_file=str(disabled_ant_xml(front_leg_scale)), **kwargs)

        _DISABLED_ANT_CLASS = DisabledAntEnv
    return _DISABLED_ANT_CLASS


def make_disabled_ant(**kwargs: Any) -> gymnasium.Env:
    """The entry point of `irlgan/DisabledAnt-v0`."""
    return disabled_ant_class()(**kwargs)
