"""Property-based checks of bad input: demonstrations broken in every way hypothesis can find,
and settings that cannot be right. Each must be refused with one line naming what is wrong, and a
refused command must create nothing. Counted in the figures printed at the end of the run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import LEDGER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import irlgan
from irlgan import cli
from irlgan.algorithms import AdversarialConfig
from irlgan.config import config_to_dict, flatten_overrides
from irlgan.control._config import RUN_FIELDS
from irlgan.density._train import DensityConfig

OBS_SPACE = gym.spaces.Box(-3.0, 3.0, (2,), np.float32)  # the point mass's spaces
ACT_SPACE = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@st.composite
def valid_episodes(draw):
    count = draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, 6), min_size=count, max_size=count))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    obs = [rng.uniform(-3, 3, (n + 1, 2)).astype(np.float32) for n in lengths]
    act = [rng.uniform(-1, 1, (n, 2)).astype(np.float32) for n in lengths]
    terminated = [bool(t) for t in rng.integers(0, 2, count)]
    return obs, act, terminated


BREAKS = ("nan", "inf", "action outside", "observation outside", "row missing", "width",
          "terminated not a bool", "terminated early", "truncated contradicts", "no steps",
          "fewer flags")


@st.composite
def broken_demonstrations(draw):
    obs, act, terminated = draw(valid_episodes())
    kind = draw(st.sampled_from(BREAKS))
    i = draw(st.integers(0, len(obs) - 1))
    truncated = None
    if kind in ("nan", "inf"):
        target = draw(st.sampled_from(["obs", "act"]))
        array = obs[i] if target == "obs" else act[i]
        row, col = draw(st.integers(0, array.shape[0] - 1)), draw(st.integers(0, 1))
        array[row, col] = np.nan if kind == "nan" else draw(st.sampled_from([np.inf, -np.inf]))
    elif kind == "action outside":
        margin = draw(st.floats(1e-3, 1e6))
        act[i][draw(st.integers(0, act[i].shape[0] - 1)), 0] = 1.0 + margin
    elif kind == "observation outside":
        margin = draw(st.floats(1e-3, 1e30))
        obs[i][draw(st.integers(0, obs[i].shape[0] - 1)), 1] = -3.0 - margin
    elif kind == "row missing":
        obs[i] = obs[i][:-1]
    elif kind == "width":
        act[i] = np.concatenate([act[i], act[i][:, :1]], axis=1)
    elif kind == "terminated not a bool":
        terminated[i] = draw(st.sampled_from([2, "yes", 0.5, None]))
    elif kind == "terminated early":
        steps = np.zeros(act[i].shape[0] + 1, dtype=bool)
        steps[0] = True
        act[i] = np.concatenate([act[i], act[i][-1:]])
        obs[i] = np.concatenate([obs[i], obs[i][-1:]])
        terminated = [np.eye(1, a.shape[0], a.shape[0] - 1, dtype=bool)[0] & t
                      for a, t in zip(act, terminated, strict=True)]
        terminated[i] = steps
    elif kind == "truncated contradicts":
        truncated = [not t for t in terminated]
        truncated[i] = terminated[i]
    elif kind == "no steps":
        act[i], obs[i] = act[i][:0], obs[i][:1]
    else:
        terminated = terminated[:-1] if len(terminated) > 1 else []
    return kind, obs, act, terminated, truncated


@SETTINGS
@given(broken_demonstrations())
def test_broken_demonstrations_are_refused_with_one_line(case):
    kind, obs, act, terminated, truncated = case
    with pytest.raises(ValueError) as caught:
        demos = irlgan.Demonstrations.from_arrays(obs, act, terminated, truncated=truncated)
        demos.check_spaces(OBS_SPACE, ACT_SPACE)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    if kind in ("action outside", "observation outside"):
        assert "episode" in message and "step" in message and "dimension" in message
    LEDGER.bad_input(nothing_lost=True)


@SETTINGS
@given(valid_episodes(), st.data())
def test_valid_demonstrations_round_trip_and_their_hash_sees_every_value(tmp_path_factory,
                                                                           episodes, data):
    obs, act, terminated = episodes
    demos = irlgan.Demonstrations.from_arrays(obs, act, terminated)
    demos.check_spaces(OBS_SPACE, ACT_SPACE)
    folder = tmp_path_factory.mktemp("demos")
    loaded = irlgan.Demonstrations.load(demos.save(folder))
    assert loaded.content_hash() == demos.content_hash()
    assert loaded.terminated == terminated and loaded.truncated == [not t for t in terminated]
    i = data.draw(st.integers(0, len(act) - 1))
    changed = [a.copy() for a in act]
    changed[i][data.draw(st.integers(0, changed[i].shape[0] - 1)), 1] += np.float32(1e-3)
    other = irlgan.Demonstrations.from_arrays(obs, changed, terminated)
    assert other.content_hash() != demos.content_hash()


def _control_keys() -> list[str]:
    return sorted(RUN_FIELDS) + sorted(flatten_overrides(config_to_dict(AdversarialConfig())))


def _density_keys() -> list[str]:
    return sorted(f.name for f in dataclasses.fields(DensityConfig)
                  if f.name not in ("algorithm", "dataset"))


NONSENSE = st.text(alphabet="xyzqk!@#%", min_size=1, max_size=6)
UNKNOWN_KEY = st.from_regex(r"[a-z]{3,10}(\.[a-z]{2,8})?", fullmatch=True)


@pytest.fixture(scope="module")
def demos(tmp_path_factory) -> Path:
    from irlgan.control._point_mass_expert import point_mass_expert_demonstrations

    path = tmp_path_factory.mktemp("demos")
    point_mass_expert_demonstrations(episodes=4, seed=3).save(path)
    return path


@SETTINGS
@given(task=st.sampled_from(["control", "density"]), data=st.data())
def test_bad_settings_are_refused_with_one_line_and_create_nothing(task, data, demos,
                                                                   tmp_path, capsys):
    keys = _control_keys() if task == "control" else _density_keys()
    if data.draw(st.booleans()):
        key = data.draw(UNKNOWN_KEY.filter(lambda k: k not in keys))
        value = "1"
    else:
        key, value = data.draw(st.sampled_from(keys)), data.draw(NONSENSE)
    out = tmp_path / f"run-{abs(hash((key, value)))}"
    argv = (["train", "airl", "--env", "irlgan/PointMass-v0", "--demos", str(demos)]
            if task == "control" else ["train", "ebm", "--data", "rings"])
    capsys.readouterr()
    status = cli.main([*argv, "--out", str(out), "--quiet", "--set", f"{key}={value}"])
    err = capsys.readouterr().err
    assert status == 2, (key, value, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert not out.exists()
    LEDGER.bad_input(nothing_lost=True)
