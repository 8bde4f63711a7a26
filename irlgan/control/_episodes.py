"""Cutting vectorised rollouts into whole episodes, across rollout boundaries.

A vector environment resets each sub-environment as soon as its episode ends, so a rollout of
``T`` steps in ``E`` environments holds ends of episodes that began in earlier rollouts and
beginnings of episodes that finish later. `EpisodeAssembler` keeps each environment's unfinished
episode and emits an episode once it is complete, which is what a trajectory discriminator
(GAN-GCL, GCL) needs. Its state is a dict of tensors, so it goes into checkpoints.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from irlgan.algorithms import TrajectoryBatch

__all__ = ["EpisodeAssembler"]


class EpisodeAssembler:
    """Collects per-environment steps into complete episodes.

    Args:
        num_envs: E, the number of sub-environments.
    """

    def __init__(self, num_envs: int) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be positive, got {num_envs}")
        self.num_envs = num_envs
        self._obs: list[list[Tensor]] = [[] for _ in range(num_envs)]
        self._act: list[list[Tensor]] = [[] for _ in range(num_envs)]

    def add(self, obs: Tensor, act: Tensor, next_obs: Tensor, terminated: Tensor,
            truncated: Tensor) -> TrajectoryBatch | None:
        """Adds a rollout and returns the episodes it completed (None if none).

        Args:
            obs: Tensor[T, E, d_obs]; act: Tensor[T, E, d_act]; next_obs: Tensor[T, E, d_obs]
                (the true next state, also at an episode's end);
            terminated, truncated: Tensor[T, E] bool.

        Returns:
            The completed episodes (ordered by environment, then time), or None.
        """
        steps, envs = obs.shape[:2]
        if envs != self.num_envs:
            raise ValueError(f"rollout has {envs} environments, the assembler {self.num_envs}")
        done = (terminated.bool() | truncated.bool())
        episodes: list[tuple[Tensor, Tensor, bool]] = []
        for e in range(envs):
            ends = torch.nonzero(done[:, e]).flatten().tolist()
            start = 0
            for t in ends:
                o = torch.cat(self._obs[e] + [obs[start:t + 1, e]])
                a = torch.cat(self._act[e] + [act[start:t + 1, e]])
                o = torch.cat([o, next_obs[t, e][None]])
                episodes.append((o, a, bool(terminated[t, e])))
                self._obs[e], self._act[e] = [], []
                start = t + 1
            if start < steps:
                self._obs[e].append(obs[start:, e].clone())
                self._act[e].append(act[start:, e].clone())
        if not episodes:
            return None
        return _pad(episodes)

    def state_dict(self) -> dict[str, Any]:
        """The unfinished episodes, as lists of tensors (weights-only safe)."""
        return {"obs": [torch.cat(x) if x else None for x in self._obs],
                "act": [torch.cat(x) if x else None for x in self._act]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()`'s output."""
        if len(state["obs"]) != self.num_envs:
            raise ValueError("assembler state has a different number of environments")
        self._obs = [[] if x is None else [x] for x in state["obs"]]
        self._act = [[] if x is None else [x] for x in state["act"]]


def _pad(episodes: list[tuple[Tensor, Tensor, bool]]) -> TrajectoryBatch:
    horizon = max(a.shape[0] for _, a, _ in episodes)
    n = len(episodes)
    d_obs, d_act = episodes[0][0].shape[-1], episodes[0][1].shape[-1]
    obs = torch.zeros(n, horizon + 1, d_obs, dtype=episodes[0][0].dtype)
    act = torch.zeros(n, horizon, d_act, dtype=episodes[0][1].dtype)
    mask = torch.zeros(n, horizon, dtype=torch.float32)
    term = torch.zeros(n, dtype=torch.bool)
    for i, (o, a, t) in enumerate(episodes):
        k = a.shape[0]
        obs[i, :k + 1] = o
        obs[i, k + 1:] = o[-1]
        act[i, :k] = a
        mask[i, :k] = 1.0
        term[i] = t
    return TrajectoryBatch(obs, act, mask, term)
