r"""The cost objectives of GAN-GCL and GCL, written once for every model class.

Both see the same batch: the demonstrations and the sample buffer's trajectories, each with its
log-density under the buffer's mixture $q$. They differ only in how $\log Z$ enters:

* GAN-GCL trains a discriminator $D = \sigma(-c - \log Z - \log q)$ with a learned $\log Z$
  (a scalar or a function of $x_0$): `irlgan.losses.discriminator_loss`.
* GCL (guided cost learning) minimises $\mathbb{E}_p[c] + \log\hat Z$, the importance-sampling
  estimate taken with the $\tfrac12$ demonstrations + $\tfrac12$ samples proposal, at the
  self-consistent $Z$ (`irlgan.losses.optimal_log_z`); with a log Z per initial state, the
  estimate is made separately for each start: $\mathbb{E}_p[c] + \sum_{x_0}\hat p(x_0)\log\hat
  Z(x_0)$.

At the optimal $\log Z$ the two have the same gradient in the cost's parameters (identity (b)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from irlgan import losses


def _side_weights(logit_data: Tensor, logit_gen: Tensor) -> tuple[Tensor, Tensor]:
    """Each side's weights in the discriminator loss's cost gradient, divided by their total
    (no gradient): (1 - D_i) / sum (1 - D) on the demonstrations, D_j / sum D on the samples."""
    logsig = torch.nn.functional.logsigmoid
    with torch.no_grad():
        return (torch.softmax(logsig(-logit_data.detach()), 0),
                torch.softmax(logsig(logit_gen.detach()), 0))


def gan_gcl_cost_loss(
    cost_data: Tensor, log_q_data: Tensor, cost_gen: Tensor, log_q_gen: Tensor,
    log_z_data: Tensor, log_z_gen: Tensor, normalize: bool = False,
) -> Tensor:
    r"""The GAN-GCL discriminator loss with per-trajectory log Z values (Tensor[N], Tensor[M]).

    With `normalize` the value and log Z's gradient are the loss's, and the costs' gradient is
    each side's weights divided by their total: $\sum_i \tilde p_i \nabla c(\tau_i) - \sum_j
    \tilde q_j \nabla c(\tau_j)$ with $\tilde p \propto 1 - D$ on the demonstrations and
    $\tilde q \propto D$ on the samples, as GCL's normalised step (`gcl_cost_loss`), to which
    it is equal at the self-consistent log Z. On a batch separated by thousands of nats the
    loss's own gradient is of size $e^{-\text{thousands}}$, while these weights are then a
    softmax of the logits on each side, which a shift of log Z leaves unchanged.
    """
    if not normalize:
        return losses.discriminator_loss(cost_data, log_q_data, cost_gen, log_q_gen,
                                         (log_z_data, log_z_gen))
    pull, push = _side_weights(-cost_data - log_z_data - log_q_data,
                               -cost_gen - log_z_gen - log_q_gen)
    # the loss with the costs held fixed: its value, and log Z's gradient
    for_log_z = losses.discriminator_loss(cost_data.detach(), log_q_data, cost_gen.detach(),
                                          log_q_gen, (log_z_data, log_z_gen))
    step = (pull * cost_data).sum() - (push * cost_gen).sum()
    return for_log_z + (step - step.detach())


def _stable_cost_loss(cost_data: Tensor, log_q_data: Tensor, cost_gen: Tensor,
                      log_q_gen: Tensor, log_z: Tensor, normalize: bool = False) -> Tensor:
    r"""`irlgan.losses.cost_loss` at the self-consistent `log_z`, with the gradient taken from
    `irlgan.losses.discriminator_loss` there.

    The two gradients are equal at that log Z (identity (b)), but `cost_loss` forms its gradient
    on the data as $1/N$ minus each demonstration's share of $\hat Z$, two terms of order $1/N$;
    on a batch the discriminator separates by tens of nats the difference is of order
    $e^{-40}$ and what comes out is rounding: measured on Pendulum's trajectory batches, a float32
    gradient of norm $6\times10^{-7}$ at cosine $-0.34$ to the exact one of norm
    $2\times10^{-20}$, which Adam then takes as a full step. The discriminator loss computes the
    same weights as $\sigma(-\ell)$ and $\sigma(\ell)$, exact in the sigmoid's tails. The value
    returned is `cost_loss`'s.

    With `normalize`, the gradient is divided by the total weight of its pull,
    $\mathbb E_p[1 - D]$ (equal to that of its push at this log Z, identity (a)): the difference
    of a weighted mean of $\nabla c$ over the demonstrations and one over the samples, the same
    direction at a scale that does not vanish when the batch separates. Without it, the
    weights on a separated batch are $e^{-30}$ to $e^{-60}$, below Adam's $\epsilon = 10^{-8}$,
    and the cost stops moving.
    """
    value = losses.cost_loss(cost_data, log_q_data, cost_gen, log_q_gen, log_z)
    if not normalize:
        step = losses.discriminator_loss(cost_data, log_q_data, cost_gen, log_q_gen,
                                         log_z.detach())
        return value.detach() + (step - step.detach())
    pull, push = _side_weights(-cost_data - log_z - log_q_data, -cost_gen - log_z - log_q_gen)
    step = (pull * cost_data).sum() - (push * cost_gen).sum()
    return value.detach() + (step - step.detach())


def gcl_cost_loss(
    cost_data: Tensor, log_q_data: Tensor, cost_gen: Tensor, log_q_gen: Tensor,
    start_data: Tensor | None = None, start_gen: Tensor | None = None,
    normalize: bool = False,
) -> tuple[Tensor, dict[int, float]]:
    """The GCL objective and the self-consistent log Z it used.

    Args:
        cost_data, log_q_data: Tensor[N] for the demonstrations.
        cost_gen, log_q_gen: Tensor[M] for the buffer's samples.
        start_data, start_gen: optional initial-state ids (int Tensor[N], Tensor[M]); when given,
            log Z is estimated separately for each start state present in the demonstrations.
        normalize: divide the gradient by the total weight of its pull on the demonstrations
            (`AdversarialConfig.gcl_normalize`; the direction is unchanged).

    Returns:
        (loss, log_z) where log_z maps each start state (or -1 for the scalar) to log Ẑ.
    """
    if start_data is None or start_gen is None:
        log_z = losses.optimal_log_z(cost_data.detach(), log_q_data, cost_gen.detach(), log_q_gen)
        loss = _stable_cost_loss(cost_data, log_q_data, cost_gen, log_q_gen, log_z, normalize)
        return loss, {-1: float(log_z)}
    loss = cost_data.new_zeros(())
    log_zs: dict[int, float] = {}
    n = cost_data.shape[0]
    for s in torch.unique(start_data).tolist():
        d = start_data == s
        g = start_gen == s
        if not bool(g.any()):
            raise ValueError(f"no generated sample starts in state {s}, where demonstrations do")
        log_z = losses.optimal_log_z(cost_data[d].detach(), log_q_data[d], cost_gen[g].detach(),
                                     log_q_gen[g])
        part = _stable_cost_loss(cost_data[d], log_q_data[d], cost_gen[g], log_q_gen[g], log_z,
                                 normalize)
        loss = loss + part * (int(d.sum()) / n)
        log_zs[int(s)] = float(log_z)
    return loss, log_zs


# --------------------------------------------------------------------------------------------
# Trajectories of continuous control tasks, and the mixture density of past generators
# --------------------------------------------------------------------------------------------


def piece_count(steps: int, length: int) -> int:
    """ceil(steps / length), at least 1: the L-step pieces of a [B, steps] batch.

    Raises:
        ValueError: `length` is not a positive integer.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"segment length must be a positive integer, got {length!r}")
    return max(1, -(-steps // length))


@dataclass(frozen=True)
class TrajectoryBatch:
    """Whole episodes padded to a common length.

    Attributes:
        obs: Tensor[B, T+1, d_obs], x_0..x_T (rows past an episode's end repeat its last state).
        act: Tensor[B, T, d_act], u_0..u_{T-1}.
        mask: Tensor[B, T], 1.0 on the real steps, 0.0 on padding.
        terminated: Tensor[B] bool, the episode ended in a true terminal state (not a time limit).
    """

    obs: Tensor
    act: Tensor
    mask: Tensor
    terminated: Tensor

    def __post_init__(self) -> None:
        b, t = self.act.shape[:2]
        if self.obs.dim() != 3 or self.obs.shape[:2] != (b, t + 1):
            raise ValueError(f"obs must be [B, T+1, d] = [{b}, {t + 1}, d], got "
                             f"{tuple(self.obs.shape)}")
        if self.mask.shape != (b, t):
            raise ValueError(f"mask must be [{b}, {t}], got {tuple(self.mask.shape)}")
        if self.terminated.shape != (b,):
            raise ValueError(f"terminated must be [{b}], got {tuple(self.terminated.shape)}")

    def __len__(self) -> int:
        return int(self.act.shape[0])

    @property
    def lengths(self) -> Tensor:
        """Tensor[B] int64, the number of real steps of each episode."""
        return self.mask.sum(dim=1).round().long()

    def select(self, index: Tensor) -> TrajectoryBatch:
        """The episodes at `index` (a LongTensor)."""
        return TrajectoryBatch(self.obs[index], self.act[index], self.mask[index],
                               self.terminated[index])

    @staticmethod
    def concat(batches: Sequence[TrajectoryBatch]) -> TrajectoryBatch:
        """Concatenates batches, padding to the longest horizon."""
        if not batches:
            raise ValueError("concat needs at least one batch")
        horizon = max(b.act.shape[1] for b in batches)
        padded = [b.pad_to(horizon) for b in batches]
        return TrajectoryBatch(torch.cat([b.obs for b in padded]),
                               torch.cat([b.act for b in padded]),
                               torch.cat([b.mask for b in padded]),
                               torch.cat([b.terminated for b in padded]))

    def pad_to(self, horizon: int) -> TrajectoryBatch:
        """The same episodes padded to `horizon` steps."""
        extra = horizon - self.act.shape[1]
        if extra < 0:
            raise ValueError(f"cannot pad {self.act.shape[1]} steps down to {horizon}")
        if extra == 0:
            return self
        last = self.obs[:, -1:].expand(-1, extra, -1)
        return TrajectoryBatch(
            torch.cat([self.obs, last], dim=1),
            torch.cat([self.act, self.act.new_zeros(len(self), extra, self.act.shape[2])], dim=1),
            torch.cat([self.mask, self.mask.new_zeros(len(self), extra)], dim=1),
            self.terminated)

    def segments(self, length: int) -> tuple[TrajectoryBatch, Tensor]:
        """Every episode cut into consecutive pieces of `length` steps, as a batch of its own.

        Piece k of an episode holds its steps kL .. kL + L - 1 (the last piece of an episode may
        have fewer real steps) and the states x_kL .. x_kL+L; it is terminated when the episode
        is and it holds the episode's last step. Pieces with no real step are left out.

        Args:
            length: L, steps per piece (a positive integer).

        Returns:
            (pieces, index): the pieces in episode-major order, and index [P], the position of
            each in the flattened [B, n] grid of all pieces, n = ceil(T / L) (to select
            per-piece values computed on that grid, e.g. `EpisodeBuffer.log_q`'s).

        Raises:
            ValueError: `length` is not a positive integer.
        """
        b, t = self.act.shape[:2]
        n = piece_count(t, length)
        grid = self.pad_to(n * length)
        obs = grid.obs.unfold(1, length + 1, length).transpose(-1, -2)  # [B, n, L+1, d]
        act = grid.act.reshape(b, n, length, -1)
        mask = grid.mask.reshape(b, n, length)
        last = ((self.lengths - 1).clamp(min=0) // length)[:, None]
        term = self.terminated[:, None] & (torch.arange(n, device=mask.device)[None] == last)
        index = torch.nonzero(mask[:, :, 0].reshape(-1) > 0).flatten()
        pieces = TrajectoryBatch(obs.reshape(b * n, length + 1, -1)[index],
                                 act.reshape(b * n, length, -1)[index],
                                 mask.reshape(b * n, length)[index], term.reshape(-1)[index])
        return pieces, index

    def transitions(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The real steps as transitions (obs, act, next_obs, terminated): [M, d], [M, k], [M, d],
        [M] bool, in episode-major order; terminated is true only on an episode's final step when
        the episode ended in a terminal state."""
        keep = self.mask > 0
        steps = self.act.shape[1]
        last = torch.zeros_like(keep)
        idx = (self.lengths - 1).clamp(min=0)
        last[torch.arange(len(self), device=keep.device), idx] = True
        term = last & self.terminated[:, None]
        return (self.obs[:, :steps][keep], self.act[keep], self.obs[:, 1:][keep], term[keep])
