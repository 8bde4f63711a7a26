"""Continuous demonstrations: round trip through disk, padding and masks, strict validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from irlgan.data import (
    ContinuousDemonstrations,
    load_continuous_demonstrations,
    load_demonstrations,
    save_continuous_demonstrations,
)


def _episodes(lengths=(3, 5, 1), seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(n + 1, 3)).astype(np.float32), rng.normal(size=(n, 2)), float(-n))
        for n in lengths
    ]


def _demos(**kwargs) -> ContinuousDemonstrations:
    return ContinuousDemonstrations.from_episodes(
        _episodes(), "Pendulum-v1", seed=4, deterministic=False, expert_return=-150.0,
        random_return=-1200.0, **kwargs,
    )


def test_from_episodes_pads_with_zeros_and_masks():
    episodes = _episodes()
    demos = _demos()
    assert (demos.count, demos.horizon, demos.obs_dim, demos.act_dim) == (3, 5, 3, 2)
    assert demos.lengths.tolist() == [3, 5, 1]
    assert demos.mask.tolist()[0] == [True, True, True, False, False]
    for i, (obs, act, ret) in enumerate(episodes):
        n = act.shape[0]
        np.testing.assert_array_equal(demos.obs[i, : n + 1].numpy(), obs)
        np.testing.assert_array_equal(demos.actions[i, :n].numpy(), act.astype(np.float32))
        assert (demos.obs[i, n + 1:] == 0).all() and (demos.actions[i, n:] == 0).all()
        assert float(demos.returns[i]) == ret


def test_round_trip_through_disk_is_exact(tmp_path):
    demos = _demos()
    save_continuous_demonstrations(demos, tmp_path / "d")
    loaded = load_continuous_demonstrations(tmp_path / "d")
    for key in ("obs", "actions", "lengths", "returns"):
        assert torch.equal(getattr(loaded, key), getattr(demos, key)), key
    assert loaded.metadata() == demos.metadata()
    assert loaded.expert_return == -150.0 and loaded.random_return == -1200.0
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["arrays.npz", "metadata.json"]


def test_the_tabular_loader_refuses_continuous_files_and_vice_versa(tmp_path):
    save_continuous_demonstrations(_demos(), tmp_path / "c")
    with pytest.raises(ValueError, match="metadata.json"):
        load_demonstrations(tmp_path / "c")
    meta = json.loads((tmp_path / "c" / "metadata.json").read_text())
    meta["format"] = "irlgan.demonstrations"
    (tmp_path / "c" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format"):
        load_continuous_demonstrations(tmp_path / "c")


def _rewrite_arrays(directory, **changes):
    with np.load(directory / "arrays.npz") as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays.update(changes)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(directory / "arrays.npz", **arrays)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"obs": np.zeros((3, 6, 3))}, "dtype"),
        ({"lengths": np.array([3, 6, 1])}, "lengths"),
        ({"lengths": np.array([3, 4, 1])}, "zero beyond"),
        ({"returns": np.array([0.0, np.nan, 1.0])}, "finite"),
        ({"returns": None}, "keys"),
        ({"actions": np.zeros((3, 4, 2), dtype=np.float32)}, "shape"),
    ],
)
def test_malformed_arrays_are_rejected_naming_the_field(tmp_path, changes, message):
    save_continuous_demonstrations(_demos(), tmp_path)
    _rewrite_arrays(tmp_path, **changes)
    with pytest.raises(ValueError, match=message):
        load_continuous_demonstrations(tmp_path)


@pytest.mark.parametrize(
    "key, value, message",
    [("count", 0, "count"), ("format_version", 2, "format_version"),
     ("expert_return", "x", "expert_return"), ("deterministic", 1, "deterministic")],
)
def test_malformed_metadata_is_rejected(tmp_path, key, value, message):
    save_continuous_demonstrations(_demos(), tmp_path)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    meta[key] = value
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=message):
        load_continuous_demonstrations(tmp_path)


def test_missing_files_and_bad_construction(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_continuous_demonstrations(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="file not found"):
        load_continuous_demonstrations(tmp_path / "empty")
    with pytest.raises(ValueError, match="empty"):
        ContinuousDemonstrations.from_episodes([], "x")
    demos = _demos()
    with pytest.raises(ValueError, match="obs must have shape"):
        ContinuousDemonstrations(demos.obs[:, :-1], demos.actions, demos.lengths, demos.returns,
                                 "x")
    with pytest.raises(ValueError, match="ContinuousDemonstrations"):
        save_continuous_demonstrations("not demos", tmp_path / "out")
