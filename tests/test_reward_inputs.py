"""What the discriminator sees, and which world the generator trains in.

`AdversarialConfig.reward_obs = (start, stop)` gives the default discriminator networks of all
four algorithms the observation components start .. stop - 1 only (the policy still sees all).
`ControlRunConfig.train_env_kwargs` makes the training environment with extra
`gymnasium.make` keywords while evaluation runs the registered task.
"""

from __future__ import annotations

import dataclasses
import json

import gymnasium
import pytest
import torch

import irlgan
from irlgan.control._run import (
    ControlRunConfig,
    build_algorithm,
    config_from_run_dict,
    run_config_dict,
)
from irlgan.control.commands import build_config
from irlgan.models import MLPCost, MLPLogZ, ShapedReward
from tests.test_api import SMALL, Bowl, drift_demos, make_drift

pytestmark = pytest.mark.filterwarnings("ignore:.*on the bounds of the action space")

ALGORITHMS = (irlgan.AIRL, irlgan.GANGCL, irlgan.GCL, irlgan.GAIL)


def _perturbed(obs: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """`obs` with every component outside [start, stop) replaced by other random values."""
    other = obs.clone()
    outside = torch.ones(obs.shape[-1], dtype=torch.bool)
    outside[start:stop] = False
    other[..., outside] = torch.randn_like(other[..., outside]) * 3.0
    return other


def test_sliced_modules_equal_the_same_networks_on_the_slice() -> None:
    """A module with obs_slice is exactly the module of the narrower width applied to the slice:
    same weights, same values to the last bit."""
    torch.manual_seed(0)
    obs, act = torch.randn(7, 5, 6), torch.randn(7, 5, 2)
    nxt = torch.randn(7, 5, 6)
    term = torch.rand(7, 5) < 0.3
    cases = [
        (MLPCost(6, 2, (8, 8), obs_slice=(1, 4)), MLPCost(3, 2, (8, 8)),
         lambda m, o, n: m(o, act)),
        (MLPCost(6, 2, (8,), state_only=True, obs_slice=(0, 2)),
         MLPCost(2, 2, (8,), state_only=True), lambda m, o, n: m(o)),
        (MLPLogZ(6, (4,), obs_slice=(2, 6)), MLPLogZ(4, (4,)), lambda m, o, n: m(o[:, 0])),
        (ShapedReward(6, 2, 0.9, (8,), state_only=False, obs_slice=(3, 5)),
         ShapedReward(2, 2, 0.9, (8,), state_only=False), lambda m, o, n: m(o, act, n, term)),
    ]
    with torch.no_grad():  # log Z starts as a constant: give its last layer weights
        cases[2][0].net[-1].weight.normal_()
    for sliced, narrow, call in cases:
        start, stop = sliced.obs_slice
        narrow.load_state_dict(sliced.state_dict())
        got = call(sliced, obs, nxt)
        want = call(narrow, obs[..., start:stop], nxt[..., start:stop])
        assert torch.equal(got, want)
        # the components outside the slice do not matter; those inside do
        assert torch.equal(call(sliced, _perturbed(obs, start, stop),
                                _perturbed(nxt, start, stop)), got)
        inside = obs.clone()
        inside[..., start] += 1.0
        assert not torch.allclose(call(sliced, inside, nxt), got)


@pytest.mark.parametrize("bad", [(3, 2), (0,), (True, 1), (-1, 1), (0, 1.5)])
def test_bad_slices_are_refused(bad) -> None:
    with pytest.raises(ValueError, match="reward_obs"):
        irlgan.AdversarialConfig(reward_obs=bad)
    with pytest.raises(ValueError, match="obs_slice"):
        MLPCost(4, 1, obs_slice=bad)


def test_a_slice_past_the_observation_is_refused() -> None:
    config = dataclasses.replace(SMALL, reward_obs=(1, 3))
    with pytest.raises(ValueError, match=r"reaches past the observation width 2"):
        irlgan.AIRL(make_drift, drift_demos(), config=config)
    with pytest.raises(ValueError, match="obs_slice"):
        MLPCost(4, 1, obs_slice=(0, 5))


def test_a_users_reward_net_with_reward_obs_is_refused() -> None:
    config = dataclasses.replace(SMALL, reward_obs=(0, 1))
    with pytest.raises(ValueError, match="a reward_net chooses its own"):
        irlgan.GANGCL(make_drift, drift_demos(), reward_net=Bowl(), config=config)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_every_algorithms_reward_ignores_the_left_out_components(algorithm) -> None:
    """After training steps, every reward kind of every algorithm is blind to the second
    component of the drift world's observation and sees the first."""
    config = dataclasses.replace(SMALL, reward_obs=(0, 1), state_only=False)
    trainer = algorithm(make_drift, drift_demos(), config=config, seed=3)
    trainer.learn(2 * config.steps_per_iteration)
    gen = torch.Generator().manual_seed(1)
    obs, nxt = torch.randn(32, 2, generator=gen), torch.randn(32, 2, generator=gen)
    act = torch.rand(32, 2, generator=gen) * 2 - 1
    term = torch.zeros(32, dtype=torch.bool)
    other_obs, other_nxt = obs.clone(), nxt.clone()
    other_obs[:, 1] += torch.randn(32, generator=gen) * 5
    other_nxt[:, 1] += torch.randn(32, generator=gen) * 5
    moved_obs = obs.clone()
    moved_obs[:, 0] += 1.0
    for kind in trainer.reward_kinds:
        base = trainer.reward(obs.numpy(), act.numpy(), nxt.numpy(), term.numpy(), kind)
        blind = trainer.reward(other_obs.numpy(), act.numpy(), other_nxt.numpy(),
                               term.numpy(), kind)
        seen = trainer.reward(moved_obs.numpy(), act.numpy(), nxt.numpy(), term.numpy(), kind)
        assert (base == blind).all(), kind
        assert abs(base - seen).max() > 1e-4, kind
    # the policy still sees both components
    assert trainer.policy.obs_dim == 2


# ----------------------------------------------------------------------------------------------
# train_env_kwargs
# ----------------------------------------------------------------------------------------------


def test_train_env_kwargs_change_the_training_world_only() -> None:
    run = build_config("airl", "Pendulum-v1", 4096, 0, {"train_env_kwargs.g": "3.5",
                                                        "num_envs": "2"})
    assert run.train_env_kwargs == {"g": 3.5}
    demos = irlgan.Demonstrations.from_arrays(
        [torch.zeros(6, 3).numpy()], [torch.zeros(5, 1).numpy()], [False],
        env_id="Pendulum-v1")
    trainer = build_algorithm(run, demos)
    try:
        gravities = [env.unwrapped.g for env in trainer.vec_env.vector.envs]
        assert gravities == [3.5, 3.5]
    finally:
        trainer.close()
    assert gymnasium.make(run.env_id).unwrapped.g == 10.0  # evaluation's task is unchanged
    # config.json round trip, and the JSON is plain
    data = json.loads(json.dumps(run_config_dict(run, None)))
    assert data["train_env_kwargs"] == {"g": 3.5}
    assert config_from_run_dict(data) == run


def test_train_env_kwargs_parse_each_value_by_its_text() -> None:
    got = {text: build_config("airl", "Pendulum-v1", None, 0,
                              {"train_env_kwargs.x": text}).train_env_kwargs["x"]
           for text in ("false", "1", "0.5", "abc")}
    assert got == {"false": False, "1": 1, "0.5": 0.5, "abc": "abc"}
    assert type(got["1"]) is int and type(got["false"]) is bool


def test_bad_train_env_kwargs_get_one_line_errors() -> None:
    with pytest.raises(ValueError, match=r"train_env_kwargs is a table; set its entries one by "
                                         r"one"):
        build_config("airl", "Pendulum-v1", None, 0, {"train_env_kwargs": "g=3"})
    with pytest.raises(ValueError, match="train_env_kwargs must map keyword names"):
        ControlRunConfig(train_env_kwargs={"not a name": 1})
    run = build_config("airl", "Pendulum-v1", None, 0, {"train_env_kwargs.gravity": "3"})
    demos = irlgan.Demonstrations.from_arrays(
        [torch.zeros(6, 3).numpy()], [torch.zeros(5, 1).numpy()], [False],
        env_id="Pendulum-v1")
    with pytest.raises(ValueError, match=r"train_env_kwargs \{'gravity': 3\} do not fit "
                                         r"Pendulum-v1") as error:
        build_algorithm(run, demos)
    assert "\n" not in str(error.value)


def test_preset_tables_and_set_merge_into_train_env_kwargs() -> None:
    """The Ant preset's TOML table arrives as a dict (booleans stay booleans), and a `--set` of
    another key adds to it instead of replacing it."""
    from irlgan.control._config import default_config

    run = default_config("airl", "Ant-v5")
    assert run.train_env_kwargs == {"terminate_when_unhealthy": False}
    assert run.algo.reward_obs == (0, 27)
    both = build_config("airl", "Ant-v5", None, 0, {"train_env_kwargs.ctrl_cost_weight": "0.25"})
    assert both.train_env_kwargs == {"terminate_when_unhealthy": False, "ctrl_cost_weight": 0.25}
    back = build_config("airl", "Ant-v5", None, 0,
                        {"train_env_kwargs.terminate_when_unhealthy": "true"})
    assert back.train_env_kwargs == {"terminate_when_unhealthy": True}
