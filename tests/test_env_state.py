"""Environments given as ids or callables; capturing their state for an exact resume (classic
control, MuJoCo), and the episode-boundary restart for environments that cannot be captured."""

from __future__ import annotations

import io
from functools import partial

import gymnasium
import mujoco
import numpy as np
import pytest
import torch

from irlgan.models import GaussianPolicy
from irlgan.rl import (
    RolloutCollector,
    VecEnv,
    capture_env_state,
    env_factory,
    make_vec_env,
    random_returns,
    restore_env_state,
)

torch.set_num_threads(1)


class Slider(gymnasium.Env):
    """A user's environment: a point on a line pushed by the action, its position kept in a
    private attribute (no `state`), reward -x^2."""

    def __init__(self) -> None:
        self.observation_space = gymnasium.spaces.Box(-2.0, 2.0, (1,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self._position = 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._position = float(self.np_random.uniform(-1.0, 1.0))
        return np.array([self._position], dtype=np.float32), {}

    def step(self, action):
        push = float(np.clip(action, -1.0, 1.0)[0])
        self._position = float(np.clip(self._position + 0.1 * push, -2.0, 2.0))
        return np.array([self._position], dtype=np.float32), -self._position**2, False, False, {}


def make_slider() -> gymnasium.Env:
    return gymnasium.wrappers.TimeLimit(Slider(), max_episode_steps=12)


def _collector(env, num_envs: int, steps: int, seed: int) -> RolloutCollector:
    vec = VecEnv(env, num_envs)
    policy = GaussianPolicy(vec.obs_dim, vec.act_dim, hidden=(16,),
                            generator=torch.Generator().manual_seed(0))
    return RolloutCollector(vec, policy, steps, seed=seed)


def _round_trip(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _assert_same(got, want) -> None:
    for key, value in want.to_dict().items():
        assert torch.equal(getattr(got, key), value), key


MUJOCO_CASES = {
    "HalfCheetah-v5": ("HalfCheetah-v5", 20, 2, 2),
    # a 30-step limit through a callable: episodes end at steps 30 and 60, either side of the save
    "HalfCheetah-v5 limit 30": (partial(gymnasium.make, "HalfCheetah-v5", max_episode_steps=30),
                                20, 2, 2),
    # falls over under random actions: terminations and resets in the middle of rollouts
    "Hopper-v5": ("Hopper-v5", 25, 2, 3),
    # reads body positions before stepping (forward-pass results must be restored too)
    "Ant-v5": ("Ant-v5", 15, 2, 2),
}


@pytest.mark.parametrize("case", sorted(MUJOCO_CASES))
def test_a_mujoco_collector_resumes_bit_identically(case):
    env, steps, before, after = MUJOCO_CASES[case]
    first = _collector(env, 2, steps, seed=4)
    for _ in range(before):
        first.collect()
    state = _round_trip(first.state_dict())
    assert state["envs"]["exact"] is True
    expected = [first.collect() for _ in range(after)]
    if case == "Hopper-v5":
        assert any(bool(r.terminated[:-1].any()) for r in expected)  # a reset mid-rollout
    if "limit" in case:
        assert any(bool(r.truncated.any()) for r in expected)
    second = _collector(env, 2, steps, seed=99)
    second.load_state_dict(state)
    assert second.resumed_exactly is True
    for want in expected:
        _assert_same(second.collect(), want)
    assert second.total_steps == first.total_steps


def test_a_restored_mujoco_env_matches_the_simulator_and_the_random_generator():
    source = gymnasium.make("Ant-v5")
    source.reset(seed=1)
    source.action_space.seed(2)
    for _ in range(10):
        source.step(source.action_space.sample())
    state = _round_trip(capture_env_state(source))
    target = gymnasium.make("Ant-v5")  # never reset: the order-enforcing flag comes with the state
    restore_env_state(target, state)
    spec = int(mujoco.mjtState.mjSTATE_INTEGRATION)
    model_a, data_a = source.unwrapped.model, source.unwrapped.data
    model_b, data_b = target.unwrapped.model, target.unwrapped.data
    size = mujoco.mj_stateSize(model_a, spec)
    full_a, full_b = np.empty(size), np.empty(size)
    mujoco.mj_getState(model_a, data_a, full_a, spec)
    mujoco.mj_getState(model_b, data_b, full_b, spec)
    np.testing.assert_array_equal(full_b, full_a)
    for field in ("xpos", "xipos", "cinert", "cvel", "cfrc_ext", "qacc", "qfrc_actuator"):
        np.testing.assert_array_equal(getattr(data_b, field), getattr(data_a, field), field)
    assert target._elapsed_steps == source._elapsed_steps == 10
    action = np.full(source.action_space.shape, 0.3, dtype=np.float32)
    for _ in range(3):
        got, want = target.step(action), source.step(action)
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1:4] == want[1:4]
    # reset without a seed draws its noise from np_random: the generators continue alike
    np.testing.assert_array_equal(target.reset()[0], source.reset()[0])


def test_the_wrong_state_or_an_unknown_wrapper_is_refused_or_uncaptured():
    ant = gymnasium.make("Ant-v5")
    ant.reset(seed=0)
    pendulum = gymnasium.make("Pendulum-v1")
    pendulum.reset(seed=0)
    with pytest.raises(ValueError, match="'mujoco' state"):
        restore_env_state(gymnasium.make("Pendulum-v1"), capture_env_state(ant))
    with pytest.raises(ValueError, match="wrappers"):
        restore_env_state(gymnasium.make("Pendulum-v1", max_episode_steps=None,
                                         disable_env_checker=True), capture_env_state(pendulum))
    with pytest.raises(ValueError, match="does not fit"):
        restore_env_state(gymnasium.make("Hopper-v5"), capture_env_state(ant))
    # a wrapper that keeps statistics of its own cannot be captured
    normalized = gymnasium.wrappers.NormalizeObservation(gymnasium.make("Pendulum-v1"))
    normalized.reset(seed=0)
    assert capture_env_state(normalized) is None
    assert capture_env_state(pendulum)["kind"] == "state"


def test_a_user_environment_restarts_at_an_episode_boundary_reproducibly():
    first = _collector(make_slider, 2, 5, seed=3)
    assert first.vec_env.env_id == "make_slider" and first.resumed_exactly is True
    for _ in range(3):  # 15 steps: the second episodes have run 3 steps
        rollout = first.collect()
    assert rollout.timestep[-1].tolist() == [2, 2]
    assert capture_env_state(first.vec_env.envs[0]) is None
    state = _round_trip(first.state_dict())
    assert state["envs"] == {"exact": False, "num_envs": 2}
    runs = []
    for seed in (7, 8):  # the collectors' own seeds do not matter after the restore
        other = _collector(make_slider, 2, 5, seed=seed)
        other.load_state_dict(state)
        assert other.resumed_exactly is False
        assert other.total_steps == first.total_steps
        assert (other.episode_length == 0).all() and (other.episode_return == 0).all()
        runs.append([other.collect() for _ in range(2)])
    for got, want in zip(runs[1], runs[0], strict=True):
        _assert_same(got, want)
    start = runs[0][0]
    assert start.episode_start[0].all() and (start.timestep[0] == 0).all()
    assert torch.equal(start.timestep[:, 0], torch.arange(5))
    # fresh seeds from the restored generator, not a repeat of the uninterrupted run
    assert not torch.equal(start.obs[0], first.collect().obs[0])


class Shared:
    """A factory that wrongly hands out one environment (or one inner environment) every time."""

    def __init__(self, wrap: bool) -> None:
        self.env = Slider()
        self.wrap = wrap

    def __call__(self) -> gymnasium.Env:
        return gymnasium.wrappers.TimeLimit(self.env, 5) if self.wrap else self.env


def _discrete_actions() -> gymnasium.Env:
    env = Slider()
    env.action_space = gymnasium.spaces.Discrete(3)
    return env


@pytest.mark.parametrize("env, message", [
    (lambda: object(), "must return a gymnasium.Env, got object"),
    (Shared(wrap=False), "returned an environment it had returned before"),
    (Shared(wrap=True), "returned an environment it had returned before"),
    (_discrete_actions, "action_space must be a 1-D Box, got Discrete"),
    (3, "env must be a registered gymnasium id or a zero-argument callable"),
    ("", "empty string"),
])
def test_bad_environments_give_one_line_errors(env, message):
    with pytest.raises(ValueError, match=message) as error:
        make_vec_env(env, 2)
    assert "\n" not in str(error.value)


def test_factories_are_named_and_evaluate_like_ids():
    assert env_factory("Pendulum-v1")[1] == "Pendulum-v1"
    assert env_factory(make_slider)[1] == "make_slider"
    assert env_factory(Slider)[1] == "Slider"
    assert env_factory(partial(gymnasium.make, "Pendulum-v1"))[1] == "make"
    assert env_factory(Shared(wrap=False))[1] == "Shared"
    factory, _ = env_factory(Slider)
    assert factory() is not factory()
    by_id = random_returns("Pendulum-v1", 2, seed_base=7)
    np.testing.assert_array_equal(random_returns(partial(gymnasium.make, "Pendulum-v1"), 2, 7),
                                  by_id)


def test_the_earlier_checkpoint_layout_still_restores_exactly():
    first = _collector("Pendulum-v1", 2, 30, seed=1)
    first.collect()
    state = first.state_dict()
    envs = first.vec_env.envs
    state["envs"] = {  # as written before capture_env_state: unwrapped.state and TimeLimit counts
        "state": torch.stack([torch.from_numpy(env.unwrapped.state.copy()) for env in envs]),
        "elapsed": torch.tensor([env._elapsed_steps for env in envs]),
    }
    expected = first.collect()
    second = _collector("Pendulum-v1", 2, 30, seed=2)
    second.load_state_dict(_round_trip(state))
    assert second.resumed_exactly is True
    _assert_same(second.collect(), expected)
