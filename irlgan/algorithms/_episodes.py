r"""The generated-episode buffer of GAN-GCL and GCL, and the exact density it samples from.

A vectorised rollout collects $S$ = `steps_per_env` steps in each of $E$ environments with one
policy snapshot; rollout $r = 0, 1, \dots$ is collected entirely by $\pi_r$. Environments reset
as soon as an episode ends, so an episode can start in one rollout and end several rollouts
later. An episode that starts at step $j_0 \in [0, S)$ of rollout $r_0$ (in any environment)
takes its step $t$ with

$$s_g(t) = r_0 + \lfloor (j_0 + t) / S \rfloor,$$

and $g = (r_0, j_0)$ is its *schedule*. The buffer keeps the episodes that completed in the
last $K$ = `capacity` rollouts; with $n_g$ of them on schedule $g$ and $N$ in all, they are
draws from the mixture

$$\log q(\tau) = \operatorname{logsumexp}_g \Big[\log\frac{n_g}{N} + \sum_t m_t
\log\pi_{s_g(t)}(u_t \mid x_t)\Big],$$

where $m_t$ is the padding mask; start-state and transition factors are the same in every
component and cancel in every ratio that uses $q$, so they are left out. For an episode longer
than a schedule reaches (a long demonstration), $s_g(t)$ is clamped to the newest snapshot.
When $S$ is a multiple of a fixed horizon every schedule is $(r, 0)$ with one episode per
environment, and $q$ is the uniform mixture of the last $K$ whole-episode densities.

Snapshots are stored by rollout index: every snapshot from the oldest schedule start among the
buffered and the unfinished episodes up to the newest one (the clamp may need any of them);
older ones are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from irlgan.algorithms._adversarial import TrajectoryBatch, piece_count

__all__ = ["EpisodeBuffer"]


@dataclass(frozen=True)
class _Episode:
    """One complete episode: obs [L+1, d_obs], act [L, d_act], its schedule (r0, j0)."""

    obs: Tensor
    act: Tensor
    terminated: bool
    start: tuple[int, int]


class EpisodeBuffer:
    r"""Stitches vectorised rollouts into episodes and scores episodes under the buffer's $q$.

    Args:
        num_envs: E, the number of sub-environments of every rollout.
        steps_per_env: S, the steps per environment of every rollout.
        capacity: K, the number of most recent rollouts whose completed episodes are kept.
    """

    def __init__(self, num_envs: int, steps_per_env: int, capacity: int) -> None:
        for name, value in (("num_envs", num_envs), ("steps_per_env", steps_per_env),
                            ("capacity", capacity)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.num_envs = num_envs
        self.steps_per_env = steps_per_env
        self.capacity = capacity
        self._next = 0  # the index of the next rollout
        self._snapshots: dict[int, nn.Module] = {}
        self._groups: list[tuple[int, list[_Episode]]] = []  # (completing rollout, episodes)
        self._pending_obs: list[list[Tensor]] = [[] for _ in range(num_envs)]
        self._pending_act: list[list[Tensor]] = [[] for _ in range(num_envs)]
        self._pending_start: list[tuple[int, int]] = [(0, 0)] * num_envs
        self._samples: TrajectoryBatch | None = None

    # ------------------------------------------------------------------------------------------
    # Adding rollouts
    # ------------------------------------------------------------------------------------------

    def add_rollout(self, policy_snapshot: nn.Module, obs: Tensor, act: Tensor, next_obs: Tensor,
                    terminated: Tensor, truncated: Tensor) -> int:
        """Adds the next rollout and the frozen policy that collected it.

        Args:
            policy_snapshot: a frozen copy of the policy of this rollout (anything with
                ``log_prob(obs [M, d_obs], act [M, d_act]) -> [M]``); it is stored, not copied.
            obs: Tensor[S, E, d_obs].
            act: Tensor[S, E, d_act].
            next_obs: Tensor[S, E, d_obs], the true next state (also at an episode's end).
            terminated: Tensor[S, E] bool, the step ended in a terminal state.
            truncated: Tensor[S, E] bool, the step ended the episode by a time limit.

        Returns:
            The number of episodes this rollout completed.

        Raises:
            ValueError: a tensor's shape does not match (S, E) = (steps_per_env, num_envs).
            TypeError: the snapshot has no ``log_prob``.
        """
        if not callable(getattr(policy_snapshot, "log_prob", None)):
            raise TypeError("policy_snapshot must have a log_prob(obs, act) method")
        self._check_rollout(obs, act, next_obs, terminated, truncated)
        rollout, steps = self._next, self.steps_per_env
        done = terminated.bool() | truncated.bool()
        completed: list[_Episode] = []
        for e in range(self.num_envs):
            begin = 0
            for t in torch.nonzero(done[:, e]).flatten().tolist():
                o = torch.cat(self._pending_obs[e] + [obs[begin:t + 1, e], next_obs[t, e][None]])
                a = torch.cat(self._pending_act[e] + [act[begin:t + 1, e]])
                completed.append(_Episode(o, a, bool(terminated[t, e]), self._pending_start[e]))
                self._pending_obs[e], self._pending_act[e] = [], []
                self._pending_start[e] = _normalise(rollout, t + 1, steps)
                begin = t + 1
            if begin < steps:
                self._pending_obs[e].append(obs[begin:, e].clone())
                self._pending_act[e].append(act[begin:, e].clone())
        self._snapshots[rollout] = policy_snapshot
        if completed:
            self._groups.append((rollout, completed))
        self._next = rollout + 1
        self._prune()
        return len(completed)

    def _check_rollout(self, obs: Tensor, act: Tensor, next_obs: Tensor, terminated: Tensor,
                       truncated: Tensor) -> None:
        s, e = self.steps_per_env, self.num_envs
        for name, x, dims in (("obs", obs, 3), ("act", act, 3), ("next_obs", next_obs, 3),
                              ("terminated", terminated, 2), ("truncated", truncated, 2)):
            shape = tuple(x.shape)
            if x.dim() != dims:
                raise ValueError(f"{name} must have {dims} dimensions [steps_per_env, num_envs"
                                 f"{', d' if dims == 3 else ''}], got shape {shape}")
            if shape[1] != e:
                raise ValueError(f"{name} has {shape[1]} environments, num_envs is {e}")
            if shape[0] != s:
                raise ValueError(f"{name} has {shape[0]} steps per environment, steps_per_env "
                                 f"is {s}")
        if next_obs.shape != obs.shape:
            raise ValueError(f"next_obs must have obs's shape {tuple(obs.shape)}, got "
                             f"{tuple(next_obs.shape)}")

    def discard_unfinished(self) -> None:
        """Drops the unfinished episodes; every environment's next episode starts at step 0 of
        the next rollout (a resume that restarts the environments)."""
        self._pending_obs = [[] for _ in range(self.num_envs)]
        self._pending_act = [[] for _ in range(self.num_envs)]
        self._pending_start = [(self._next, 0)] * self.num_envs
        self._prune()

    def _prune(self) -> None:
        """Drops episodes completed before the last K rollouts and snapshots nobody needs."""
        self._groups = [g for g in self._groups if g[0] >= self._next - self.capacity]
        self._samples = None
        if not self._snapshots:
            return
        newest = self._next - 1
        starts = [ep.start[0] for _, eps in self._groups for ep in eps]
        starts += [self._pending_start[e][0] for e in range(self.num_envs)
                   if self._pending_obs[e]]
        oldest = min(starts + [newest])
        for r in [r for r in self._snapshots if r < oldest]:
            del self._snapshots[r]

    # ------------------------------------------------------------------------------------------
    # Reading the buffer
    # ------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(len(eps) for _, eps in self._groups)

    @property
    def rollouts(self) -> int:
        """The number of rollouts added so far (the index of the next one)."""
        return self._next

    @property
    def snapshot_ids(self) -> list[int]:
        """The rollout indices of the stored snapshots, oldest first."""
        return sorted(self._snapshots)

    def schedules(self) -> dict[tuple[int, int], int]:
        """The buffered episodes' schedules: {(r0, j0): n_g}, ordered by schedule."""
        counts: dict[tuple[int, int], int] = {}
        for _, eps in self._groups:
            for ep in eps:
                counts[ep.start] = counts.get(ep.start, 0) + 1
        return dict(sorted(counts.items()))

    def samples(self) -> TrajectoryBatch:
        """Every buffered episode, padded: ordered by completing rollout, environment, time.

        Raises:
            ValueError: the buffer is empty.
        """
        if self._samples is None:
            episodes = [ep for _, eps in self._groups for ep in eps]
            if not episodes:
                raise ValueError("the episode buffer is empty")
            self._samples = _pad(episodes)
        return self._samples

    def log_q(self, batch: TrajectoryBatch, segment: int | None = None) -> Tensor:
        r"""The log-density of the buffer's sampling distribution at each episode (no gradient).

        Each stored snapshot's $\log\pi$ is evaluated once at every step of the batch
        ([K', B, T]); each schedule then gathers its snapshot per step and sums over the real
        steps, and the schedules are mixed with weights $n_g / N$.

        With `segment` = L, the sums run over each L-step piece of the episodes instead
        (`TrajectoryBatch.segments`), and the schedules are mixed per piece with the same
        weights: $\log q(\sigma \mid x_k) = \operatorname{logsumexp}_g [\log(n_g / N) +
        \sum_{t \in \sigma} m_t \log\pi_{s_g(t)}(u_t \mid x_t)]$, the density of the piece's
        actions given its first state. It is exact when one snapshot took every step the
        buffer holds; with several schedules it takes the mixture weights of the piece's start
        state to be $n_g / N$ as at $x_0$ (the states reached at step k under each schedule
        are not known).

        Args:
            batch: the episodes (B of them, padded to T steps).
            segment: None (whole episodes) or L, the steps per piece.

        Returns:
            Tensor[B], $\log q(\tau)$ (up to start-state and transition factors), or with
            `segment` Tensor[B, ceil(T / L)], each piece's (0 on pieces of padding only).

        Raises:
            ValueError: the buffer is empty.
        """
        counts = self.schedules()
        if not counts:
            raise ValueError("the episode buffer is empty")
        b, steps = batch.act.shape[:2]
        if segment is not None:
            n = piece_count(steps, segment)
            if steps == 0:
                return batch.act.new_zeros(b, n)
            pad = n * segment - steps
            # each schedule's per-step log pi [B, T], summed over each piece: [B, n]
            return self._mixture(batch, counts, lambda x: torch.nn.functional.pad(x, (0, pad))
                                 .reshape(b, n, segment).sum(dim=2))
        if steps == 0:
            return batch.act.new_zeros(b)
        return self._mixture(batch, counts, lambda x: x.sum(dim=1))

    def _mixture(self, batch: TrajectoryBatch, counts: dict[tuple[int, int], int],
                 reduce: Callable[[Tensor], Tensor]) -> Tensor:
        """logsumexp over schedules g of log(n_g / N) + reduce(the per-step log pi of g [B, T])."""
        b, steps = batch.act.shape[:2]
        newest, s = self._next - 1, self.steps_per_env
        t = torch.arange(steps, device=batch.act.device)
        index = {g: (g[0] + (g[1] + t) // s).clamp(max=newest) for g in counts}
        lo = min(int(i[0]) for i in index.values())
        hi = max(int(i[-1]) for i in index.values())
        obs = batch.obs[:, :steps].reshape(b * steps, -1)
        act = batch.act.reshape(b * steps, -1)
        real = batch.mask > 0
        total = sum(counts.values())
        with torch.no_grad():
            per_step = torch.stack([
                torch.where(real, self._snapshots[r].log_prob(obs, act).reshape(b, steps), 0.0)
                for r in range(lo, hi + 1)])  # [K', B, T]
            per_schedule = torch.stack([
                reduce(per_step.gather(0, (i - lo).expand(1, b, steps)).squeeze(0))
                + math.log(counts[g] / total)
                for g, i in index.items()])  # [G, B] or [G, B, n]
            return torch.logsumexp(per_schedule, dim=0)

    # ------------------------------------------------------------------------------------------
    # Checkpoints
    # ------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The buffer's state: tensors, ints, bools, lists and dicts (weights_only-safe); the
        snapshots as their `state_dict()`s."""
        ids = self.snapshot_ids
        return {
            "num_envs": self.num_envs, "steps_per_env": self.steps_per_env,
            "capacity": self.capacity, "next_rollout": self._next,
            "snapshot_ids": ids,
            "snapshots": [self._snapshots[r].state_dict() for r in ids],
            "groups": [{"rollout": r,
                        "obs": [ep.obs for ep in eps], "act": [ep.act for ep in eps],
                        "terminated": [ep.terminated for ep in eps],
                        "start": [list(ep.start) for ep in eps]} for r, eps in self._groups],
            "pending_obs": [torch.cat(x) if x else None for x in self._pending_obs],
            "pending_act": [torch.cat(x) if x else None for x in self._pending_act],
            "pending_start": [list(x) for x in self._pending_start],
        }

    def load_state_dict(self, state: dict[str, Any],
                        make_snapshot: Callable[[], nn.Module],
                        device: torch.device | str | None = None) -> None:
        """Restores `state_dict()`'s output.

        Args:
            state: the output of `state_dict()`.
            make_snapshot: makes a module of the snapshots' architecture, into which each
                stored snapshot's state_dict is loaded.
            device: where the stored episodes go (the CPU, where checkpoints are read, when
                None).

        Raises:
            ValueError: the state was saved with a different num_envs, steps_per_env or
                capacity.
        """
        for name in ("num_envs", "steps_per_env", "capacity"):
            if int(state[name]) != getattr(self, name):
                raise ValueError(f"the buffer state has {name}={state[name]}, this buffer "
                                 f"{getattr(self, name)}")
        snapshots: dict[int, nn.Module] = {}
        for r, weights in zip(state["snapshot_ids"], state["snapshots"], strict=True):
            snap = make_snapshot()
            snap.load_state_dict(weights)
            for p in snap.parameters():
                p.requires_grad_(False)
            snapshots[int(r)] = snap
        self._snapshots = snapshots
        self._next = int(state["next_rollout"])
        def to(x: Tensor) -> Tensor:
            return x if device is None else x.to(device)

        self._groups = [
            (int(g["rollout"]),
             [_Episode(to(o), to(a), bool(term), (int(st[0]), int(st[1])))
              for o, a, term, st in zip(g["obs"], g["act"], g["terminated"], g["start"],
                                        strict=True)])
            for g in state["groups"]]
        self._pending_obs = [[] if x is None else [to(x)] for x in state["pending_obs"]]
        self._pending_act = [[] if x is None else [to(x)] for x in state["pending_act"]]
        self._pending_start = [(int(x[0]), int(x[1])) for x in state["pending_start"]]
        self._samples = None


def _normalise(rollout: int, step: int, steps: int) -> tuple[int, int]:
    """The schedule (r0, j0) of an episode starting at `step` of `rollout`, with j0 < S."""
    return rollout + step // steps, step % steps


def _pad(episodes: list[_Episode]) -> TrajectoryBatch:
    """Episodes padded to the longest (obs rows past the end repeat the last state)."""
    horizon = max(ep.act.shape[0] for ep in episodes)
    n = len(episodes)
    obs = episodes[0].obs.new_zeros(n, horizon + 1, episodes[0].obs.shape[-1])
    act = episodes[0].act.new_zeros(n, horizon, episodes[0].act.shape[-1])
    mask = torch.zeros(n, horizon, dtype=torch.float32, device=obs.device)
    term = torch.zeros(n, dtype=torch.bool, device=obs.device)
    for i, ep in enumerate(episodes):
        k = ep.act.shape[0]
        obs[i, :k + 1] = ep.obs
        obs[i, k + 1:] = ep.obs[-1]
        act[i, :k] = ep.act
        mask[i, :k] = 1.0
        term[i] = ep.terminated
    return TrajectoryBatch(obs, act, mask, term)
