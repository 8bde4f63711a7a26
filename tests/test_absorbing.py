"""AIRL with an absorbing state after termination (`AdversarialConfig.absorbing`)."""

from __future__ import annotations

import dataclasses
import io
import math

import gymnasium
import numpy as np
import pytest
import torch

import irlgan
from irlgan.algorithms import AbsorbingReward, absorbing_discriminator_loss


class Ledge(gymnasium.Env):
    """A point on a line that falls off (terminates) beyond |x| = 1."""

    def __init__(self) -> None:
        self.observation_space = gymnasium.spaces.Box(-2.0, 2.0, (1,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self._x = np.zeros(1, dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._x = self.np_random.uniform(-0.9, 0.9, 1).astype(np.float32)
        return self._x.copy(), {}

    def step(self, action):
        move = 0.3 * np.clip(np.asarray(action, dtype=np.float32), -1, 1)
        self._x = (self._x + move).astype(np.float32)
        fell = bool(abs(self._x[0]) > 1.0)
        return self._x.copy(), -float(self._x[0] ** 2), fell, False, {}


def make_ledge() -> gymnasium.Env:
    return gymnasium.wrappers.TimeLimit(Ledge(), max_episode_steps=12)


def ledge_demos(episodes: int = 8) -> irlgan.Demonstrations:
    """A controller that keeps to the middle, except that every fourth episode walks off."""
    rng = np.random.default_rng(0)
    env = make_ledge()
    obs_all, act_all, term_all = [], [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=i)
        os_, as_ = [obs], []
        while True:
            act = (np.ones(1) if i % 4 == 3 else np.clip(-2 * obs, -0.9, 0.9)
                   + 0.05 * rng.standard_normal(1)).astype(np.float32)
            act = np.clip(act, -0.99, 0.99)
            obs, _, term, trunc, _ = env.step(act)
            os_.append(obs)
            as_.append(act)
            if term or trunc:
                break
        obs_all.append(np.array(os_))
        act_all.append(np.array(as_, dtype=np.float32))
        term_all.append(bool(term))
    return irlgan.Demonstrations.from_arrays(obs_all, act_all, term_all)


CONFIG = irlgan.AdversarialConfig(num_envs=2, steps_per_env=24, disc_batch=32, disc_steps=1,
                                  hidden=(8,), policy_hidden=(8,), absorbing=True)


def test_the_loss_and_its_optimum_match_their_closed_form() -> None:
    gen = torch.Generator().manual_seed(0)
    logit_d = torch.randn(7, generator=gen, dtype=torch.float64)
    logit_g = torch.randn(5, generator=gen, dtype=torch.float64)
    share_d, share_g = 0.05, 0.3
    f_abs = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    loss = absorbing_discriminator_loss(logit_d, logit_g, f_abs, share_d, share_g)
    sig = torch.sigmoid
    f = f_abs.detach()
    by_hand = ((1 - share_d) * -torch.log(sig(logit_d)).mean() - share_d * math.log(sig(f))
               + (1 - share_g) * -torch.log(sig(-logit_g)).mean() - share_g * math.log(sig(-f)))
    assert float(loss) == pytest.approx(float(by_hand), rel=1e-12)
    (grad,) = torch.autograd.grad(loss, f_abs)
    assert float(grad) == pytest.approx(-share_d * float(sig(-f_abs)) + share_g * float(sig(f_abs)),
                                        rel=1e-12)
    # the optimum in f_abs is log(s_p / s_q): the gradient vanishes there and nowhere else near
    at = torch.tensor(math.log(share_d / share_g), dtype=torch.float64, requires_grad=True)
    (zero,) = torch.autograd.grad(absorbing_discriminator_loss(logit_d, logit_g, at, share_d,
                                                               share_g), at)
    assert abs(float(zero)) < 1e-15
    # with no absorbing samples on either side it is AIRL's own loss
    plain = absorbing_discriminator_loss(logit_d, logit_g, f_abs, 0.0, 0.0)
    assert float(plain) == pytest.approx(float(irlgan.losses.discriminator_loss(
        -logit_d, torch.zeros(7, dtype=torch.float64), -logit_g,
        torch.zeros(5, dtype=torch.float64), 0.0)), rel=1e-12)


def test_a_terminating_step_is_worth_staying_in_the_absorbing_state() -> None:
    demos = ledge_demos()
    algo = irlgan.AIRL(make_ledge, demos, config=CONFIG, seed=0)
    absorbing = algo.discriminator["absorbing"]
    assert isinstance(absorbing, AbsorbingReward) and absorbing.gamma == CONFIG.discount
    with torch.no_grad():
        absorbing.value.fill_(-0.4)
    obs, act, nxt, term = demos.transitions()
    assert 0 < int(term.sum()) < len(term)
    f = algo.discriminator["reward_net"](obs, act, nxt, term)
    with torch.no_grad():
        log_pi = algo.policy.log_prob(obs, act)
    expected = f + term.float() * (CONFIG.discount / (1 - CONFIG.discount) * -0.4) - log_pi
    got = algo.generator_reward(obs, act, nxt, term)
    torch.testing.assert_close(got, expected.to(got.dtype), rtol=1e-6, atol=1e-6)
    assert torch.equal(got[~term], (f - log_pi)[~term].to(got.dtype))
    # the transfer reward g carries the same continuation
    g = torch.as_tensor(algo.reward(obs, act, nxt, term, kind="g"))
    torch.testing.assert_close(
        g, algo.discriminator["reward_net"].reward(obs, act)
        + term.float() * (CONFIG.discount / (1 - CONFIG.discount) * -0.4))
    algo.close()


def test_every_update_sets_f_abs_to_the_smoothed_log_share_ratio_and_checkpoints_carry_it(
) -> None:
    demos = ledge_demos()
    _, _, _, term = demos.transitions()
    n_term = int(term.sum())
    a = irlgan.AIRL(make_ledge, demos, config=CONFIG, seed=1)
    # a constant set from counts, not a parameter the discriminator's Adam steps move
    assert all(p is not a.discriminator["absorbing"].value for p in a.discriminator.parameters())
    seen: list[tuple[float, float]] = []

    def record(algo, row) -> None:
        n_abs_d, n_d, n_abs_g, n_g = algo.absorbing_counts
        by_hand = (math.log((n_abs_d + 0.5) / (n_d + n_abs_d + 1))
                   - math.log((n_abs_g + 0.5) / (n_g + n_abs_g + 1)))
        seen.append((row["absorbing_reward"], by_hand, n_abs_g))

    a.learn(144, callback=record)
    share_d, share_g = a.absorbing_shares
    assert share_d == n_term / (len(term) + n_term)
    assert a.absorbing_counts[:2] == (float(n_term), float(len(term)))
    assert a.absorbing_counts[3] == CONFIG.num_envs * CONFIG.steps_per_env
    assert 0 < share_g < 1  # the initial policy walks off the ledge now and then
    for logged, by_hand, _ in seen:  # the row's value is the one the update used
        assert logged == pytest.approx(by_hand, rel=1e-6)
    # it follows the generator's own count of terminations from update to update
    assert len({n for _, _, n in seen}) > 1 and len({v for v, _, _ in seen}) > 1
    # a checkpoint carries it
    state = io.BytesIO()
    torch.save(a.state_dict(), state)
    b = irlgan.AIRL(make_ledge, demos, config=CONFIG, seed=1)
    assert float(b.discriminator["absorbing"].value) == 0.0
    state.seek(0)
    b.load_state_dict(torch.load(state, weights_only=True))
    assert torch.equal(b.discriminator["absorbing"].value, a.discriminator["absorbing"].value)
    a.close()
    b.close()


def test_the_log_share_ratio_is_the_loss_optimum_and_finite_without_terminations() -> None:
    # large counts: the smoothed estimate approaches log(s_p / s_q), where the loss is flat
    n_abs_d, n_d, n_abs_g, n_g = 30_000.0, 970_000.0, 5_000.0, 45_000.0
    value = AbsorbingReward.log_share_ratio(n_abs_d, n_d, n_abs_g, n_g)
    exact = math.log((n_abs_d / (n_d + n_abs_d)) / (n_abs_g / (n_g + n_abs_g)))
    assert value == pytest.approx(exact, abs=2e-4)
    f_abs = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    zeros = torch.zeros(3, dtype=torch.float64)
    loss = absorbing_discriminator_loss(zeros, zeros, f_abs, n_abs_d / (n_d + n_abs_d),
                                        n_abs_g / (n_g + n_abs_g))
    (grad,) = torch.autograd.grad(loss, f_abs)
    assert abs(float(grad)) < 1e-5
    # demonstrations that never terminate: finite, and the more the generator falls the lower
    falls = [AbsorbingReward.log_share_ratio(0, 50_000, n, 2_048) for n in (0, 10, 100, 1000)]
    assert all(math.isfinite(v) for v in falls)
    assert falls == sorted(falls, reverse=True) and falls[-1] < -10
    assert falls[1] == pytest.approx(math.log(0.5 / 50_001) - math.log(10.5 / 2_059), rel=1e-12)
    with pytest.raises(ValueError, match="counts must be finite and >= 0"):
        AbsorbingReward.log_share_ratio(-1, 10, 0, 10)
    absorbing = AbsorbingReward(0.99)
    assert absorbing.set_from_counts(0, 50_000, 10, 2_048) == falls[1]
    assert float(absorbing.value) == pytest.approx(falls[1], rel=1e-6)


def test_only_airl_takes_it_and_only_with_a_discount_below_one() -> None:
    demos = ledge_demos()
    for cls in (irlgan.GANGCL, irlgan.GCL, irlgan.GAIL):
        with pytest.raises(ValueError, match=f"absorbing=True is implemented for AIRL only, not "
                                             f"{cls.__name__}"):
            cls(make_ledge, demos, config=CONFIG, seed=0)
    undiscounted = dataclasses.replace(CONFIG, ppo=dataclasses.replace(CONFIG.ppo, gamma=1.0))
    with pytest.raises(ValueError, match="absorbing=True needs a discount below 1"):
        irlgan.AIRL(make_ledge, demos, config=undiscounted, seed=0)
    plain = irlgan.AIRL(make_ledge, demos, config=dataclasses.replace(CONFIG, absorbing=False),
                        seed=0)
    assert "absorbing" not in plain.discriminator
    assert math.isnan(plain.step()["absorbing_reward"])
    plain.close()
