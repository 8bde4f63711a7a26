"""The sample buffer: samples of recent generators and the density of their mixture."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import torch
from torch import Tensor


class SampleBuffer:
    r"""Holds the samples of the last `capacity` generators, each adding the same number.

    The samples in the buffer are draws from the uniform mixture of those generators, so the
    density that belongs in the discriminator is the fused mixture density
    $\log q(\tau) = \log \tfrac1K \sum_k q_k(\tau)$, evaluated at demonstrations and samples
    alike. Keeping past generators smooths the discriminator's view of the sampler.

    Args:
        capacity: K, how many generators (with their samples) are kept.
    """

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = capacity
        self._entries: deque[tuple[Any, Tensor, Tensor]] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, sampler_snapshot: Any, states: Tensor, actions: Tensor) -> None:
        """Adds a frozen generator and the trajectories it produced."""
        if self._entries and states.shape[0] != self._entries[0][1].shape[0]:
            raise ValueError("every generator must add the same number of samples")
        self._entries.append((sampler_snapshot, states, actions))

    def samples(self) -> tuple[Tensor, Tensor]:
        """All buffered trajectories: (states [N, T+1], actions [N, T])."""
        if not self._entries:
            raise ValueError("the sample buffer is empty")
        return (torch.cat([e[1] for e in self._entries]), torch.cat([e[2] for e in self._entries]))

    def log_q(self, states: Tensor, actions: Tensor) -> Tensor:
        """Log-density of the generators' uniform mixture at each trajectory, Tensor[B]."""
        if not self._entries:
            raise ValueError("the sample buffer is empty")
        per_generator = torch.stack([e[0].log_prob(states, actions) for e in self._entries])
        return torch.logsumexp(per_generator, dim=0) - math.log(len(self._entries))
