"""Small file helpers: atomic writes, so an interrupted run never leaves half a file, and strict
JSON (no NaN or Infinity, which strict parsers reject: a non-finite number is written as null)."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any]) -> Path:
    """Calls `write(handle)` on a temporary binary file beside `path`, fsyncs it and moves it
    onto `path` with `os.replace`, so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` (UTF-8) to `path` atomically (see `atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


SCHEMA_VERSION = 1
"""The version of every JSON file irlgan writes in run folders (`schema_version`)."""


def strict_json(data: Any) -> Any:
    """`data` with every non-finite float replaced by None (tuples become lists)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {str(k): strict_json(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [strict_json(v) for v in data]
    if hasattr(data, "item") and getattr(data, "ndim", None) == 0:  # numpy / torch scalars
        return strict_json(data.item())
    return data


def json_text(data: Any) -> str:
    """Indented strict JSON (`strict_json`), ending in a newline."""
    return json.dumps(strict_json(data), indent=2, sort_keys=False, allow_nan=False) + "\n"


SOFTWARE_PACKAGES = ("irlgan", "torch", "numpy", "gymnasium", "mujoco")


def software_versions() -> dict[str, str | None]:
    """The versions a run's numbers depend on: Python's, the machine's architecture and each
    package of `SOFTWARE_PACKAGES` as installed (``None`` where it is not). A summary records
    them under ``software``: the same code and seed give the same numbers only on the same
    stack (a MuJoCo task's contacts, for one, can differ between physics-engine releases)."""
    import platform
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version(),
                                  "machine": platform.machine()}
    for name in SOFTWARE_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_json(path: str | os.PathLike, data: Any, *, schema: str | None = None) -> None:
    """Atomically writes `data` as indented strict JSON.

    With `schema` (e.g. ``"irlgan.summary"``), a dict gets ``"schema"`` and ``"schema_version"``
    keys first, so that a reader can tell what the file is and which version wrote it.
    """
    if schema is not None:
        if not isinstance(data, dict):
            raise ValueError("a JSON file with a schema must hold an object")
        data = {"schema": schema, "schema_version": SCHEMA_VERSION,
                **{k: v for k, v in data.items() if k not in ("schema", "schema_version")}}
    atomic_write_text(path, json_text(data))


def read_json_object(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object in `path`, or {} when there is no such file."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else {}


def update_json(path: str | os.PathLike, key: str, value: Any) -> None:
    """Sets one entry of the JSON object in `path` (created if missing), re-reading the file
    under an exclusive lock on ``<path>.lock``: processes that add results to the same file
    side by side (benchmark workers) lose none of them."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = read_json_object(path)
        stored[key] = value
        write_json(path, stored)


def write_csv(path: str | os.PathLike, rows: Sequence[dict[str, Any]]) -> None:
    """Atomically writes rows (dicts with the same keys) as CSV."""
    import io

    buffer = io.StringIO()
    if rows:
        fields = list(rows[0])
        for row in rows[1:]:
            fields += [k for k in row if k not in fields]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())
