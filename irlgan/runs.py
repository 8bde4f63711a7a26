"""Run folders: `config.json`, `checkpoints/`, `plots/`, `metrics.csv` and `summary.json`.

A run folder is created by `prepare_run_dir`. Resuming requires the folder's `config.json` to
equal the configuration of the resumed run, so that a resumed run cannot silently continue with
different settings; starting afresh refuses a folder that already holds checkpoints, so that
nothing is overwritten by mistake.

`MetricsLog` appends one CSV row per logged iteration and flushes it. A run killed mid-write can
leave a partial last line; `MetricsLog.truncate(after_iteration)`, called when resuming, rewrites
the file atomically with the complete rows up to the checkpoint's iteration, so the resumed run's
log has each iteration exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from irlgan._io import atomic_write_text, write_json
from irlgan.checkpoint import list_checkpoints

__all__ = ["MetricsLog", "prepare_run_dir", "read_config"]


def _normalise(value: Any) -> Any:
    """The JSON round trip of `value`, so that tuples compare equal to lists."""
    return json.loads(json.dumps(value))


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one level of dotted keys ({"a": {"b": 1}} -> {"a.b": 1})."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def read_config(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The `config.json` of a run folder (ValueError when it is missing or not JSON)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a run folder: it has no config.json")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return config


def prepare_run_dir(
    out: str | os.PathLike[str], config: dict[str, Any], *, resume: bool
) -> Path:
    """Creates (or, with `resume`, checks) a run folder and returns its path.

    Args:
        out: the run folder.
        config: the run's full configuration (JSON-serialisable); written to `config.json`.
        resume: continue an existing run: `config.json` must exist and equal `config`.

    Raises:
        ValueError: resuming a folder without `config.json` or with a different configuration
            (the message names the differing keys), or starting afresh in a folder that already
            holds checkpoints.
    """
    run_dir = Path(out)
    config = _normalise(config)
    if resume:
        saved = _flatten(_normalise(read_config(run_dir)))
        config = _flatten(config)
        keys = sorted(set(saved) | set(config))
        differing = [k for k in keys if saved.get(k, "<missing>") != config.get(k, "<missing>")]
        if differing:
            details = ", ".join(
                f"{k}: saved {saved.get(k, '<missing>')!r} vs now {config.get(k, '<missing>')!r}"
                for k in differing
            )
            raise ValueError(f"cannot resume {run_dir}: the configuration differs ({details})")
    else:
        if list_checkpoints(run_dir):
            raise ValueError(
                f"{run_dir} already holds checkpoints of a run; pass --resume to continue it or "
                "choose another --out"
            )
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "config.json", config)
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    (run_dir / "plots").mkdir(parents=True, exist_ok=True)
    return run_dir


class MetricsLog:
    """Appends rows to a CSV file with fixed columns, one flushed line per row.

    Args:
        path: the CSV file (created with a header line if missing or empty).
        fieldnames: the columns; the first rows's keys must be among them. An "iteration" column
            is required so that `truncate` can cut the log back to a checkpoint.
    """

    def __init__(self, path: str | os.PathLike[str], fieldnames: Sequence[str]) -> None:
        self.path = Path(path)
        self.fieldnames = list(fieldnames)
        if "iteration" not in self.fieldnames:
            raise ValueError("fieldnames must include 'iteration'")
        if len(set(self.fieldnames)) != len(self.fieldnames):
            raise ValueError(f"fieldnames must be distinct, got {self.fieldnames}")
        if not self.path.is_file() or self.path.stat().st_size == 0:
            self._rewrite([])
        else:
            with self.path.open(newline="") as handle:
                header = next(csv.reader(handle), [])
            if header != self.fieldnames:
                raise ValueError(
                    f"{self.path} has columns {header}, expected {self.fieldnames}"
                )

    def append(self, row: dict[str, Any]) -> None:
        """Writes one row (unknown keys are an error; missing keys are left empty)."""
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(f"unknown metric columns {sorted(unknown)}")
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.fieldnames).writerow(row)
            handle.flush()
            os.fsync(handle.fileno())

    def rows(self) -> list[dict[str, str]]:
        """The complete rows in the file (a partial last line is left out)."""
        with self.path.open(newline="") as handle:
            text = handle.read()
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines = lines[:-1]
        reader = csv.DictReader(io.StringIO("".join(lines)))
        return [r for r in reader if None not in r and None not in r.values()]

    def truncate(self, after_iteration: int) -> None:
        """Keeps the complete rows whose iteration is at most `after_iteration`."""
        kept = []
        for row in self.rows():
            try:
                iteration = float(row["iteration"])
            except ValueError:
                continue
            if math.isfinite(iteration) and iteration <= after_iteration:
                kept.append(row)
        self._rewrite(kept)

    def _rewrite(self, rows: list[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.fieldnames)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buffer.getvalue())
