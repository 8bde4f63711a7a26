r"""Tabular models: a cost table, log Z as a scalar or per initial state, a softmax policy."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irlgan.tabular import TabularMDP, sample_trajectories


class TabularCost(nn.Module):
    r"""A cost table $c_\theta(s, a) = \theta_{s,a}$; a trajectory's cost is the sum over steps.

    Args:
        num_states: S.
        num_actions: A.
        init: optional initial table [S, A] (zeros, the uniform model, when None).
    """

    def __init__(self, num_states: int, num_actions: int, init: Tensor | None = None) -> None:
        super().__init__()
        table = torch.zeros(num_states, num_actions, dtype=torch.float64)
        if init is not None:
            if tuple(init.shape) != (num_states, num_actions):
                raise ValueError(f"init must have shape [{num_states}, {num_actions}], "
                                 f"got {list(init.shape)}")
            table = init.detach().to(torch.float64).clone()
        self.table = nn.Parameter(table)

    def forward(self, states: Tensor, actions: Tensor) -> Tensor:
        """Trajectory costs: states int [B, T+1], actions int [B, T] -> Tensor[B]."""
        return self.table[states[:, :-1], actions].sum(-1)


class ScalarLogZ(nn.Module):
    """A single learned log Z, exact when every trajectory starts in the same state."""

    def __init__(self, init: float = 0.0) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.tensor(float(init), dtype=torch.float64))

    def forward(self, initial_states: Tensor) -> Tensor:
        """Returns log Z for each trajectory (the same value), Tensor[B]."""
        return self.value.expand(initial_states.shape[0])


class InitialStateLogZ(nn.Module):
    r"""A learned log Z(x_0) per initial state: the exact form when starts are random.

    With a random initial state the model is $p_\theta(\tau \mid x_0) = e^{-c(\tau)}/Z(x_0)$, and
    $\log Z(x_0)$ is the soft value $V_0(x_0)$.
    """

    def __init__(self, num_states: int, init: float = 0.0) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.full((num_states,), float(init), dtype=torch.float64))

    def forward(self, initial_states: Tensor) -> Tensor:
        """Returns log Z(x_0) for each trajectory, Tensor[B]."""
        return self.table[initial_states]


class TabularSoftmaxPolicy(nn.Module):
    r"""A time-dependent softmax policy $\pi_t(a \mid s) \propto e^{\phi_{t,s,a}}$.

    Args:
        mdp: the deterministic problem the policy acts in.
        logits: optional initial logits [T, S, A] (zeros, the uniform policy, when None).
    """

    def __init__(self, mdp: TabularMDP, logits: Tensor | None = None) -> None:
        super().__init__()
        self.mdp = mdp
        shape = (mdp.horizon, mdp.num_states, mdp.num_actions)
        init = torch.zeros(shape, dtype=torch.float64) if logits is None else logits
        if tuple(init.shape) != shape:
            raise ValueError(f"logits must have shape {list(shape)}, got {list(init.shape)}")
        self.logits = nn.Parameter(init.detach().to(torch.float64).clone())

    def log_policy(self) -> Tensor:
        """log π_t(a | s), Tensor[T, S, A]."""
        return torch.log_softmax(self.logits, dim=-1)

    def probabilities(self) -> Tensor:
        """π_t(a | s), Tensor[T, S, A] (detached)."""
        return torch.softmax(self.logits.detach(), dim=-1)

    def step_log_prob(self, states: Tensor, actions: Tensor) -> Tensor:
        """log π_t(u_t | x_t) for each step, Tensor[B, T]."""
        steps = torch.arange(actions.shape[1])
        return self.log_policy()[steps, states[:, :-1], actions]

    def log_prob(self, states: Tensor, actions: Tensor) -> Tensor:
        """log q(τ) = Σ_t log π_t(u_t | x_t), Tensor[B]."""
        return self.step_log_prob(states, actions).sum(-1)

    def sample(self, n: int, generator: torch.Generator, initial: Tensor | None = None):
        """Samples n trajectories: (states int64 [n, T+1], actions int64 [n, T])."""
        return sample_trajectories(self.mdp, self.probabilities(), n, generator, initial)

    def snapshot(self) -> TabularSoftmaxPolicy:
        """A frozen copy (no gradient), for the sample buffer's mixture density."""
        copy = TabularSoftmaxPolicy(self.mdp, self.logits.detach())
        copy.requires_grad_(False)
        return copy
