"""The checks of benchmarks/peer_imitation.py that need no `imitation` virtualenv."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import irlgan

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "peer_imitation.py"


@pytest.fixture(scope="module")
def peer():
    spec = importlib.util.spec_from_file_location("bench_peer_imitation", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _demos(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    lengths = (3, 5)
    demos = irlgan.Demonstrations.from_arrays(
        [rng.standard_normal((n + 1, 3)).astype(np.float32) for n in lengths],
        [rng.uniform(-2, 2, (n, 1)).astype(np.float32) for n in lengths],
        terminated=[False, True], env_id="Pendulum-v1")
    return demos.save(tmp_path / "demos")


def test_bad_input_is_one_line_and_exit_code_2(peer, tmp_path, capsys):
    demos = _demos(tmp_path)
    assert peer.main(["--demos", str(demos), "--python", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: no imitation virtualenv python at {tmp_path / 'nope'} (give --python)"]
    python = sys.executable  # a python without imitation
    assert peer.main(["--demos", str(tmp_path / "missing"), "--python", python]) == 2
    missing = tmp_path / "missing"
    assert capsys.readouterr().err.strip() == f"error: no demonstrations folder at {missing}"
    assert peer.main(["--demos", str(demos), "--python", python, "--steps", "100"]) == 2
    assert "--steps must be at least 2048" in capsys.readouterr().err


def test_the_npz_keeps_every_episode_as_given(peer, tmp_path):
    demos = irlgan.Demonstrations.load(_demos(tmp_path))
    peer._write_npz(demos, tmp_path / "d.npz")
    data = np.load(tmp_path / "d.npz")
    assert data["lengths"].tolist() == [3, 5]
    assert data["terminated"].tolist() == [False, True]
    np.testing.assert_array_equal(data["observations"], np.concatenate(demos.observations))
    np.testing.assert_array_equal(data["actions"], np.concatenate(demos.actions))


@pytest.mark.slow
def test_irlgans_side_of_the_same_run_comparison(peer, tmp_path):
    # irlgan's AIRL through benchmarks/control.py's single run, on recorded Pendulum episodes
    from irlgan.rl import EVAL_SEED_BASE

    demos = irlgan.data.record("Pendulum-v1", lambda obs: (np.clip(-2 * obs[2:], -2, 2), None),
                               episodes=4, seed=3_000_000, references=False)
    seeds = list(range(EVAL_SEED_BASE, EVAL_SEED_BASE + 50))
    demos = demos.with_references(-150.0, -1200.0, seeds)
    folder = demos.save(tmp_path / "demos")
    ours = peer._irlgan_run("Pendulum-v1", folder, 0, tmp_path, steps=3200)
    assert ours is not None
    assert 3200 <= ours["env_steps"] <= 2 * 4096  # the budget reached the run (the preset: 500k)
    assert ours["normalised"] == pytest.approx((ours["return_mean"] + 1200.0) / 1050.0)
    assert 0 < ours["train_s"] < ours["process_s"]
    assert peer._irlgan_run("MountainCar-v0", folder, 0, tmp_path) is None  # no such task
