"""Checkpoints: atomic round trips, clear errors for bad files, RNG capture."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from irlgan.checkpoint import (
    CheckpointError,
    capture_rng,
    checkpoint_path,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    numpy_generator_state,
    prune_checkpoints,
    restore_rng,
    save_checkpoint,
    set_numpy_generator_state,
)


def _payload() -> dict:
    return {"weights": torch.arange(6.0).reshape(2, 3), "step": 7, "lr": 0.5, "name": "x",
            "flags": [True, None], "nested": {"t": torch.tensor([1, 2])}}


def test_round_trip_preserves_every_value(tmp_path):
    path = save_checkpoint(checkpoint_path(tmp_path, 7), _payload(), kind="control")
    assert path.name == "ckpt-00000007.pt"
    loaded = load_checkpoint(path, kind="control")
    assert torch.equal(loaded["weights"], _payload()["weights"])
    assert torch.equal(loaded["nested"]["t"], torch.tensor([1, 2]))
    assert (loaded["step"], loaded["lr"], loaded["name"], loaded["flags"]) == (7, 0.5, "x",
                                                                                [True, None])


def test_no_temporary_files_are_left(tmp_path):
    save_checkpoint(tmp_path / "a.pt", _payload(), kind="density")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]


def test_truncated_file_is_named_as_corrupt(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", _payload(), kind="control")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(path)


def test_foreign_torch_file_is_refused(tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not written by irlgan"):
        load_checkpoint(tmp_path / "other.pt")


def test_pickled_object_is_refused_by_weights_only_load(tmp_path):
    torch.save({"format": "irlgan-checkpoint", "format_version": 1, "kind": "control",
                "payload": {"f": _Unsafe()}}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(tmp_path / "evil.pt")


class _Unsafe:
    pass


def test_wrong_kind_missing_file_and_text_file(tmp_path):
    path = save_checkpoint(tmp_path / "a.pt", _payload(), kind="control")
    with pytest.raises(CheckpointError, match="'control' run, not a 'density' run"):
        load_checkpoint(path, kind="density")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "text.pt")


def test_latest_skips_a_corrupt_newer_file_and_prune_keeps_the_newest(tmp_path):
    for it in (1, 5, 12):
        save_checkpoint(checkpoint_path(tmp_path, it), {"it": it}, kind="control")
    assert latest_checkpoint(tmp_path) == checkpoint_path(tmp_path, 12)
    checkpoint_path(tmp_path, 20).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="skipping unreadable checkpoint"):
        assert latest_checkpoint(tmp_path) == checkpoint_path(tmp_path, 12)
    prune_checkpoints(tmp_path, keep=2)
    assert [it for it, _ in list_checkpoints(tmp_path)] == [12, 20]
    assert latest_checkpoint(tmp_path / "nowhere") is None


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="payload"):
        save_checkpoint(tmp_path / "a.pt", [1], kind="control")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        save_checkpoint(tmp_path / "a.pt", {}, kind="")
    with pytest.raises(ValueError, match="iteration"):
        checkpoint_path(tmp_path, -1)
    with pytest.raises(ValueError, match="keep"):
        prune_checkpoints(tmp_path, keep=0)


def test_rng_states_survive_a_checkpoint(tmp_path):
    random.seed(3)
    np.random.seed(4)  # noqa: NPY002 - the global state is what is being captured
    torch.manual_seed(5)
    state = capture_rng()
    expected = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    path = save_checkpoint(tmp_path / "rng.pt", {"rng": state}, kind="control")
    random.random(), np.random.rand(), torch.rand(8)  # noqa: NPY002 - move every state on
    restore_rng(load_checkpoint(path)["rng"])
    again = (random.random(), np.random.rand(), torch.rand(3))  # noqa: NPY002
    assert expected[:2] == again[:2] and torch.equal(expected[2], again[2])


def test_numpy_generator_state_round_trip(tmp_path):
    gen = np.random.default_rng(11)
    gen.normal(size=5)
    path = save_checkpoint(tmp_path / "g.pt", {"g": numpy_generator_state(gen)}, kind="x")
    expected = gen.normal(size=4)
    other = np.random.default_rng(0)
    set_numpy_generator_state(other, load_checkpoint(path)["g"])
    np.testing.assert_array_equal(other.normal(size=4), expected)
    with pytest.raises(CheckpointError):
        set_numpy_generator_state(np.random.Generator(np.random.MT19937(0)),
                                  numpy_generator_state(gen))
