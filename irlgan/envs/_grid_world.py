"""A deterministic grid world with a known cost, and its exact tabular model.

Layout characters: `.` free, `#` wall, `G` goal, `H` hazard, `S` start (a free cell where
episodes may begin). States are the non-wall cells, numbered in row-major order. Actions:
0 stay, 1 up, 2 right, 3 down, 4 left; moving off the grid or into a wall leaves the agent where
it is. The cost of a step is the cost of the cell the agent *arrives at* (or stays in): `free_cost`
for `.` and `S`, `goal_cost` for `G`, `hazard_cost` for `H`; the reward is minus the cost. The goal
does not end the episode: episodes are truncated after `horizon` steps and never terminate, so
the environment is exactly the finite-horizon `TabularMDP` returned by `to_tabular`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from irlgan.tabular import TabularMDP, TabularProblem

__all__ = [
    "ACTION_NAMES",
    "DEFAULT_HORIZON",
    "DEFAULT_LAYOUT",
    "RANDOM_START_LAYOUT",
    "GridWorldEnv",
    "default_grid_problem",
]

DEFAULT_LAYOUT: tuple[str, ...] = (
    "S...#.",
    ".##...",
    "...H..",
    ".H..#.",
    "...H..",
    "#....G",
)
"""The layout of `irlgan/GridWorld-v0`: 6x6, 31 free cells, one start in the top-left corner."""

RANDOM_START_LAYOUT: tuple[str, ...] = (
    "S..S#.",
    ".##...",
    "S..H..",
    ".H..#.",
    "...H..",
    "#S...G",
)
"""The layout of `irlgan/GridWorldRandomStart-v0`: `DEFAULT_LAYOUT` with four start cells."""

DEFAULT_HORIZON = 16
"""The horizon of the registered grid worlds (the start-to-goal distance is 10).

With the default costs (free 3, goal 0, hazard 8) almost every soft-optimal demonstration from the
top-left start reaches the goal within this horizon and waits there; with a horizon of 12 or a free
cost of 1 the entropy of wandering wins and demonstrations rarely reach it.
"""

ACTION_NAMES: tuple[str, ...] = ("stay", "up", "right", "down", "left")
"""Action meanings, by index."""

_MOVES: tuple[tuple[int, int], ...] = ((0, 0), (-1, 0), (0, 1), (1, 0), (0, -1))
_CELL_TYPES = ".#GHS"
_COLOURS = {
    ".": (235, 235, 235),
    "S": (200, 220, 255),
    "#": (60, 60, 60),
    "G": (90, 200, 90),
    "H": (220, 80, 70),
}
_AGENT_COLOUR = (30, 50, 160)


def _check_layout(layout: Sequence[str]) -> tuple[str, ...]:
    if isinstance(layout, str) or not isinstance(layout, Sequence) or len(layout) == 0:
        raise ValueError("layout must be a non-empty list of strings")
    rows = tuple(layout)
    if not all(isinstance(row, str) for row in rows):
        raise ValueError("layout must be a list of strings")
    width = len(rows[0])
    if width == 0 or any(len(row) != width for row in rows):
        raise ValueError("layout rows must be non-empty and of equal length")
    bad = {char for row in rows for char in row} - set(_CELL_TYPES)
    if bad:
        raise ValueError(f"layout has unknown cell characters {sorted(bad)}; use {_CELL_TYPES!r}")
    if all(char == "#" for row in rows for char in row):
        raise ValueError("layout must have at least one non-wall cell")
    return rows


class GridWorldEnv(gymnasium.Env):
    """A deterministic grid world (see the module docstring for the conventions).

    Args:
        layout: rows of cell characters (`.`, `#`, `G`, `H`, `S`).
        horizon: the number of steps after which episodes are truncated.
        free_cost: the cost of arriving at or staying in a free (`.` or `S`) cell.
        goal_cost: the cost of arriving at or staying in a goal cell.
        hazard_cost: the cost of arriving at or staying in a hazard cell.
        start: None to start uniformly among the `S` cells, or a fixed `(row, col)` non-wall cell.
        render_mode: None or `"rgb_array"`.
        cell_pixels: the side of one cell in rendered images.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        layout: Sequence[str] = DEFAULT_LAYOUT,
        horizon: int = DEFAULT_HORIZON,
        free_cost: float = 3.0,
        goal_cost: float = 0.0,
        hazard_cost: float = 8.0,
        start: tuple[int, int] | None = None,
        render_mode: str | None = None,
        cell_pixels: int = 16,
    ) -> None:
        self.layout = _check_layout(layout)
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
        for name, value in (
            ("free_cost", free_cost),
            ("goal_cost", goal_cost),
            ("hazard_cost", hazard_cost),
        ):
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if isinstance(cell_pixels, bool) or not isinstance(cell_pixels, int) or cell_pixels < 2:
            raise ValueError(f"cell_pixels must be an integer of at least 2, got {cell_pixels!r}")
        self.horizon = horizon
        self.cell_costs = {
            ".": float(free_cost),
            "S": float(free_cost),
            "G": float(goal_cost),
            "H": float(hazard_cost),
        }
        self.render_mode = render_mode
        self.cell_pixels = cell_pixels
        self.cells: list[tuple[int, int]] = [
            (row, col)
            for row, line in enumerate(self.layout)
            for col, char in enumerate(line)
            if char != "#"
        ]
        self._state_of = {cell: index for index, cell in enumerate(self.cells)}
        if start is None:
            starts = [self._state_of[cell] for cell in self.cells if self._cell(cell) == "S"]
            if not starts:
                raise ValueError("layout has no 'S' cell; add one or pass a fixed start")
        else:
            cell = tuple(start)
            if cell not in self._state_of:
                raise ValueError(f"start must be a non-wall (row, col) cell, got {start!r}")
            starts = [self._state_of[cell]]
        self.start_states = starts
        self.next_state = np.array(
            [[self._move(cell, move) for move in _MOVES] for cell in self.cells], dtype=np.int64
        )
        self.observation_space = spaces.Discrete(len(self.cells))
        self.action_space = spaces.Discrete(len(_MOVES))
        self._state: int | None = None
        self._steps = 0

    def _cell(self, cell: tuple[int, int]) -> str:
        return self.layout[cell[0]][cell[1]]

    def _move(self, cell: tuple[int, int], move: tuple[int, int]) -> int:
        row, col = cell[0] + move[0], cell[1] + move[1]
        inside = 0 <= row < len(self.layout) and 0 <= col < len(self.layout[0])
        if not inside or self.layout[row][col] == "#":
            return self._state_of[cell]
        return self._state_of[(row, col)]

    @property
    def num_states(self) -> int:
        """S, the number of non-wall cells."""
        return len(self.cells)

    def state_cost(self) -> np.ndarray:
        """The cost of being in each state, float64 shape [S]."""
        return np.array([self.cell_costs[self._cell(cell)] for cell in self.cells])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Starts an episode in a start state drawn uniformly (or the fixed start)."""
        super().reset(seed=seed)
        self._state = int(self.start_states[int(self.np_random.integers(len(self.start_states)))])
        self._steps = 0
        return self._state, {"cell": self.cells[self._state]}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Moves deterministically; the reward is minus the cost of the cell arrived at."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in [0, {self.action_space.n}), got {action!r}")
        self._state = int(self.next_state[self._state, int(action)])
        self._steps += 1
        cost = self.cell_costs[self._cell(self.cells[self._state])]
        truncated = self._steps >= self.horizon
        return self._state, -cost, False, truncated, {"cell": self.cells[self._state]}

    def render(self) -> np.ndarray | None:
        """Draws the grid as an RGB image, uint8 shape [rows * px, cols * px, 3]."""
        if self.render_mode != "rgb_array":
            return None
        px = self.cell_pixels
        rows, cols = len(self.layout), len(self.layout[0])
        image = np.zeros((rows * px, cols * px, 3), dtype=np.uint8)
        for row, line in enumerate(self.layout):
            for col, char in enumerate(line):
                image[row * px : (row + 1) * px, col * px : (col + 1) * px] = _COLOURS[char]
        image[::px, :] = 120
        image[:, ::px] = 120
        if self._state is not None:
            row, col = self.cells[self._state]
            inset = max(1, px // 4)
            image[
                row * px + inset : (row + 1) * px - inset, col * px + inset : (col + 1) * px - inset
            ] = _AGENT_COLOUR
        return image

    def features(self) -> np.ndarray:
        """One-hot type of the cell each step arrives at (free, goal, hazard), float64 [S, A, 3].

        The true cost is `features() @ [free_cost, goal_cost, hazard_cost]`.
        """
        kinds = np.array(
            [".GH".index("." if self._cell(c) == "S" else self._cell(c)) for c in self.cells]
        )
        return np.eye(3)[kinds[self.next_state]]

    def to_tabular(self, name: str = "") -> TabularProblem:
        """The exact finite-horizon model of this environment.

        Args:
            name: a label for the problem (e.g. the registered id).

        Returns:
            A `TabularProblem` (unpacks as `mdp, cost`): the `TabularMDP` with the environment's
            dynamics, its start distribution (uniform over the start states) and horizon; the
            cost [S, A] of the cell each step arrives at (minus the step reward); and the cell-type
            features [S, A, 3] of `features`.
        """
        initial = np.zeros(self.num_states)
        initial[self.start_states] = 1.0 / len(self.start_states)
        features = self.features()
        weights = np.array([self.cell_costs["."], self.cell_costs["G"], self.cell_costs["H"]])
        mdp = TabularMDP(
            torch.from_numpy(self.next_state.copy()), torch.from_numpy(initial), self.horizon
        )
        return TabularProblem(
            mdp,
            torch.from_numpy(features @ weights),
            name,
            features=torch.from_numpy(features),
        )


def default_grid_problem() -> TabularProblem:
    """The exact model of `irlgan/GridWorld-v0` (`DEFAULT_LAYOUT`, horizon `DEFAULT_HORIZON`)."""
    return GridWorldEnv().to_tabular(name="irlgan/GridWorld-v0")
