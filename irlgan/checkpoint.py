"""Checkpoints: atomic writes, safe loads, random-number-generator states.

A checkpoint is a `torch.save` file of a plain payload (nested dicts and lists of tensors, numbers,
strings, booleans and None) wrapped with a header that names the format and the kind of run that
wrote it. It is read back with `torch.load(..., weights_only=True)`, so loading one never runs
code, and a file that is truncated, corrupt, written by something else or by another kind of run
raises `CheckpointError` with a message that says which.

Files are written to a temporary file in the same folder, flushed to disk and renamed over the
target (`os.replace` is atomic on POSIX), so a run killed at any moment leaves either the old
checkpoint or the new one, never half of one.

Layout inside a run folder: `checkpoints/ckpt-00000012.pt` for the state after iteration 12.
"""

from __future__ import annotations

import os
import random
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from irlgan._io import atomic_write
from irlgan.errors import CheckpointError

__all__ = [
    "CheckpointError",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "capture_rng",
    "checkpoint_path",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "numpy_generator_state",
    "prune_checkpoints",
    "restore_rng",
    "save_checkpoint",
    "set_numpy_generator_state",
]

FORMAT_NAME = "irlgan-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^ckpt-(\d{8})\.pt$")


def checkpoint_path(run_dir: str | os.PathLike[str], iteration: int) -> Path:
    """`run_dir/checkpoints/ckpt-XXXXXXXX.pt`, the checkpoint after `iteration`."""
    if not isinstance(iteration, int) or isinstance(iteration, bool) or iteration < 0:
        raise ValueError(f"iteration must be a non-negative integer, got {iteration!r}")
    return Path(run_dir) / "checkpoints" / f"ckpt-{iteration:08d}.pt"


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any], *, kind: str) -> Path:
    """Writes `payload` atomically to `path` and returns the path.

    Args:
        path: the target file; its folder is created if needed.
        payload: a dict of tensors, numbers, strings, booleans, None and nested lists/dicts of
            them (what `torch.load(weights_only=True)` accepts).
        kind: the kind of run, e.g. "control" or "density"; `load_checkpoint` can require it.
    """
    if not isinstance(payload, dict):
        raise ValueError(f"payload must be a dict, got {type(payload).__name__}")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "kind": kind,
              "payload": payload}
    atomic_write(path, lambda handle: torch.save(record, handle))
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike[str], *, kind: str | None = None) -> dict[str, Any]:
    """Reads a checkpoint written by `save_checkpoint` and returns its payload.

    Raises:
        CheckpointError: the file is missing, is not a torch file, is truncated or corrupt, holds
            objects that a weights-only load refuses, was not written by irlgan, has an unknown
            format version, or (when `kind` is given) was written by another kind of run.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    with path.open("rb") as handle:  # a file that cannot be opened is an I/O error (OSError)
        handle.read(1)
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - every failure becomes one clear message
        raise CheckpointError(f"checkpoint {path} cannot be read: {_reason(path, error)}") \
            from error
    if not isinstance(record, dict) or record.get("format") != FORMAT_NAME:
        raise CheckpointError(
            f"checkpoint {path} was not written by irlgan (no '{FORMAT_NAME}' header)"
        )
    if record.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {record.get('format_version')!r}; this "
            f"irlgan reads version {FORMAT_VERSION}"
        )
    if kind is not None and record.get("kind") != kind:
        raise CheckpointError(
            f"checkpoint {path} belongs to a {record.get('kind')!r} run, not a {kind!r} run"
        )
    payload = record.get("payload")
    if not isinstance(payload, dict):
        raise CheckpointError(f"checkpoint {path} has no payload")
    return payload


def _reason(path: Path, error: Exception) -> str:
    """Why torch could not read a file, in our words: torch's own messages suggest reloading
    with `weights_only=False`, which would run whatever code the file holds."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04":  # torch.save always writes a zip archive
        return "it is not a torch archive (corrupt, or a file of another program)"
    text = str(error)
    if "weights_only" in text or "Unsupported global" in text or "pickle" in text.lower():
        return ("it holds Python objects other than tensors and plain data, which irlgan never "
                "writes and will not run (a foreign or tampered file)")
    if "zip" in text.lower() or "archive" in text.lower() or "EOF" in text or "truncat" in text:
        return "it is not a complete torch archive (truncated or corrupt)"
    return "it is corrupt or not a torch file"


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """(iteration, path) of every checkpoint file in `run_dir/checkpoints`, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match and entry.is_file():
            found.append((int(match.group(1)), entry))
    return sorted(found)


def latest_checkpoint(
    run_dir: str | os.PathLike[str], *, kind: str | None = None
) -> Path | None:
    """The newest checkpoint in `run_dir` that loads, or None when there is none.

    A newer file that fails to load is skipped with a warning naming it (it cannot be a
    half-written file of ours, since writes are atomic, but a disk can still corrupt one).
    """
    for _, path in reversed(list_checkpoints(run_dir)):
        try:
            load_checkpoint(path, kind=kind)
        except CheckpointError as error:
            warnings.warn(f"skipping unreadable checkpoint: {error}", stacklevel=2)
            continue
        return path
    return None


def prune_checkpoints(run_dir: str | os.PathLike[str], keep: int = 2) -> None:
    """Deletes all but the newest `keep` checkpoints of `run_dir`."""
    if not isinstance(keep, int) or keep < 1:
        raise ValueError(f"keep must be a positive integer, got {keep!r}")
    for _, path in list_checkpoints(run_dir)[:-keep]:
        path.unlink(missing_ok=True)


def capture_rng() -> dict[str, Any]:
    """The states of Python's `random`, NumPy's global RNG and torch's CPU RNG."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 - third-party code uses it
    return {
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Restores the generator states captured by `capture_rng`."""
    try:
        py, nps = state["python"], state["numpy"]
        random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
        keys = nps["keys"].numpy().astype(np.uint32)
        legacy = (nps["name"], keys, nps["pos"], nps["has_gauss"], nps["cached"])
        np.random.set_state(legacy)  # noqa: NPY002 - third-party code uses it
        torch.set_rng_state(state["torch"])
    except (KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(f"random-generator state is incomplete or malformed: {error}") \
            from error


def numpy_generator_state(generator: np.random.Generator) -> dict[str, Any]:
    """The state of a `numpy.random.Generator`, in a form a weights-only load accepts."""
    if not isinstance(generator, np.random.Generator):
        raise ValueError(f"generator must be a numpy.random.Generator, got {generator!r}")
    return dict(generator.bit_generator.state)


def set_numpy_generator_state(generator: np.random.Generator, state: dict[str, Any]) -> None:
    """Restores a state from `numpy_generator_state` into `generator` (same bit generator)."""
    if not isinstance(generator, np.random.Generator):
        raise ValueError(f"generator must be a numpy.random.Generator, got {generator!r}")
    try:
        generator.bit_generator.state = state
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"numpy generator state does not fit: {error}") from error
