"""The public API: demonstrations, algorithm objects, save/load/predict/reward, the learned-reward
wrapper, protocol checks, contradictory settings and independent random streams."""

from __future__ import annotations

import dataclasses
import io

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from torch import nn

import irlgan
from irlgan.algorithms import ALGORITHMS, seed_streams
from irlgan.seeding import STREAMS

GOAL = np.array([0.5, -0.5], dtype=np.float32)


class Drift(gymnasium.Env):
    """A user's environment: a point moved by velocity commands, position kept privately."""

    def __init__(self) -> None:
        self.observation_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._x = np.zeros(2, dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._x = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return self._x.copy(), {}

    def step(self, action):
        action = np.clip(np.asarray(action, dtype=np.float32), -1, 1)
        reward = -float(np.sum((self._x - GOAL) ** 2))
        self._x = np.clip(self._x + 0.1 * action, -1, 1).astype(np.float32)
        return self._x.copy(), reward, False, False, {}


def make_drift() -> gymnasium.Env:
    return gymnasium.wrappers.TimeLimit(Drift(), max_episode_steps=15)


def drift_demos(episodes: int = 6, seed: int = 0) -> irlgan.Demonstrations:
    rng = np.random.default_rng(seed)
    env = make_drift()
    obs_all, act_all, term_all = [], [], []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        os_, as_ = [obs], []
        while True:
            act = np.clip(2 * (GOAL - obs) + 0.1 * rng.standard_normal(2), -1, 1)
            obs, _, term, trunc, _ = env.step(act)
            os_.append(obs)
            as_.append(act)
            if term or trunc:
                break
        obs_all.append(np.array(os_))
        act_all.append(np.array(as_, dtype=np.float32))
        term_all.append(bool(term))
    return irlgan.Demonstrations.from_arrays(obs_all, act_all, term_all)


class Bowl(nn.Module):
    """A user's cost module: a learned quadratic bowl."""

    def __init__(self) -> None:
        super().__init__()
        self.center = nn.Parameter(torch.zeros(2))

    def forward(self, obs, act):
        return ((obs - self.center) ** 2).sum(-1) + 0.1 * (act ** 2).sum(-1)


SMALL = irlgan.AdversarialConfig(num_envs=2, steps_per_env=20, disc_batch=64,
                                 state_only=True, policy_hidden=(16,), hidden=(16,))

# ----------------------------------------------------------------------------------------------
# Demonstrations
# ----------------------------------------------------------------------------------------------


def test_demonstrations_round_trip_keeps_the_lists(tmp_path):
    demos = drift_demos()
    assert len(demos) == 6 and demos.obs_dim == 2 and demos.act_dim == 2
    assert all(o.shape[0] == a.shape[0] + 1 for o, a in zip(demos.observations, demos.actions,
                                                               strict=True))
    demos.save(tmp_path / "d")
    back = irlgan.Demonstrations.load(tmp_path / "d")
    for a, b in zip(demos.observations + demos.actions, back.observations + back.actions,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.terminated == demos.terminated == [False] * 6


def test_per_step_terminated_comes_back_per_step(tmp_path):
    obs = [np.zeros((4, 3)), np.ones((3, 3))]
    act = [np.zeros((3, 1)), np.zeros((2, 1))]
    term = [np.array([False, False, True]), np.array([False, False])]
    demos = irlgan.Demonstrations.from_arrays(obs, act, term)
    assert [bool(t[-1]) for t in demos.terminated] == [True, False]
    back = irlgan.Demonstrations.load(demos.save(tmp_path / "d"))
    for a, b in zip(demos.terminated, back.terminated, strict=True):
        np.testing.assert_array_equal(a, b)
    *_, term_steps = demos.transitions()
    assert term_steps.tolist() == [False, False, True, False, False]


@pytest.mark.parametrize("change, message", [
    (lambda o, a, t: (o, a[:1], t), "1 action arrays"),
    (lambda o, a, t: ([o[0][:-1]] + o[1:], a, t), "one more row"),
    (lambda o, a, t: (o, [np.full_like(a[0], np.nan)] + a[1:], t), "NaN"),
    (lambda o, a, t: (o, a, [np.array([True, False, False])] + t[1:]), "before the last"),
    (lambda o, a, t: (np.stack(o), a, t), "lists of per-episode arrays"),
    (lambda o, a, t: ([np.zeros((4, 5))] + o[1:], a, t), "widths"),
])
def test_bad_demonstrations_are_named(change, message):
    obs = [np.zeros((4, 3)), np.ones((4, 3))]
    act = [np.zeros((3, 1)), np.zeros((3, 1))]
    term = [np.array([False, False, True]), np.array([False, False, False])]
    with pytest.raises(ValueError, match=message):
        irlgan.Demonstrations.from_arrays(*change(obs, act, term))


def test_legacy_demonstration_folders_still_load(tmp_path):
    from irlgan.control._point_mass_expert import point_mass_expert_demos
    from irlgan.data import load_continuous_demonstrations

    point_mass_expert_demos(tmp_path, episodes=3, seed=0)
    old = load_continuous_demonstrations(tmp_path)
    demos = irlgan.Demonstrations.load(tmp_path)
    assert demos.env_id == "irlgan/PointMass-v0" and len(demos) == 3
    np.testing.assert_array_equal(demos.observations[1], old.obs[1, :old.lengths[1] + 1].numpy())
    assert demos.terminated == [False, False, False]  # 50 steps = the time limit: truncated


# ----------------------------------------------------------------------------------------------
# Algorithm objects
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_every_algorithm_learns_saves_loads_predicts_and_rewards(name, tmp_path):
    cls = ALGORITHMS[name]
    demos = drift_demos()
    custom = {"reward_net": Bowl()} if cls.discriminates == "episodes" else {}
    algo = cls(make_drift, demos, config=SMALL, seed=3, **custom)
    rows = []
    assert algo.learn(80, callback=lambda a, row: rows.append(row)) is algo
    assert [r["iteration"] for r in rows] == [1, 2] and algo.env_steps == 80
    algo.learn(40)
    assert algo.env_steps == 120
    algo.save(tmp_path / "m.pt")
    if custom:
        with pytest.raises(ValueError, match="user-supplied reward_net"):
            irlgan.load(tmp_path / "m.pt")
    model = irlgan.load(tmp_path / "m.pt", **({"reward_net": Bowl()} if custom else {}))
    obs, act = demos.observations[0], demos.actions[0]
    assert model.predict(obs[0]).shape == (2,)
    np.testing.assert_array_equal(model.predict(obs[:5]), algo.predict(obs[:5]))
    term = np.zeros(len(act), dtype=bool)
    for kind in model.reward_kinds:
        r_model = model.reward(obs[:-1], act, obs[1:], term, kind=kind)
        assert r_model.shape == (len(act),) and np.isfinite(r_model).all()
        np.testing.assert_array_equal(r_model, algo.reward(obs[:-1], act, obs[1:], term, kind))
    assert np.ndim(model.reward(obs[0], act[0], obs[1], False)) == 0
    with pytest.raises(ValueError, match="reward kinds"):
        model.reward(obs[0], act[0], obs[1], False, kind="nope")
    algo.close()


@pytest.mark.filterwarnings("ignore:.*different from the unwrapped")
def test_learned_reward_wrapper_passes_gymnasiums_checker():
    algo = irlgan.AIRL(make_drift, drift_demos(), config=SMALL, seed=0).learn(40)
    for kind in algo.reward_kinds:
        env = irlgan.wrappers.LearnedReward(make_drift(), algo, kind=kind)
        check_env(env, skip_render_check=True)
        env.reset(seed=0)
        obs, reward, _, _, info = env.step(np.zeros(2, dtype=np.float32))
        assert "env_reward" in info and isinstance(reward, float)
    with pytest.raises(ValueError, match="kind must be one of"):
        irlgan.wrappers.LearnedReward(make_drift(), algo, kind="cost")
    algo.close()


def test_generator_reward_is_the_first_reward_kind_times_the_scale_and_airls_holds_its_entropy():
    config = dataclasses.replace(SMALL, reward_scale=2.5)
    algo = irlgan.AIRL(make_drift, drift_demos(), config=config, seed=0)
    obs, act, nxt, term = algo.demo_transitions
    f = algo.reward(obs.numpy(), act.numpy(), nxt.numpy(), term.numpy(), "f")
    with torch.no_grad():
        log_pi = algo.policy.log_prob(obs, act).numpy()
    # AIRL's generator reward is its logit f - alpha log pi (entropy in the reward), scaled
    expected = 2.5 * (f - config.entropy_weight * log_pi)
    np.testing.assert_allclose(algo.generator_reward(obs, act, nxt, term).numpy(), expected,
                               rtol=1e-5, atol=1e-5)
    assert algo.generator_entropy_weight == 0.0
    gail = irlgan.GAIL(make_drift, drift_demos(), config=config, seed=0)
    expected = 2.5 * gail.reward(obs.numpy(), act.numpy(), nxt.numpy(), term.numpy())
    np.testing.assert_allclose(gail.generator_reward(obs, act, nxt, term).numpy(), expected,
                               rtol=1e-6)
    assert gail.generator_entropy_weight == 2.5 * config.entropy_weight
    gail.close()
    algo.close()


# ----------------------------------------------------------------------------------------------
# What users pass, checked when the algorithm is built
# ----------------------------------------------------------------------------------------------


class NoLogProb(nn.Module):
    obs_dim, act_dim = 2, 2

    def sample(self, obs, generator=None):
        return torch.zeros(obs.shape[0], 2), torch.zeros(obs.shape[0])

    def mode(self, obs):
        return torch.zeros(obs.shape[0], 2)


def test_protocols_name_what_is_missing():
    demos = drift_demos(2)
    with pytest.raises(ValueError, match="Policy protocol: missing log_prob"):
        irlgan.AIRL(make_drift, demos, policy=NoLogProb(), config=SMALL)
    with pytest.raises(ValueError, match="nn.Module base class"):
        irlgan.GANGCL(make_drift, demos, reward_net=lambda o, a: o.sum(-1), config=SMALL)
    with pytest.raises(ValueError, match="Generator protocol: missing learn_from"):
        irlgan.AIRL(make_drift, demos, generator=object(), config=SMALL)


def test_contradictory_settings_are_refused():
    from irlgan.models import ShapedReward
    from irlgan.rl import PPOConfig

    with pytest.raises(ValueError, match="entropy weight is set twice"):
        irlgan.AdversarialConfig(entropy_weight=0.1, ppo=PPOConfig(entropy_weight=0.5))
    with pytest.raises(ValueError, match="AIRL's shaping needs the generator's discount"):
        irlgan.AIRL(make_drift, drift_demos(2), config=SMALL,
                    reward_net=ShapedReward(2, 2, gamma=0.5))
    with pytest.raises(ValueError, match="irlgan runs on cpu or cuda, not mps"):
        irlgan.AIRL(make_drift, drift_demos(2), config=SMALL, device="mps")


def test_demonstrations_outside_the_action_box_are_refused():
    demos = drift_demos(2)
    bad = irlgan.Demonstrations.from_arrays(
        demos.observations, [demos.actions[0] * 50] + demos.actions[1:], demos.terminated)
    with pytest.raises(ValueError, match="outside the environment.s action space"):
        irlgan.AIRL(make_drift, bad, config=SMALL)
    with pytest.raises(ValueError, match="have width 2, the environment.s observation space"):
        irlgan.AIRL("Pendulum-v1", demos, config=SMALL)


# ----------------------------------------------------------------------------------------------
# Random streams and resumption
# ----------------------------------------------------------------------------------------------


def test_streams_are_distinct_within_and_across_seeds():
    seen = {}
    for seed in range(50):
        streams = seed_streams(seed)
        assert list(streams) == list(STREAMS)
        for name, value in streams.items():
            assert value not in seen, f"seed {seed} {name} repeats {seen.get(value)}"
            seen[value] = (seed, name)
    assert seed_streams(7) == seed_streams(7)


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_state_dict_round_trip_continues_bit_identically(name):
    cls = ALGORITHMS[name]
    env = "irlgan/PointMass-v0"
    pm = _point_mass_demos()
    a = cls(env, pm, config=SMALL, seed=1)
    a.learn(80)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    a.learn(80)
    b = cls(env, pm, config=SMALL, seed=1)
    buffer.seek(0)
    b.load_state_dict(torch.load(buffer, weights_only=True))
    assert b.resume_mode == "exact"
    b.learn(80)
    for (k, x), (_, y) in zip(a.state_dict()["policy"].items(),
                              b.state_dict()["policy"].items(), strict=True):
        assert torch.equal(x, y), k
    for (k, x), (_, y) in zip(a.discriminator.state_dict().items(),
                              b.discriminator.state_dict().items(), strict=True):
        assert torch.equal(x, y), k
    a.close()
    b.close()


def _point_mass_demos() -> irlgan.Demonstrations:
    import tempfile

    from irlgan.control._point_mass_expert import point_mass_expert_demonstrations

    with tempfile.TemporaryDirectory() as folder:
        point_mass_expert_demonstrations(episodes=4, seed=5).save(folder)
        return irlgan.Demonstrations.load(folder)


def test_a_loaded_state_from_another_algorithm_or_seed_is_refused():
    pm = _point_mass_demos()
    a = irlgan.AIRL("irlgan/PointMass-v0", pm, config=SMALL, seed=1)
    state = a.state_dict()
    with pytest.raises(ValueError, match="written by a 'airl' run"):
        irlgan.GAIL("irlgan/PointMass-v0", pm, config=SMALL, seed=1).load_state_dict(state)
    with pytest.raises(ValueError, match="seed 1"):
        irlgan.AIRL("irlgan/PointMass-v0", pm, config=SMALL, seed=2).load_state_dict(state)


@pytest.mark.parametrize("name", ["airl", "gan-gcl"])
def test_the_sac_generator_trains_through_the_same_loop_and_resumes_exactly(name):
    """generator="sac": soft actor-critic relabels its replay buffer with the current reward."""
    from irlgan.rl import SACConfig, SoftActorCritic

    config = dataclasses.replace(SMALL, generator="sac",
                                 sac=SACConfig(batch_size=32, learning_starts=20,
                                               updates_per_step=0.1, q_hidden=(16,)))
    pm = _point_mass_demos()
    cls = ALGORITHMS[name]
    a = cls("irlgan/PointMass-v0", pm, config=config, seed=2)
    assert isinstance(a.generator, SoftActorCritic) and a.config.discount == 0.99
    a.learn(80)
    state = io.BytesIO()
    torch.save(a.state_dict(), state)
    rows = []
    a.learn(80, callback=lambda algo, row: rows.append(row))
    assert np.isfinite(rows[-1]["disc_loss"])
    b = cls("irlgan/PointMass-v0", pm, config=config, seed=2)
    state.seek(0)
    b.load_state_dict(torch.load(state, weights_only=True))
    b.learn(80)
    for (k, x), (_, y) in zip(a.policy.state_dict().items(), b.policy.state_dict().items(),
                              strict=True):
        assert torch.equal(x, y), k
    a.close()
    b.close()


def test_demonstrated_actions_on_the_bounds_are_moved_inside() -> None:
    import warnings

    full = drift_demos()  # a clipped controller: about a third of its actions are on the bounds
    keep = [15, 9, 15, 4, 12, 15]  # episodes of unequal length: the share is per step, not padded
    demos = irlgan.Demonstrations.from_arrays(
        [o[:k + 1] for o, k in zip(full.observations, keep, strict=True)],
        [a[:k] for a, k in zip(full.actions, keep, strict=True)],
        terminated=[False] * len(keep), env_id=full.env_id)
    inside = irlgan.Demonstrations.from_arrays(
        demos.observations, [0.5 * a for a in demos.actions],
        terminated=demos.episode_terminated, env_id=demos.env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every action inside the bounds: no warning, no change
        algo = irlgan.AIRL(make_drift, inside, config=SMALL, seed=0)
    assert algo.demo_actions_on_bounds == 0
    assert torch.equal(algo.demo_transitions[1], inside.transitions()[1])
    algo.close()
    acts = np.concatenate(demos.actions)
    on = np.abs(acts) >= 1
    share = float(np.mean(on.any(-1)))
    assert 0.1 < share < 0.9
    with pytest.warns(UserWarning, match=rf"{100 * share:.1f}% of the demonstrated steps have "
                                         r"an action on the bounds.*moved 0.001 of"):
        algo = irlgan.AIRL(make_drift, demos, config=SMALL, seed=0)
    assert algo.demo_actions_on_bounds == pytest.approx(share, abs=1e-12)
    moved = algo.demo_transitions[1].numpy()
    # the components on a bound (Drift's box is [-1, 1]) sit 0.001 inside it, the others as given
    np.testing.assert_array_equal(moved[~on], acts[~on])
    np.testing.assert_allclose(moved[on], 0.999 * np.sign(acts[on]), rtol=0, atol=1e-7)
    # the padded episodes carry the same actions
    ep = algo.demo_episodes
    np.testing.assert_array_equal(ep.act[ep.mask.bool()].numpy(), moved)
    # on the bounds log pi was far below anything the (initial) policy samples; moved, it is not
    obs = algo.demo_transitions[0]
    with torch.no_grad():
        before = algo.policy.log_prob(obs, torch.as_tensor(acts)).numpy()
        after = algo.policy.log_prob(obs, algo.demo_transitions[1]).numpy()
        own = algo.policy.sample(obs.repeat(50, 1), torch.Generator().manual_seed(0))[1].numpy()
    rows = on.any(-1)
    low = float(own.min())
    assert before[rows].max() < low - 5 < low < after[rows].min(), (
        before[rows].max(), low, after[rows].min())
    algo.close()
    kept = dataclasses.replace(SMALL, bound_action_margin=0.0)
    with pytest.warns(UserWarning, match=r"set bound_action_margin > 0 to move them inside"):
        algo = irlgan.AIRL(make_drift, demos, config=kept, seed=0)
    assert torch.equal(algo.demo_transitions[1], torch.as_tensor(acts))
    algo.close()
    with pytest.raises(ValueError, match="bound_action_margin must be in"):
        irlgan.AdversarialConfig(bound_action_margin=1.0)
