r"""`EpisodeBuffer`: stitching rollouts into episodes and the exact density of its samples.

Rollouts are built by hand from per-environment episode lengths, so every episode's schedule
$(r_0, j_0)$ and completing rollout are known here independently of the buffer; the policies
are float64 `GaussianPolicy`s with different parameters, and the brute-force density evaluates
$\log\pi$ one step at a time and sums with `math.fsum`.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from irlgan.algorithms._adversarial import TrajectoryBatch
from irlgan.algorithms._episodes import EpisodeBuffer
from irlgan.models import GaussianPolicy

D_OBS, D_ACT = 2, 1


def _policy(k: int) -> GaussianPolicy:
    """Snapshot k: a float64 policy whose mean and spread differ clearly from its neighbours'."""
    policy = GaussianPolicy(D_OBS, D_ACT, hidden=(8,), log_std_init=-1.0 + 0.5 * (k % 3),
                            generator=torch.Generator().manual_seed(100 + k)).double()
    with torch.no_grad():
        policy.mean_net[-1].weight.mul_(50.0)
        policy.mean_net[-1].bias.fill_(1.5 * (k % 4) - 2.0)
    for p in policy.parameters():
        p.requires_grad_(False)
    return policy


def _blank_policy() -> GaussianPolicy:
    return GaussianPolicy(D_OBS, D_ACT, hidden=(8,)).double()


@dataclass(frozen=True)
class _Ep:
    """An episode as the test built it: obs [L+1, d_obs], act [L, d_act]."""

    obs: Tensor
    act: Tensor
    terminated: bool
    start: tuple[int, int]  # (r0, j0)
    completes: int  # the rollout in which it ends


def _streams(lengths: list[list[int]], steps: int, rollouts: int, first: int = 0,
             seed: int = 0) -> tuple[list[tuple[Tensor, ...]], list[_Ep]]:
    """Rollouts `first`..`first + rollouts - 1` of E environments whose episodes have the given
    lengths (each environment starts a fresh episode at step 0 of rollout `first`); rollout r's
    actions are drawn from `_policy(r)`.

    Returns:
        The rollouts as (obs, act, next_obs, terminated, truncated) with shapes [S, E, ...], and
        the episodes they complete, ordered by completing rollout, environment, time.
    """
    gen = torch.Generator().manual_seed(seed)
    n, envs = rollouts * steps, len(lengths)
    obs = torch.randn(n, envs, D_OBS, generator=gen, dtype=torch.float64)
    act = torch.cat([_policy(first + r).sample(obs[r * steps:(r + 1) * steps].reshape(-1, D_OBS),
                                               gen)[0].reshape(steps, envs, D_ACT)
                     for r in range(rollouts)])
    next_obs = torch.cat([obs[1:], torch.randn(1, envs, D_OBS, generator=gen,
                                               dtype=torch.float64)])
    terminated = torch.zeros(n, envs, dtype=torch.bool)
    truncated = torch.zeros(n, envs, dtype=torch.bool)
    episodes: list[_Ep] = []
    for e, lens in enumerate(lengths):
        begin = 0
        for i, length in enumerate(lens):
            end = begin + length - 1
            if end >= n:
                break
            # the state the episode ends in is not the next episode's reset state
            next_obs[end, e] = torch.randn(D_OBS, generator=gen, dtype=torch.float64)
            (terminated if i % 2 == 0 else truncated)[end, e] = True
            episodes.append(_Ep(torch.cat([obs[begin:end + 1, e], next_obs[end, e][None]]),
                                act[begin:end + 1, e].clone(), i % 2 == 0,
                                divmod(first * steps + begin, steps), first + end // steps))
            begin = end + 1
    episodes.sort(key=lambda ep: ep.completes)  # stable: environment, then time, within one
    cut = [tuple(x[r * steps:(r + 1) * steps] for x in (obs, act, next_obs, terminated,
                                                        truncated)) for r in range(rollouts)]
    return cut, episodes


def _batch(trajectories: list[tuple[Tensor, Tensor]]) -> TrajectoryBatch:
    """Pads (obs [L+1, d], act [L, k]) pairs into a batch."""
    horizon = max(a.shape[0] for _, a in trajectories)
    n = len(trajectories)
    obs = torch.zeros(n, horizon + 1, D_OBS, dtype=torch.float64)
    act = torch.zeros(n, horizon, D_ACT, dtype=torch.float64)
    mask = torch.zeros(n, horizon)
    for i, (o, a) in enumerate(trajectories):
        obs[i, :len(o)], obs[i, len(o):] = o, o[-1]
        act[i, :len(a)] = a
        mask[i, :len(a)] = 1.0
    return TrajectoryBatch(obs, act, mask, torch.zeros(n, dtype=torch.bool))


def _unpad(batch: TrajectoryBatch) -> list[tuple[Tensor, Tensor]]:
    lengths = batch.lengths.tolist()
    return [(batch.obs[i, :k + 1], batch.act[i, :k]) for i, k in enumerate(lengths)]


def _brute_log_q(buffered: list[_Ep], snapshots: dict[int, GaussianPolicy], newest: int,
                 steps: int, trajectories: list[tuple[Tensor, Tensor]]) -> Tensor:
    """log q by the definition: a loop over schedules and steps, one log_prob call per step."""
    counts = Counter(ep.start for ep in buffered)
    total = sum(counts.values())
    out = []
    for obs, act in trajectories:
        terms = []
        for (r0, j0), n_g in counts.items():
            per_step = [float(snapshots[min(r0 + (j0 + t) // steps, newest)].log_prob(
                obs[t:t + 1], act[t:t + 1])) for t in range(act.shape[0])]
            terms.append(math.log(n_g / total) + math.fsum(per_step))
        top = max(terms)
        out.append(top + math.log(math.fsum(math.exp(x - top) for x in terms)))
    return torch.tensor(out, dtype=torch.float64)


def _assert_samples(batch: TrajectoryBatch, expected: list[_Ep]) -> None:
    assert len(batch) == len(expected)
    for (obs, act), ep, term in zip(_unpad(batch), expected, batch.terminated.tolist(),
                                    strict=True):
        assert torch.equal(obs, ep.obs) and torch.equal(act, ep.act) and term == ep.terminated


# Episodes crossing rollout boundaries: S = 5, three environments, unequal counts per rollout
# and per schedule (env 2 runs in step with the rollouts, envs 0 and 1 do not).
CROSSING = [[3, 4, 7, 2, 6, 8, 4], [12, 5, 3, 9, 4], [5, 5, 5, 5, 5, 5, 5]]
S, K, ROLLOUTS = 5, 3, 7


def _crossing_setup() -> tuple[EpisodeBuffer, dict[int, GaussianPolicy], list[_Ep],
                               TrajectoryBatch]:
    rollouts, episodes = _streams(CROSSING, S, ROLLOUTS)
    snapshots = {r: _policy(r) for r in range(ROLLOUTS)}
    buf = EpisodeBuffer(len(CROSSING), S, K)
    for r, rollout in enumerate(rollouts):
        done = buf.add_rollout(snapshots[r], *rollout)
        assert done == sum(ep.completes == r for ep in episodes)
    buffered = [ep for ep in episodes if ep.completes >= ROLLOUTS - K]
    # demonstrations longer than any buffered schedule reaches: the clamp to the newest snapshot
    gen = torch.Generator().manual_seed(7)
    demos = [(torch.randn(k + 1, D_OBS, generator=gen, dtype=torch.float64),
              torch.randn(k, D_ACT, generator=gen, dtype=torch.float64)) for k in (1, 9, 23)]
    return buf, snapshots, buffered, _batch(demos)


def test_log_q_matches_brute_force_when_episodes_cross_rollouts() -> None:
    buf, snapshots, buffered, demos = _crossing_setup()
    expected_counts = Counter(ep.start for ep in buffered)
    assert buf.schedules() == dict(sorted(expected_counts.items()))
    # the case the old mixture gets wrong: several schedules, unequal counts, crossing episodes
    assert len(expected_counts) >= 5 and len(set(expected_counts.values())) > 1
    assert any(ep.start[0] < ep.completes for ep in buffered)
    samples = buf.samples()
    _assert_samples(samples, buffered)
    for batch in (samples, demos):
        exact = _brute_log_q(buffered, snapshots, ROLLOUTS - 1, S, _unpad(batch))
        got = buf.log_q(batch)
        assert got.dtype == torch.float64 and got.shape == (len(batch),)
        torch.testing.assert_close(got, exact, rtol=0.0, atol=1e-10)


def _old_log_q(snapshots: list[GaussianPolicy], batch: TrajectoryBatch) -> Tensor:
    """The density the trainer used before `EpisodeBuffer`: the uniform mixture of whole-episode
    densities of the snapshots that completed episodes, whoever took the steps."""
    steps = batch.act.shape[1]
    obs, act = batch.obs[:, :steps].reshape(-1, D_OBS), batch.act.reshape(-1, D_ACT)
    with torch.no_grad():
        per = torch.stack([(s.log_prob(obs, act).reshape(len(batch), steps) * batch.mask).sum(1)
                           for s in snapshots])
    return torch.logsumexp(per, dim=0) - math.log(len(snapshots))


def test_the_old_uniform_whole_episode_mixture_is_wrong_on_the_same_rollouts() -> None:
    """Same episodes, but the old log q misses the exact one by nats."""
    buf, snapshots, buffered, demos = _crossing_setup()
    _, episodes = _streams(CROSSING, S, ROLLOUTS)
    completing = sorted({ep.completes for ep in episodes if ep.completes is not None})[-K:]
    old = [snapshots[r] for r in completing]
    samples = buf.samples()
    for batch, margin in ((samples, 10.0), (demos, 40.0)):  # measured: 21.6, 89.3
        exact = _brute_log_q(buffered, snapshots, ROLLOUTS - 1, S, _unpad(batch))
        old_error = (_old_log_q(old, batch) - exact).abs()
        assert float(old_error.max()) > margin
        torch.testing.assert_close(buf.log_q(batch), exact, rtol=0.0, atol=1e-10)


@pytest.mark.parametrize("horizon", [4, 8])
def test_equals_the_old_mixture_when_every_episode_spans_one_rollout(horizon: int) -> None:
    """S a multiple of a fixed horizon: equal counts, whole episodes per rollout."""
    steps, envs, capacity, rollouts_n = 8, 2, 3, 5
    rollouts, episodes = _streams([[horizon] * 20] * envs, steps, rollouts_n, seed=3)
    buf = EpisodeBuffer(envs, steps, capacity)
    for r, rollout in enumerate(rollouts):
        buf.add_rollout(_policy(r), *rollout)
    per = steps // horizon * envs
    assert buf.schedules() == {(r, j): envs for r in range(2, 5) for j in range(0, steps, horizon)}
    assert len(buf) == capacity * per
    samples = buf.samples()
    expected = _batch([(ep.obs, ep.act) for r in range(2, 5) for ep in episodes
                       if ep.completes == r])
    assert torch.equal(samples.obs, expected.obs)
    demos = _batch([(torch.randn(horizon + 1, D_OBS, dtype=torch.float64),
                     torch.randn(horizon, D_ACT, dtype=torch.float64)) for _ in range(3)])
    old = [_policy(r) for r in range(2, 5)]
    for batch in (samples, demos):
        torch.testing.assert_close(buf.log_q(batch), _old_log_q(old, batch), rtol=0.0,
                                   atol=1e-12)


def test_capacity_keeps_the_last_rollouts_and_only_needed_snapshots() -> None:
    # one environment, S = 4, K = 2; episodes (start, completing rollout):
    # A (0,0)->0, B (0,2)->2, C (2,3)->2, D (3,0)->3, E (4,0)->5, F (5,2)->7
    rollouts, episodes = _streams([[2, 9, 1, 4, 6, 10]], 4, 8)
    assert [(ep.start, ep.completes) for ep in episodes] == [
        ((0, 0), 0), ((0, 2), 2), ((2, 3), 2), ((3, 0), 3), ((4, 0), 5), ((5, 2), 7)]
    expected = [  # (completed, len, schedules, stored snapshots) after each rollout
        (1, 1, {(0, 0): 1}, [0]),
        (0, 1, {(0, 0): 1}, [0, 1]),
        (2, 2, {(0, 2): 1, (2, 3): 1}, [0, 1, 2]),
        (1, 3, {(0, 2): 1, (2, 3): 1, (3, 0): 1}, [0, 1, 2, 3]),
        (0, 1, {(3, 0): 1}, [3, 4]),
        (1, 1, {(4, 0): 1}, [4, 5]),
        (0, 1, {(4, 0): 1}, [4, 5, 6]),  # E still needed; F (started in 5) pending
        (1, 1, {(5, 2): 1}, [5, 6, 7]),  # E completed 3 rollouts ago: gone though 1 non-empty
    ]
    buf = EpisodeBuffer(1, 4, 2)
    snapshots = {r: _policy(r) for r in range(8)}
    for r, (rollout, (done, n, sched, ids)) in enumerate(zip(rollouts, expected, strict=True)):
        assert buf.add_rollout(snapshots[r], *rollout) == done
        assert (len(buf), buf.schedules(), buf.snapshot_ids) == (n, sched, ids)
    _assert_samples(buf.samples(), episodes[-1:])
    demo = _batch([(torch.randn(30, D_OBS, dtype=torch.float64),
                    torch.randn(29, D_ACT, dtype=torch.float64))])
    for batch in (buf.samples(), demo):
        torch.testing.assert_close(
            buf.log_q(batch), _brute_log_q(episodes[-1:], snapshots, 7, 4, _unpad(batch)),
            rtol=0.0, atol=1e-10)


def test_unfinished_episodes_keep_their_snapshots() -> None:
    # S = 2, K = 1: env 0 runs one 7-step episode from (0, 0), then never ends again (pending
    # from (3, 1)); env 1 ends an episode every step
    rollouts, episodes = _streams([[7], [1] * 12], 2, 6)
    snapshots = {r: _policy(r) for r in range(6)}
    buf = EpisodeBuffer(2, 2, 1)
    ids = [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [3, 4], [3, 4, 5]]
    for r in range(6):
        assert buf.add_rollout(snapshots[r], *rollouts[r]) == 2 + (r == 3)
        assert buf.snapshot_ids == ids[r]
        buffered = [ep for ep in episodes if ep.completes == r]
        assert buf.schedules() == dict(sorted(Counter(ep.start for ep in buffered).items()))
        samples = buf.samples()
        torch.testing.assert_close(
            buf.log_q(samples), _brute_log_q(buffered, snapshots, r, 2, _unpad(samples)),
            rtol=0.0, atol=1e-10)
    assert buf.schedules() == {(5, 0): 1, (5, 1): 1}


def test_state_dict_round_trip_mid_episode() -> None:
    rollouts, _ = _streams(CROSSING, S, ROLLOUTS)
    snapshots = {r: _policy(r) for r in range(ROLLOUTS)}
    buf = EpisodeBuffer(len(CROSSING), S, K)
    for r in range(3):
        buf.add_rollout(snapshots[r], *rollouts[r])
    state = buf.state_dict()
    # environments 0 and 1 are mid-episode, environment 2 at an episode boundary
    assert [x is not None for x in state["pending_obs"]] == [True, True, False]
    blob = io.BytesIO()
    torch.save(state, blob)
    blob.seek(0)
    restored = EpisodeBuffer(len(CROSSING), S, K)
    restored.load_state_dict(torch.load(blob, weights_only=True), _blank_policy)
    assert restored.snapshot_ids == buf.snapshot_ids and restored.schedules() == buf.schedules()
    demos = _crossing_setup()[3]
    for r in range(3, ROLLOUTS):
        assert restored.add_rollout(snapshots[r], *rollouts[r]) == buf.add_rollout(
            snapshots[r], *rollouts[r])
        a, b = buf.samples(), restored.samples()
        for field in ("obs", "act", "mask", "terminated"):
            assert torch.equal(getattr(a, field), getattr(b, field))
        for batch in (a, demos):
            assert torch.equal(buf.log_q(batch), restored.log_q(batch))
    with pytest.raises(ValueError, match="steps_per_env"):
        EpisodeBuffer(len(CROSSING), S + 1, K).load_state_dict(state, _blank_policy)


def test_discard_unfinished_restarts_episodes_at_the_next_rollout() -> None:
    before, _ = _streams(CROSSING, S, 2)
    lengths = [[6, 3, 4], [2, 8], [7, 7]]
    after, episodes = _streams(lengths, S, 2, first=2, seed=5)
    snapshots = {r: _policy(r) for r in range(4)}
    buf = EpisodeBuffer(len(CROSSING), S, 2)
    for r in range(2):
        buf.add_rollout(snapshots[r], *before[r])
    buf.discard_unfinished()
    assert buf.snapshot_ids == [0, 1]  # episodes completed in rollouts 0 and 1 still need them
    for r in range(2, 4):
        buf.add_rollout(snapshots[r], *after[r - 2])
    # only the post-discard episodes, each exactly as the restarted environments produced it
    assert [ep.start for ep in episodes] == [(2, 0), (2, 0), (3, 1), (2, 2), (2, 0)]
    assert buf.schedules() == {(2, 0): 3, (2, 2): 1, (3, 1): 1}
    assert buf.snapshot_ids == [2, 3]
    _assert_samples(buf.samples(), [ep for ep in episodes if ep.completes >= 2])
    samples = buf.samples()
    torch.testing.assert_close(
        buf.log_q(samples), _brute_log_q(episodes, snapshots, 3, S, _unpad(samples)),
        rtol=0.0, atol=1e-10)


def test_bad_input_names_the_argument() -> None:
    buf = EpisodeBuffer(3, 5, 2)
    rollout, _ = _streams(CROSSING, 5, 1)
    obs, act, next_obs, term, trunc = rollout[0]
    with pytest.raises(ValueError, match="the episode buffer is empty"):
        buf.samples()
    with pytest.raises(ValueError, match="the episode buffer is empty"):
        buf.log_q(_batch([(obs[:2, 0], act[:1, 0])]))
    with pytest.raises(ValueError, match=r"obs has 2 environments, num_envs is 3"):
        buf.add_rollout(_policy(0), obs[:, :2], act[:, :2], next_obs[:, :2], term[:, :2],
                        trunc[:, :2])
    with pytest.raises(ValueError, match=r"obs has 4 steps per environment, steps_per_env is 5"):
        buf.add_rollout(_policy(0), obs[:4], act[:4], next_obs[:4], term[:4], trunc[:4])
    with pytest.raises(ValueError, match=r"terminated has 2 environments, num_envs is 3"):
        buf.add_rollout(_policy(0), obs, act, next_obs, term[:, :2], trunc)
    with pytest.raises(ValueError, match=r"act must have 3 dimensions"):
        buf.add_rollout(_policy(0), obs, act[..., 0], next_obs, term, trunc)
    with pytest.raises(ValueError, match="next_obs must have obs's shape"):
        buf.add_rollout(_policy(0), obs, act, next_obs[..., :1], term, trunc)
    with pytest.raises(TypeError, match="log_prob"):
        buf.add_rollout(object(), obs, act, next_obs, term, trunc)
    assert buf.rollouts == 0 and len(buf) == 0  # nothing was added by the failed calls
    for name, args in (("num_envs", (0, 5, 2)), ("steps_per_env", (3, 0, 2)),
                       ("capacity", (3, 5, True))):
        with pytest.raises(ValueError, match=name):
            EpisodeBuffer(*args)
