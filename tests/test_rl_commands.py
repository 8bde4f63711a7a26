"""`irlgan expert`: the files it writes, their contents, and the errors it gives."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
import torch

import irlgan
from irlgan.rl import EVAL_SEED_BASE, evaluate_policy, load_policy
from irlgan.rl.commands import expert, expert_config_with_overrides


def _args(out, steps=2000, overrides=None, env="irlgan/PointMass-v0", seed=1):
    return argparse.Namespace(env=env, steps=steps, seed=seed, out=str(out), quiet=True,
                              overrides=overrides or {"demo_episodes": "6", "eval_episodes": "5"})


def test_expert_command_writes_demonstrations_policy_and_reference_returns(tmp_path):
    out = tmp_path / "expert"
    assert expert(_args(out)) == 0
    names = {p.name for p in out.iterdir()}
    assert {"arrays.npz", "metadata.json", "expert.json", "policy.pt", "config.json",
            "metrics.csv"} <= names
    summary = json.loads((out / "expert.json").read_text())
    demos = irlgan.Demonstrations.load(out)
    assert len(demos) == 6 and demos.env_id == "irlgan/PointMass-v0"
    assert (demos.lengths == 50).all()
    # the point mass's episodes end at its time limit: truncated, never terminated
    assert demos.terminated == [False] * 6 and demos.truncated == [True] * 6
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["format_version"] == 4
    assert demos.expert_return == summary["expert_return"]
    _check_software(summary["software"])
    # the references carry the seeds they were measured on, and the steps their rewards
    assert demos.reference_seeds == tuple(EVAL_SEED_BASE + i for i in range(5))
    np.testing.assert_allclose([r.sum() for r in demos.rewards], demos.returns, rtol=1e-9)
    assert demos.random_return == summary["random_return"]
    assert summary["env_steps"] >= 2000 and summary["eval_episodes"] == 5
    # the saved policy is the one that was evaluated
    policy = load_policy(out)
    again = evaluate_policy(policy, "irlgan/PointMass-v0", 5, EVAL_SEED_BASE)
    assert float(again.mean()) == pytest.approx(summary["expert_return"], rel=1e-9)
    # demonstrations replay: their returns are the true returns of their own actions
    from irlgan.envs import point_mass_true_cost

    obs = torch.as_tensor(np.stack([o[:-1] for o in demos.observations])).double()
    act = torch.as_tensor(np.stack(demos.actions)).double().clamp(-1, 1)
    cost = point_mass_true_cost(obs, act)
    np.testing.assert_allclose(-cost.sum(-1).numpy(), demos.returns, rtol=1e-4)
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "expert" and config["config"]["demo_episodes"] == 6


def test_expert_command_is_deterministic_given_the_seed(tmp_path):
    expert(_args(tmp_path / "a"))
    expert(_args(tmp_path / "b"))
    first = irlgan.Demonstrations.load(tmp_path / "a")
    second = irlgan.Demonstrations.load(tmp_path / "b")
    assert first.content_hash() == second.content_hash()
    for a, b in zip(first.actions, second.actions, strict=True):
        np.testing.assert_array_equal(a, b)


def test_overrides_reach_both_config_levels_and_unknown_keys_are_named():
    config = expert_config_with_overrides("Pendulum-v1", {"num_envs": "4", "ppo.gamma": "0.9"})
    assert config.num_envs == 4 and config.ppo.gamma == 0.9
    with pytest.raises(ValueError, match="no_such_key"):
        expert_config_with_overrides("Pendulum-v1", {"no_such_key": "1"})
    with pytest.raises(ValueError, match="ppo.gamma must be a number"):
        expert_config_with_overrides("Pendulum-v1", {"ppo.gamma": "abc"})
    with pytest.raises(ValueError, match=r"did you mean ppo\.gamma"):
        expert_config_with_overrides("Pendulum-v1", {"gamma": "0.9"})


def test_expert_command_rejects_a_bad_environment(tmp_path):
    with pytest.raises(ValueError, match="unknown environment"):
        expert(_args(tmp_path / "x", env="NoSuchEnv-v0"))


def test_the_irlgan_command_line_runs_expert(tmp_path):
    from irlgan.cli import main

    out = tmp_path / "cli"
    status = main(["expert", "--env", "irlgan/PointMass-v0", "--steps", "800", "--seed", "2",
                   "--out", str(out), "--set", "demo_episodes=3", "--set", "eval_episodes=2",
                   "--quiet"])
    assert status == 0
    assert len(irlgan.Demonstrations.load(out)) == 3
    assert json.loads((out / "expert.json").read_text())["seed"] == 2


def test_load_policy_refuses_corrupt_and_foreign_files(tmp_path):
    from irlgan.checkpoint import CheckpointError, save_checkpoint

    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        load_policy(tmp_path / "garbage.pt")
    save_checkpoint(tmp_path / "other.pt", {"x": 1}, kind="control")
    with pytest.raises(CheckpointError, match="expert-policy"):
        load_policy(tmp_path / "other.pt")


def _check_software(record):
    """A summary's ``software`` record names the versions installed in this process."""
    import platform

    import gymnasium
    import numpy

    assert record["python"] == platform.python_version()
    assert record["torch"] == torch.__version__
    assert record["numpy"] == numpy.__version__
    assert record["gymnasium"] == gymnasium.__version__


def test_software_versions_name_a_missing_package_none(monkeypatch):
    from irlgan import _io

    monkeypatch.setattr(_io, "SOFTWARE_PACKAGES", ("torch", "irlgan-no-such-package"))
    record = _io.software_versions()
    assert record["torch"] == torch.__version__
    assert record["irlgan-no-such-package"] is None
    assert set(record) == {"python", "machine", "torch", "irlgan-no-such-package"}
