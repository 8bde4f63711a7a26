"""Demonstrations: sampling, the on-disk format and its validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from irlgan.data import (
    ARRAYS_FILE,
    METADATA_FILE,
    TabularDemonstrations,
    load_demonstrations,
    sample_demonstrations,
    save_demonstrations,
)
from irlgan.envs import default_grid_problem
from irlgan.tabular import TabularMDP, trajectory_cost


@pytest.fixture(scope="module")
def problem():
    return default_grid_problem()


@pytest.fixture()
def demos(problem) -> TabularDemonstrations:
    return sample_demonstrations(problem.mdp, problem.cost, 20, seed=3, env_id=problem.name)


def test_sampling_is_seeded_and_returns_are_minus_cost(problem, demos) -> None:
    mdp, cost = problem
    again = sample_demonstrations(mdp, cost, 20, seed=3, env_id=problem.name)
    assert torch.equal(again.states, demos.states) and torch.equal(again.actions, demos.actions)
    other = sample_demonstrations(mdp, cost, 20, seed=4)
    assert not torch.equal(other.actions, demos.actions)
    assert demos.states.shape == (20, mdp.horizon + 1) and demos.states.dtype == torch.int64
    assert demos.actions.shape == (20, mdp.horizon) and demos.actions.dtype == torch.int64
    assert demos.returns.dtype == torch.float64
    torch.testing.assert_close(demos.returns, -trajectory_cost(cost, demos.states, demos.actions))
    assert demos.count == 20 and demos.seed == 3 and demos.env_id == "irlgan/GridWorld-v0"
    demos.check_dynamics(mdp)


def test_round_trip(tmp_path: Path, problem, demos) -> None:
    directory = save_demonstrations(demos, tmp_path / "nested" / "demos")
    assert sorted(path.name for path in directory.iterdir()) == [ARRAYS_FILE, METADATA_FILE]
    loaded = load_demonstrations(directory, mdp=problem.mdp)
    assert torch.equal(loaded.states, demos.states)
    assert torch.equal(loaded.actions, demos.actions)
    assert torch.equal(loaded.returns, demos.returns)
    assert loaded.metadata() == demos.metadata()
    metadata = json.loads((directory / METADATA_FILE).read_text())
    assert metadata["count"] == 20 and metadata["format_version"] == 1
    # Overwriting in place works and leaves no temporary files behind.
    save_demonstrations(demos, directory)
    assert len(list(directory.iterdir())) == 2


def _rewrite_metadata(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def corrupt(directory: Path) -> None:
        path = directory / METADATA_FILE
        metadata = json.loads(path.read_text())
        change(metadata)
        path.write_text(json.dumps(metadata))

    return corrupt


def _rewrite_arrays(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def corrupt(directory: Path) -> None:
        path = directory / ARRAYS_FILE
        with np.load(path) as archive:
            arrays = {key: archive[key] for key in archive.files}
        change(arrays)
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    return corrupt


def _set(key: str, value) -> Callable[[dict], None]:
    def change(mapping: dict) -> None:
        mapping[key] = value

    return change


def _delete(key: str) -> Callable[[dict], None]:
    def change(mapping: dict) -> None:
        del mapping[key]

    return change


def _shift_state(arrays: dict) -> None:
    arrays["states"][0, 3] = arrays["states"][0, 3] ^ 1


CORRUPTIONS = {
    "metadata not json": (
        lambda d: (d / METADATA_FILE).write_text("{not json"),
        METADATA_FILE,
        "JSON",
    ),
    "metadata missing field": (_rewrite_metadata(_delete("horizon")), METADATA_FILE, "horizon"),
    "metadata wrong version": (
        _rewrite_metadata(_set("format_version", 2)),
        METADATA_FILE,
        "format_version",
    ),
    "metadata wrong format": (_rewrite_metadata(_set("format", "x")), METADATA_FILE, "format"),
    "metadata bad count": (_rewrite_metadata(_set("count", "20")), METADATA_FILE, "count"),
    "count mismatch": (_rewrite_metadata(_set("count", 21)), ARRAYS_FILE, "count=21"),
    "horizon mismatch": (_rewrite_metadata(_set("horizon", 5)), ARRAYS_FILE, "shape"),
    "missing key": (_rewrite_arrays(_delete("returns")), ARRAYS_FILE, "keys"),
    "extra key": (_rewrite_arrays(_set("weights", np.zeros(3))), ARRAYS_FILE, "keys"),
    "wrong dtype": (
        _rewrite_arrays(lambda a: a.update(states=a["states"].astype(np.int32))),
        ARRAYS_FILE,
        "states",
    ),
    "wrong shape": (
        _rewrite_arrays(lambda a: a.update(actions=a["actions"][:, :-1])),
        ARRAYS_FILE,
        "actions",
    ),
    "state out of range": (
        _rewrite_arrays(lambda a: a["states"].__setitem__((0, 0), 999)),
        ARRAYS_FILE,
        "states",
    ),
    "negative action": (
        _rewrite_arrays(lambda a: a["actions"].__setitem__((1, 1), -1)),
        ARRAYS_FILE,
        "actions",
    ),
    "non-finite return": (
        _rewrite_arrays(lambda a: a["returns"].__setitem__(0, np.nan)),
        ARRAYS_FILE,
        "returns",
    ),
    "object array": (
        _rewrite_arrays(lambda a: a.update(returns=np.array([None] * 20, dtype=object))),
        ARRAYS_FILE,
        "'returns' cannot be read",
    ),
    "truncated archive": (
        lambda d: (d / ARRAYS_FILE).write_bytes((d / ARRAYS_FILE).read_bytes()[:100]),
        ARRAYS_FILE,
        "npz",
    ),
    "off the dynamics": (_rewrite_arrays(_shift_state), ARRAYS_FILE, "dynamics"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corruptions_give_clear_errors(tmp_path: Path, problem, demos, name: str) -> None:
    corrupt, file_named, field_named = CORRUPTIONS[name]
    directory = save_demonstrations(demos, tmp_path / "demos")
    corrupt(directory)
    with pytest.raises(ValueError) as error:
        load_demonstrations(directory, mdp=problem.mdp)
    message = str(error.value)
    assert file_named in message
    assert field_named in message


@pytest.mark.parametrize("missing", [ARRAYS_FILE, METADATA_FILE])
def test_missing_files(tmp_path: Path, demos, missing: str) -> None:
    directory = save_demonstrations(demos, tmp_path / "demos")
    (directory / missing).unlink()
    with pytest.raises(FileNotFoundError, match=missing):
        load_demonstrations(directory)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_demonstrations(tmp_path / "nowhere")


def test_mdp_size_mismatch(tmp_path: Path, demos, problem) -> None:
    directory = save_demonstrations(demos, tmp_path / "demos")
    shorter = problem.mdp.with_horizon(problem.mdp.horizon - 1)
    with pytest.raises(ValueError, match="horizon"):
        load_demonstrations(directory, mdp=shorter)
    other = TabularMDP(
        torch.zeros(3, 5, dtype=torch.int64),
        torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64),
        problem.mdp.horizon,
    )
    with pytest.raises(ValueError, match="num_states"):
        load_demonstrations(directory, mdp=other)


def test_demonstrations_validate_when_built(demos) -> None:
    fields = {
        "states": demos.states,
        "actions": demos.actions,
        "returns": demos.returns,
        "env_id": "x",
        "horizon": demos.horizon,
        "seed": 0,
        "num_states": demos.num_states,
        "num_actions": demos.num_actions,
    }
    TabularDemonstrations(**fields)
    for key, value, match in [
        ("states", demos.states.int(), "states"),
        ("actions", demos.actions[:, :-1], "actions"),
        ("returns", demos.returns[:-1], "returns"),
        ("horizon", 0, "horizon"),
        ("seed", 1.5, "seed"),
        ("num_actions", 2, "actions"),
    ]:
        with pytest.raises(ValueError, match=match):
            TabularDemonstrations(**{**fields, key: value})
