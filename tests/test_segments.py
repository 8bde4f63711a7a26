"""`AdversarialConfig.segment_steps`: GAN-GCL and GCL on L-step pieces of episodes.

Checked by definition: the pieces tile every episode's real steps once
(`TrajectoryBatch.segments`), each piece's log q is the per-piece mixture written out as a loop
over schedules and steps (`EpisodeBuffer.log_q(batch, L)`), and with pieces as long as the
longest episode a trainer takes exactly the steps it takes on whole episodes."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

import irlgan
from irlgan.algorithms._adversarial import TrajectoryBatch
from tests.test_api import SMALL, Bowl, drift_demos, make_drift
from tests.test_episode_buffer import ROLLOUTS, S, _crossing_setup, _unpad


def _random_batch(lengths: list[int], seed: int = 0) -> TrajectoryBatch:
    g = torch.Generator().manual_seed(seed)
    horizon = max(lengths)
    n = len(lengths)
    obs = torch.randn(n, horizon + 1, 3, generator=g, dtype=torch.float64)
    act = torch.randn(n, horizon, 2, generator=g, dtype=torch.float64)
    mask = torch.zeros(n, horizon)
    for i, k in enumerate(lengths):
        mask[i, :k] = 1.0
        obs[i, k + 1:] = obs[i, k]
        act[i, k:] = 0.0
    term = torch.tensor([i % 2 == 0 for i in range(n)])
    return TrajectoryBatch(obs, act, mask, term)


@pytest.mark.parametrize("length", [1, 3, 4, 7, 13, 40])
def test_pieces_tile_every_episode_once(length: int) -> None:
    lengths = [13, 1, 8, 12, 5]
    batch = _random_batch(lengths)
    pieces, index = batch.segments(length)
    n = math.ceil(max(lengths) / length)
    assert pieces.act.shape[1:] == (length, 2) and pieces.obs.shape[1:] == (length + 1, 3)
    assert len(pieces) == sum(math.ceil(k / length) for k in lengths) == len(index)
    # the pieces, in order, are the episodes' steps and states
    for p, flat in enumerate(index.tolist()):
        i, k = divmod(flat, n)
        start, real = k * length, int(pieces.lengths[p])
        assert real == min(length, lengths[i] - start) > 0
        assert torch.equal(pieces.obs[p, :real + 1], batch.obs[i, start:start + real + 1])
        assert torch.equal(pieces.act[p, :real], batch.act[i, start:start + real])
        # only an episode's last piece can be terminated, and it is when the episode is
        assert bool(pieces.terminated[p]) == (bool(batch.terminated[i])
                                              and start + real == lengths[i])
    # a per-step cost summed over the pieces is the episodes' cost
    def step_cost(obs, act):
        return (obs ** 2).sum(-1) + torch.sin(act).sum(-1)
    per_piece = (step_cost(pieces.obs[:, :-1], pieces.act) * pieces.mask).sum(1)
    per_episode = (step_cost(batch.obs[:, :-1], batch.act) * batch.mask).sum(1)
    summed = torch.zeros(len(batch) * n, dtype=torch.float64).index_add(0, index, per_piece)
    torch.testing.assert_close(summed.reshape(len(batch), n).sum(1), per_episode,
                               rtol=0, atol=1e-12)


def test_bad_segment_lengths_are_named() -> None:
    batch = _random_batch([3, 2])
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="segment length must be a positive integer"):
            batch.segments(bad)
    with pytest.raises(ValueError, match="segment_steps must be a non-negative integer"):
        irlgan.AdversarialConfig(segment_steps=-1)
    config = irlgan.AdversarialConfig(num_envs=2, steps_per_env=20, segment_steps=5)
    for cls in (irlgan.AIRL, irlgan.GAIL):
        with pytest.raises(ValueError, match="segment_steps=5 applies to the episode"):
            cls(make_drift, drift_demos(), config=config)


def _brute_piece_log_q(buffered, snapshots, newest, steps, trajectories, length):
    """Each piece's log q by the definition: a loop over schedules and the piece's steps."""
    counts = Counter(ep.start for ep in buffered)
    total = sum(counts.values())
    out = []
    for obs, act in trajectories:
        row = []
        for begin in range(0, act.shape[0], length):
            terms = []
            for (r0, j0), n_g in counts.items():
                per_step = [float(snapshots[min(r0 + (j0 + t) // steps, newest)].log_prob(
                    obs[t:t + 1], act[t:t + 1])) for t in range(begin, min(begin + length,
                                                                           act.shape[0]))]
                terms.append(math.log(n_g / total) + math.fsum(per_step))
            top = max(terms)
            row.append(top + math.log(math.fsum(math.exp(x - top) for x in terms)))
        out.append(row)
    return out


@pytest.mark.parametrize("length", [1, 4, 9])
def test_piece_log_q_is_the_per_piece_mixture(length: int) -> None:
    buf, snapshots, buffered, demos = _crossing_setup()
    for batch in (buf.samples(), demos):
        got = buf.log_q(batch, length)
        n = math.ceil(batch.act.shape[1] / length)
        assert got.shape == (len(batch), n) and got.dtype == torch.float64
        exact = _brute_piece_log_q(buffered, snapshots, ROLLOUTS - 1, S, _unpad(batch), length)
        for i, row in enumerate(exact):
            torch.testing.assert_close(got[i, :len(row)], torch.tensor(row, dtype=torch.float64),
                                       rtol=0.0, atol=1e-10)
            # pieces of padding only have log q 0 (one is certain to be there)
            assert torch.all(got[i, len(row):] == 0.0)


def test_one_piece_per_episode_is_the_whole_episode_density() -> None:
    buf, _, _, demos = _crossing_setup()
    for batch in (buf.samples(), demos):
        whole = buf.log_q(batch)
        one = buf.log_q(batch, batch.act.shape[1])
        torch.testing.assert_close(one[:, 0], whole, rtol=0.0, atol=1e-10)


@pytest.mark.parametrize("cls", [irlgan.GANGCL, irlgan.GCL])
def test_pieces_as_long_as_the_episodes_train_as_whole_episodes(cls) -> None:
    """The drift task's episodes last at most 20 steps: pieces of 20 (or more) are the
    episodes, so every metric and weight matches the whole-episode run; pieces of 5 do not.

    The pieces are padded to their length, not to the longest episode of the batch, so float32
    sums over them can differ in the last bit; GCL's self-consistent log Z turns that into
    relative differences of about 1e-5 in its first iteration, hence the tolerances below, four
    orders of magnitude under the effect of cutting the episodes (pieces of 5)."""
    demos = drift_demos()
    horizon = max(len(a) for a in demos.actions)
    runs = {}
    for length in (0, horizon, horizon + 7, 5):
        config = irlgan.AdversarialConfig(**{**SMALL.__dict__, "segment_steps": length})
        algo = cls(make_drift, demos, config=config, seed=3, reward_net=Bowl())
        rows = []
        algo.learn(40, callback=lambda a, row, rows=rows: rows.append(row))
        # GCL's start term's constant has no gradient in exact arithmetic (log Z-hat absorbs
        # any constant), so Adam moves it by rounding alone: it is left out of the comparison
        runs[length] = (rows, [p.detach().clone() for name, p in
                               algo.discriminator.named_parameters()
                               if name != "start_term.net.2.bias"])
        algo.close()
    base_rows, base_weights = runs[0]
    keys = ("disc_loss", "log_z", "ess", "disc_acc_data", "disc_acc_gen", "reward_mean")
    for length in (horizon, horizon + 7):
        rows, weights = runs[length]
        for a, b in zip(rows, base_rows, strict=True):
            for key in keys:
                if key in a:
                    assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), (length, key)
        for w, w0 in zip(weights, base_weights, strict=True):
            torch.testing.assert_close(w, w0, rtol=1e-4, atol=1e-6)
    rows, weights = runs[5]
    assert any(abs(a["disc_loss"] - b["disc_loss"]) > 1.0 for a, b in zip(rows, base_rows,
                                                                            strict=True))
    assert max(float((w - w0).abs().max()) for w, w0 in zip(weights, base_weights,
                                                            strict=True)) > 1e-3
