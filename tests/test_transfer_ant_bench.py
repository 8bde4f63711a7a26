"""The checks of benchmarks/transfer_ant.py that need no training: the forward-progress measure
and which imitation runs may serve as a learning stage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from _benchmarks import FixedActionPolicy, load_benchmark

import irlgan.envs  # noqa: F401  (registers irlgan/DisabledAnt-v0)
from irlgan.config import config_to_dict
from irlgan.control.commands import build_config


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("transfer_ant")


def test_forward_progress_is_the_x_distance_over_the_step_and_lengths_count_steps(bench):
    action = np.array([0.6, -0.4, 0.2, 0.8, -0.6, 0.3, 0.5, -0.7])
    forward, lengths = bench.forward_progress(FixedActionPolicy(action), [7])
    env = gymnasium.make("irlgan/DisabledAnt-v0")
    env.reset(seed=7)
    start = float(env.unwrapped.data.qpos[0])
    steps, done = 0, False
    while not done:
        _, _, terminated, truncated, info = env.step(action.astype(np.float32))
        steps += 1
        done = terminated or truncated
    distance = float(info["x_position"]) - start
    assert lengths == [steps]
    assert abs(forward[0] - distance / env.unwrapped.dt) < 1e-9 * max(1.0, abs(forward[0]))
    assert abs(distance) > 1e-3  # the push moves the body: the check compares something


class _Demos:
    def __init__(self, digest: str) -> None:
        self.digest = digest

    def content_hash(self) -> str:
        return self.digest


def _imitation_run(folder: Path, config, digest: str) -> Path:
    run_dir = folder / "airl-Ant-v5-s0"
    run_dir.mkdir(parents=True)
    recorded = {"schema": "irlgan.run-config", **config_to_dict(config), "demos": "elsewhere",
                "inputs": {"demos_sha256": digest}}
    (run_dir / "config.json").write_text(json.dumps(recorded))
    (run_dir / "summary.json").write_text("{}")
    (run_dir / "model.pt").write_bytes(b"")
    return run_dir


def test_an_imitation_run_is_reused_only_with_the_same_settings_and_demonstrations(bench,
                                                                                  tmp_path):
    config = build_config("airl", "Ant-v5", None, 0, {"state_only": "false"})
    run_dir = _imitation_run(tmp_path / "runs", config, "abc")
    assert bench.reusable_run(config, _Demos("abc"), "airl", 0, [str(tmp_path / "runs")]) \
        == run_dir
    assert bench.reusable_run(config, _Demos("abd"), "airl", 0, [str(tmp_path / "runs")]) \
        is None
    state_only = build_config("airl", "Ant-v5", None, 0, {"state_only": "true"})
    assert bench.reusable_run(state_only, _Demos("abc"), "airl", 0,
                              [str(tmp_path / "runs")]) is None
    other_rate = build_config("airl", "Ant-v5", None, 0, {"disc_lr": "1e-3"})
    assert bench.reusable_run(other_rate, _Demos("abc"), "airl", 0,
                              [str(tmp_path / "runs")]) is None
    # an unfinished run (no summary) is not a learning stage
    (run_dir / "summary.json").unlink()
    assert bench.reusable_run(config, _Demos("abc"), "airl", 0, [str(tmp_path / "runs")]) \
        is None


class _HeightCost:
    """A stand-in for a trained model: the cost of a step is the torso's height (obs[0])."""

    def step_cost(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return obs[..., 0]


def test_the_learned_reward_along_a_policy_is_minus_the_mean_cost_of_its_steps(bench):
    action = np.array([0.6, -0.4, 0.2, 0.8, -0.6, 0.3, 0.5, -0.7])
    value = bench.learned_reward_on(_HeightCost(), FixedActionPolicy(action), episodes=1,
                                    seed_base=11)
    env = gymnasium.make("irlgan/DisabledAnt-v0", terminate_when_unhealthy=False)
    obs, _ = env.reset(seed=11)
    heights, done = [], False
    while not done:
        heights.append(float(np.float32(obs[0])))
        obs, _, terminated, truncated, _ = env.step(action.astype(np.float32))
        done = terminated or truncated
    assert len(heights) == 1000  # no termination: the whole time limit
    assert value == pytest.approx(-np.mean(heights), rel=1e-12, abs=1e-12)


class _ForwardReward:
    """A learned reward that is the observation's forward velocity (component 13)."""

    def step_cost(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return -obs[..., 13]


def test_gait_reports_the_reward_with_and_without_the_velocities_swapped(bench):
    action = np.array([0.6, -0.4, 0.2, 0.8, -0.6, 0.3, 0.5, -0.7])
    env = gymnasium.make("irlgan/DisabledAnt-v0", terminate_when_unhealthy=False)
    velocities = [0.25 * (i + 1) for i in range(14)]
    out = bench.gait(_ForwardReward(), FixedActionPolicy(action), env, 5, velocities)
    obs, _ = env.reset(seed=5)
    rows, done = [], False
    while not done:
        rows.append(np.asarray(obs, dtype=np.float32))
        obs, _, terminated, truncated, _ = env.step(action.astype(np.float32))
        done = terminated or truncated
    o = np.stack(rows)
    assert len(o) == 1000
    assert out["reward"] == pytest.approx(o[:, 13].mean(), rel=1e-5)
    assert out["forward_velocity"] == pytest.approx(o[:, 13].mean(), rel=1e-5)
    assert out["reward_at_velocities"] == pytest.approx(0.25, rel=1e-6)  # component 13's value
    assert out["height"] == pytest.approx(o[:, 0].mean(), rel=1e-5)
    assert out["joint_speed"] == pytest.approx(np.abs(o[:, 19:27]).mean(), rel=1e-5)
    assert out["action_sq"] == pytest.approx(float((action.astype(np.float32) ** 2).sum()),
                                             rel=1e-6)
    np.testing.assert_allclose(out["velocities"], o[:, 13:27].mean(0), rtol=1e-5, atol=1e-6)


def test_child_runs_are_collected_by_their_result_lines_and_a_failure_is_skipped(capsys):
    control = load_benchmark("control")

    def command(i: int) -> list[str]:
        if i == 2:
            return [sys.executable, "-c", "import sys; sys.exit('broken child')"]
        return [sys.executable, "-c", f"print('noise'); print('RESULT {{\"i\": {i}}}')"]

    seen: dict = {}
    control.run_children([1, 2, 3], 2, command, lambda i, r: seen.__setitem__(i, r))
    assert sorted(seen) == [1, 3]
    assert all(seen[i]["i"] == i and seen[i]["process_wall_s"] > 0 for i in seen)
    assert "run 2 failed" in capsys.readouterr().err
