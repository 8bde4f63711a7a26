"""THE resume test: a real `irlgan train` subprocess killed with SIGKILL after its first
checkpoint and resumed ends with the same parameters and evaluation numbers as an uninterrupted
run of the same seed; corrupted and foreign checkpoints get clear errors."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from irlgan.control import final_parameters
from irlgan.control._point_mass_expert import point_mass_expert_demonstrations

ENV = "irlgan/PointMass-v0"
# 30 iterations of 4 x 30 steps: episodes (50 steps) straddle rollouts, so the unfinished
# episodes, the episode buffer and the collector's environments must all survive the kill.
SETTINGS = ["--set", "num_envs=4", "--set", "steps_per_env=30", "--set", "checkpoint_every=3",
            "--set", "eval_episodes=20", "--set", "disc_batch=32"]
STEPS = 4 * 30 * 30


def _command(algo: str, demos: Path, out: Path, *extra: str, env: str = ENV) -> list[str]:
    return [sys.executable, "-m", "irlgan.cli", "train", algo, "--env", env, "--demos",
            str(demos), "--steps", str(STEPS), "--seed", "3", "--out", str(out), "--quiet",
            *SETTINGS, *extra]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + env.get(
        "PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _metrics_without_timing(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    timing = ("wall_s", "time_rollout", "time_disc", "time_gen")
    return [{k: v for k, v in row.items() if k not in timing} for row in rows]


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demos")
    point_mass_expert_demonstrations(episodes=16, seed=11).save(path)
    return path


@pytest.fixture(scope="module")
def cheetah_demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demonstrations of a HalfCheetah-v5 gait driven by a fixed sinusoid (the test is about
    resuming, not about imitation): 4 episodes of 1000 steps."""
    import gymnasium
    import numpy as np

    import irlgan

    path = tmp_path_factory.mktemp("cheetah-demos")
    env = gymnasium.make("HalfCheetah-v5")
    observations, actions = [], []
    for episode in range(4):
        obs, _ = env.reset(seed=episode)
        obs_list, act_list = [obs], []
        for t in range(1000):
            act = 0.8 * np.sin(0.3 * t + np.arange(6) * np.pi / 3).astype(np.float32)
            obs, _, term, trunc, _ = env.step(act)
            obs_list.append(obs)
            act_list.append(act)
            if term or trunc:
                break
        observations.append(np.array(obs_list))
        actions.append(np.array(act_list))
    env.close()
    irlgan.Demonstrations.from_arrays(observations, actions, [False] * 4,
                                      env_id="HalfCheetah-v5").save(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("algo, env_id", [("gan-gcl", ENV), ("airl", ENV),
                                          ("airl", "HalfCheetah-v5")])
def test_sigkill_then_resume_matches_an_uninterrupted_run(algo: str, env_id: str, demos: Path,
                                                          cheetah_demos: Path,
                                                          tmp_path: Path) -> None:
    if env_id != ENV:
        demos = cheetah_demos
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    subprocess.run(_command(algo, demos, reference, env=env_id), check=True, env=_env(),
                   timeout=600)

    proc = subprocess.Popen(_command(algo, demos, killed, env=env_id), env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list((killed / "checkpoints").glob("ckpt-*.pt")):
        assert proc.poll() is None, "the run ended before writing a checkpoint"
        assert time.monotonic() < deadline, "no checkpoint after 300 s"
        time.sleep(0.01)
    time.sleep(random.Random(algo).uniform(0.0, 0.3))  # a random-ish moment after it
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "summary.json").exists(), "the run finished before it was killed"

    subprocess.run(_command(algo, demos, killed, "--resume", env=env_id), check=True, env=_env(),
                   timeout=600)

    a, b = final_parameters(reference), final_parameters(killed)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    sa = json.loads((reference / "summary.json").read_text())
    sb = json.loads((killed / "summary.json").read_text())
    for key in ("normalized_return", "return_mean", "return_std", "env_steps",
                "expert_return", "random_return"):
        assert sa[key] == sb[key], key
    assert sa["env_steps"] == STEPS
    assert sb["resume"] == "exact" and sa["resume"] == "none"
    # Each iteration is logged once, with the same numbers.
    assert _metrics_without_timing(reference / "metrics.csv") == _metrics_without_timing(
        killed / "metrics.csv")


def _short_run(demos: Path, out: Path) -> None:
    cmd = _command("airl", demos, out)
    cmd[cmd.index("--steps") + 1] = str(4 * 30 * 6)
    subprocess.run(cmd, check=True, env=_env(), timeout=600)


def _eval(run: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "irlgan.cli", "eval", str(run), "--quiet"],
                          env=_env(), capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_corrupt_and_foreign_checkpoints_give_clear_errors(demos: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    _short_run(demos, run)
    checkpoints = sorted((run / "checkpoints").glob("ckpt-*.pt"))
    assert len(checkpoints) == 2

    # The newest one truncated: eval warns and falls back to the older one.
    newest = checkpoints[-1]
    newest.write_bytes(newest.read_bytes()[:200])
    result = _eval(run)
    assert result.returncode == 0, result.stderr
    (written,) = (run / "evals").glob("*.json")
    assert json.loads(written.read_text())["checkpoint"] == checkpoints[0].name

    # Every checkpoint corrupt: a clear error naming the file, exit status 3, no traceback.
    checkpoints[0].write_bytes(b"not a checkpoint at all")
    result = _eval(run)
    assert result.returncode == 3
    assert "cannot be read" in result.stderr and newest.name in result.stderr
    assert "Traceback" not in result.stderr

    # A foreign torch file (a plain state dict) in place of the newest checkpoint.
    torch.save({"weight": torch.zeros(3)}, newest)
    result = _eval(run)
    assert result.returncode == 3
    assert "not written by irlgan" in result.stderr

    # Resuming refuses the same files with the same message.
    cmd = _command("airl", demos, run, "--resume")
    cmd[cmd.index("--steps") + 1] = str(4 * 30 * 6)
    resumed = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 3 and "not written by irlgan" in resumed.stderr


@pytest.mark.slow
def test_resume_refuses_a_different_configuration(demos: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    _short_run(demos, run)
    shutil.rmtree(run / "plots")
    cmd = _command("airl", demos, run, "--resume", "--set", "disc_lr=0.01")
    cmd[cmd.index("--steps") + 1] = str(4 * 30 * 6)
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "disc_lr" in result.stderr
