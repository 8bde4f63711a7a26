r"""Finite-horizon tabular decision problems and the validation shared by `irlgan.tabular`.

Two kinds of table:

- `TabularMDP`: deterministic dynamics, `next_state[s, a]` is the state reached from `s` by `a`.
  The model $p_\theta(\tau \mid x_0) = e^{-c(\tau)} / Z(x_0)$ is then a distribution over action
  sequences, and the whole exact machinery of this package applies.
- `StochasticTabularMDP`: a transition table $P(s' \mid s, a)$. Here maximum *causal* entropy and
  maximum *joint* entropy give different models (see `soft_value_iteration` and `log_partition`);
  functions that assume determinism refuse it with a `ValueError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = ["StochasticTabularMDP", "TabularMDP", "TabularProblem"]

_SUM_TOLERANCE = 1e-9


def _as_tensor(value: Any, name: str) -> Tensor:
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{name} must be convertible to a tensor, got {type(value)!r}") from error


def _check_distribution(initial: Any, num_states: int, name: str = "initial") -> Tensor:
    """Validates a probability vector over states and returns it as float64.

    float64 input must sum to 1 within 1e-9; lower-precision input (float32, integers) within
    1e-6, and is renormalised after conversion to float64.

    Args:
        initial: probabilities, shape [S].
        num_states: S.
        name: argument name used in error messages.

    Returns:
        The distribution as a float64 tensor, shape [S].
    """
    initial = _as_tensor(initial, name)
    if not (initial.is_floating_point() or initial.dtype in (torch.int64, torch.int32)):
        raise ValueError(f"{name} must hold real numbers, got dtype {initial.dtype}")
    # Low-precision input cannot sum to 1 within 1e-9; accept it at its own precision.
    tolerance = _SUM_TOLERANCE if initial.dtype == torch.float64 else 1e-6
    low_precision = initial.dtype != torch.float64
    initial = initial.to(torch.float64)
    if initial.shape != (num_states,):
        raise ValueError(f"{name} must have shape [{num_states}], got {list(initial.shape)}")
    if not torch.isfinite(initial).all():
        raise ValueError(f"{name} must be finite")
    if (initial < 0).any():
        raise ValueError(f"{name} must be non-negative")
    total = float(initial.sum())
    if abs(total - 1.0) > tolerance:
        raise ValueError(f"{name} must sum to 1 within {tolerance}, sums to {total!r}")
    return initial / initial.sum() if low_precision else initial


def _check_horizon(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int):
        try:
            as_int = int(horizon)
        except (TypeError, ValueError) as error:
            raise ValueError(f"horizon must be an integer, got {horizon!r}") from error
        if as_int != horizon:
            raise ValueError(f"horizon must be an integer, got {horizon!r}")
        horizon = as_int
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    return horizon


@dataclass(frozen=True, eq=False)
class TabularMDP:
    r"""A finite-horizon MDP with deterministic dynamics.

    Built objects are validated: `next_state` is an integer table with entries in $[0, S)$,
    `initial` is a probability vector (non-negative, summing to 1 within 1e-9) and the horizon
    $T \ge 1$ counts actions, so trajectories have $T$ actions and $T + 1$ states.

    Attributes:
        next_state: int64, shape [S, A]; `next_state[s, a]` is the state reached from `s` by `a`.
        initial: float64, shape [S]; the initial-state distribution $\rho(x_0)$ (float64 input
            must sum to 1 within 1e-9; lower-precision input within 1e-6, then renormalised).
        horizon: T, the number of actions per trajectory.
    """

    next_state: Tensor
    initial: Tensor
    horizon: int

    def __post_init__(self) -> None:
        next_state = _as_tensor(self.next_state, "next_state")
        if (
            next_state.is_floating_point()
            or next_state.is_complex()
            or next_state.dtype == torch.bool
        ):
            raise ValueError(f"next_state must be an integer tensor, got dtype {next_state.dtype}")
        if next_state.ndim != 2 or next_state.shape[0] < 1 or next_state.shape[1] < 1:
            raise ValueError(f"next_state must have shape [S, A], got {list(next_state.shape)}")
        next_state = next_state.to(torch.int64)
        num_states = next_state.shape[0]
        if (next_state < 0).any() or (next_state >= num_states).any():
            raise ValueError(f"next_state entries must lie in [0, {num_states})")
        object.__setattr__(self, "next_state", next_state)
        object.__setattr__(self, "initial", _check_distribution(self.initial, num_states))
        object.__setattr__(self, "horizon", _check_horizon(self.horizon))

    @property
    def num_states(self) -> int:
        """S, the number of states."""
        return int(self.next_state.shape[0])

    @property
    def num_actions(self) -> int:
        """A, the number of actions."""
        return int(self.next_state.shape[1])

    @property
    def transition(self) -> Tensor:
        """The dynamics as a one-hot float64 table, shape [S, A, S]."""
        return torch.nn.functional.one_hot(self.next_state, self.num_states).to(torch.float64)

    def with_initial(self, initial: Tensor) -> TabularMDP:
        """Returns a copy with another initial-state distribution (shape [S])."""
        return TabularMDP(self.next_state, initial, self.horizon)

    def with_horizon(self, horizon: int) -> TabularMDP:
        """Returns a copy with another horizon."""
        return TabularMDP(self.next_state, self.initial, horizon)

    def to_stochastic(self) -> StochasticTabularMDP:
        """The same problem as a `StochasticTabularMDP` with one-hot transitions."""
        return StochasticTabularMDP(self.transition, self.initial, self.horizon)


@dataclass(frozen=True, eq=False)
class StochasticTabularMDP:
    r"""A finite-horizon MDP with a stochastic transition table $P(s' \mid s, a)$.

    Attributes:
        transition: float64, shape [S, A, S]; `transition[s, a, s2]` $= P(s_2 \mid s, a)$, each
            row non-negative and summing to 1 within 1e-9 (lower-precision input: within 1e-6,
            then renormalised in float64).
        initial: float64, shape [S]; the initial-state distribution.
        horizon: T, the number of actions per trajectory.
    """

    transition: Tensor
    initial: Tensor
    horizon: int

    def __post_init__(self) -> None:
        transition = _as_tensor(self.transition, "transition")
        if transition.dtype == torch.bool or transition.is_complex():
            raise ValueError(f"transition must hold real numbers, got dtype {transition.dtype}")
        low_precision = transition.dtype != torch.float64
        tolerance = 1e-6 if low_precision else _SUM_TOLERANCE
        transition = transition.to(torch.float64)
        if (
            transition.ndim != 3
            or transition.shape[0] != transition.shape[2]
            or transition.shape[0] < 1
            or transition.shape[1] < 1
        ):
            raise ValueError(f"transition must have shape [S, A, S], got {list(transition.shape)}")
        if not torch.isfinite(transition).all() or (transition < 0).any():
            raise ValueError("transition must be finite and non-negative")
        worst = float((transition.sum(-1) - 1.0).abs().max())
        if worst > tolerance:
            raise ValueError(
                f"transition rows must sum to 1 within {tolerance}, worst error {worst!r}"
            )
        if low_precision:
            transition = transition / transition.sum(-1, keepdim=True)
        object.__setattr__(self, "transition", transition)
        num_states = transition.shape[0]
        object.__setattr__(self, "initial", _check_distribution(self.initial, num_states))
        object.__setattr__(self, "horizon", _check_horizon(self.horizon))

    @property
    def num_states(self) -> int:
        """S, the number of states."""
        return int(self.transition.shape[0])

    @property
    def num_actions(self) -> int:
        """A, the number of actions."""
        return int(self.transition.shape[1])

    @property
    def is_deterministic(self) -> bool:
        """Whether every row of the transition table is one-hot."""
        return bool((self.transition.max(-1).values == 1.0).all())

    def with_initial(self, initial: Tensor) -> StochasticTabularMDP:
        """Returns a copy with another initial-state distribution (shape [S])."""
        return StochasticTabularMDP(self.transition, initial, self.horizon)

    def to_deterministic(self) -> TabularMDP:
        """Converts a table whose rows are all one-hot into a `TabularMDP`.

        Raises:
            ValueError: if some transition row is not one-hot.
        """
        if not self.is_deterministic:
            raise ValueError("transition is stochastic: some row is not one-hot")
        return TabularMDP(self.transition.argmax(-1), self.initial, self.horizon)


AnyMDP = TabularMDP | StochasticTabularMDP


@dataclass(frozen=True, eq=False)
class TabularProblem:
    """A tabular MDP together with its ground-truth cost.

    Unpacks as a pair: `mdp, cost = problem`.

    Attributes:
        mdp: the dynamics, initial distribution and horizon.
        cost: float64, shape [S, A]; the true cost (for gymnasium tables, minus the reward).
        name: a label, e.g. the gymnasium id.
        features: optional float64 features, shape [S, A, K], for linear-in-features costs.
    """

    mdp: TabularMDP | StochasticTabularMDP
    cost: Tensor
    name: str = ""
    features: Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.mdp, TabularMDP | StochasticTabularMDP):
            raise ValueError(f"mdp must be a TabularMDP or StochasticTabularMDP, got {self.mdp!r}")
        object.__setattr__(self, "cost", _check_cost(self.mdp, self.cost))
        if self.features is not None:
            features = _as_tensor(self.features, "features").to(torch.float64)
            expected = (self.mdp.num_states, self.mdp.num_actions)
            if features.ndim != 3 or tuple(features.shape[:2]) != expected:
                raise ValueError(
                    f"features must have shape [{expected[0]}, {expected[1]}, K], "
                    f"got {list(features.shape)}"
                )
            object.__setattr__(self, "features", features)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.mdp, self.cost))


def _check_mdp(mdp: Any) -> None:
    if not isinstance(mdp, TabularMDP | StochasticTabularMDP):
        raise ValueError(f"mdp must be a TabularMDP or StochasticTabularMDP, got {type(mdp)!r}")


def _require_deterministic(mdp: Any, function: str) -> TabularMDP:
    """Returns `mdp` if it is a `TabularMDP`, else raises a ValueError that says why."""
    if isinstance(mdp, StochasticTabularMDP):
        raise ValueError(
            f"{function} assumes deterministic dynamics but mdp is a StochasticTabularMDP; "
            "convert it with mdp.to_deterministic() if its rows are one-hot"
        )
    if not isinstance(mdp, TabularMDP):
        raise ValueError(f"mdp must be a TabularMDP, got {type(mdp)!r}")
    return mdp


def _check_cost(mdp: AnyMDP, cost: Any, name: str = "cost") -> Tensor:
    """Validates a cost table [S, A]: floating point (integers become float64), no NaN."""
    cost = _as_tensor(cost, name)
    if not cost.is_floating_point():
        if cost.dtype == torch.bool or cost.is_complex():
            raise ValueError(f"{name} must hold real numbers, got dtype {cost.dtype}")
        cost = cost.to(torch.float64)
    expected = (mdp.num_states, mdp.num_actions)
    if tuple(cost.shape) != expected:
        raise ValueError(
            f"{name} must have shape [{expected[0]}, {expected[1]}], got {list(cost.shape)}"
        )
    if not torch.isfinite(cost).all():
        raise ValueError(f"{name} must be finite")
    return cost


def _check_policy(mdp: AnyMDP, policy: Any, name: str = "policy") -> Tensor:
    """Validates a time-dependent policy [T, S, A] whose rows are distributions."""
    policy = _as_tensor(policy, name)
    if not policy.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {policy.dtype}")
    expected = (mdp.horizon, mdp.num_states, mdp.num_actions)
    if tuple(policy.shape) != expected:
        raise ValueError(f"{name} must have shape {list(expected)}, got {list(policy.shape)}")
    _check_policy_rows(policy, name)
    return policy


def _check_policy_rows(policy: Tensor, name: str) -> None:
    if not torch.isfinite(policy).all() or (policy < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    tolerance = 1e-6 if policy.dtype in (torch.float32, torch.float16, torch.bfloat16) else 1e-9
    worst = float((policy.sum(-1) - 1.0).abs().max())
    if worst > tolerance:
        raise ValueError(f"{name} rows must sum to 1 within {tolerance}, worst error {worst!r}")


def _initial_or_default(mdp: AnyMDP, initial: Any, dtype: torch.dtype) -> Tensor:
    if initial is None:
        return mdp.initial.to(dtype)
    return _check_distribution(initial, mdp.num_states).to(dtype)


def _check_index_tensor(value: Any, name: str, ndim: int) -> Tensor:
    value = _as_tensor(value, name)
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor, got dtype {value.dtype}")
    if value.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {list(value.shape)}")
    return value.to(torch.int64)


def _check_trajectories(
    mdp: AnyMDP, states: Any, actions: Any, *, check_dynamics: bool = True
) -> tuple[Tensor, Tensor]:
    """Validates a batch of trajectories against `mdp`.

    Args:
        mdp: the problem.
        states: integer, shape [N, T+1].
        actions: integer, shape [N, T].
        check_dynamics: whether to check that each step is possible under the dynamics
            (equals `next_state` for a `TabularMDP`; has positive probability otherwise).

    Returns:
        `(states, actions)` as int64 tensors.
    """
    states = _check_index_tensor(states, "states", 2)
    actions = _check_index_tensor(actions, "actions", 2)
    horizon = mdp.horizon
    if actions.shape[1] != horizon:
        raise ValueError(f"actions must have shape [N, {horizon}], got {list(actions.shape)}")
    if states.shape != (actions.shape[0], horizon + 1):
        raise ValueError(
            f"states must have shape [{actions.shape[0]}, {horizon + 1}], got {list(states.shape)}"
        )
    if (states < 0).any() or (states >= mdp.num_states).any():
        raise ValueError(f"states must lie in [0, {mdp.num_states})")
    if (actions < 0).any() or (actions >= mdp.num_actions).any():
        raise ValueError(f"actions must lie in [0, {mdp.num_actions})")
    if check_dynamics:
        here, there = states[:, :-1], states[:, 1:]
        if isinstance(mdp, TabularMDP):
            bad = mdp.next_state[here, actions] != there
        else:
            bad = mdp.transition[here, actions, there] <= 0
        if bad.any():
            row, step = (int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"states do not follow the dynamics: trajectory {row}, step {step} goes "
                f"{int(states[row, step])} -> {int(states[row, step + 1])} "
                f"with action {int(actions[row, step])}"
            )
    return states, actions
