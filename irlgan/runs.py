"""Run folders: `config.json`, `checkpoints/`, `plots/`, `metrics.csv`, `summary.json`, `evals/`.

A run folder has one writer: `open_run` holds an exclusive lock on it for the command's life
(`RunLock`; released by the operating system when the process dies). A fresh run refuses a
folder that holds anything, so nothing is overwritten and old metrics never mix with new ones;
resuming requires the folder's `config.json` to equal the resumed run's configuration, with the
demonstrations compared by content hash; and a command that fails before training starts
removes what it created. `irlgan eval` writes to `evals/`, never over the training's files.

`MetricsLog` appends one CSV row per logged iteration and flushes it. A run killed mid-write can
leave a partial last line; `MetricsLog.truncate(after_iteration)`, called when resuming, rewrites
the file atomically with the complete rows up to the checkpoint's iteration, so the resumed run's
log has each iteration exactly once.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from irlgan._io import atomic_write_text, strict_json, write_json
from irlgan.errors import CheckpointError, RunFolderBusy

__all__ = ["LOCK_FILE", "MetricsLog", "RunFolder", "RunLock", "config_sha256", "eval_lock",
           "eval_path", "open_run", "prepare_run_dir", "read_config", "write_eval"]


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


SCHEMA_KEYS = ("schema", "schema_version")
LOCK_FILE = ".lock"
"""The lock file of a run folder (its content: the holder's process id)."""
_NOT_COMPARED = ("demos",)
"""config.json keys that may differ on resume: where the demonstrations were read from (they are
compared by content, through ``inputs.demos_sha256``)."""


def read_config(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The `config.json` of a run folder, without its schema keys (ValueError when it is missing
    or not a JSON object)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a run folder: it has no config.json")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path} is not valid JSON ({error}); the run folder is damaged") \
            from error
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} must hold a JSON object; the run folder is damaged")
    return {k: v for k, v in config.items() if k not in SCHEMA_KEYS}


def config_sha256(config: dict[str, Any]) -> str:
    """SHA-256 of a run's settings: canonical JSON (sorted keys) without the demonstrations'
    path and the recorded input hashes."""
    body = {k: v for k, v in _normalise(config).items() if k not in (*_NOT_COMPARED, "inputs")}
    text = json.dumps(strict_json(body), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RunLock:
    """An exclusive `flock` on `run_dir/.lock`, held for the life of a command.

    The operating system releases it when the process ends in any way (SIGKILL included), so a
    killed run never blocks its own `--resume`. A second process gets `RunFolderBusy` naming the
    holder's process id. The file stays (deleting lock files races with their next users).
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._fd: int | None = None
        self.created = False

    def acquire(self) -> RunLock:
        """Takes the lock (RunFolderBusy if another process holds it)."""
        existed = self.path.exists()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:
            if not existed:
                raise
            fd = os.open(self.path, os.O_RDONLY)  # a read-only folder can still be locked
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            finally:
                os.close(fd)
            raise RunFolderBusy(
                f"{self.run_dir} is in use by process {holder} (another irlgan command is "
                "writing it); wait for it to end, or choose another folder") from None
        self.created = not existed
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:  # read-only: the lock still holds
            pass
        self._fd = fd
        return self

    def release(self) -> None:
        """Releases the lock (closing the file)."""
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class RunFolder:
    """A run folder held (locked) by this command; see `open_run`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = False
        """Set once the run has something to keep (its first checkpoint): from then on a failure
        keeps the folder (metrics, last good checkpoint); before, everything this command
        created is removed again."""
        self._created: list[Path] = []

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def _remove_created(self) -> None:
        for path in reversed(self._created):
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
            except OSError:
                pass


def _first_missing_ancestor(path: Path) -> Path | None:
    """The outermost folder of `path` (itself included) that does not exist yet."""
    missing = None
    for candidate in [path, *path.parents]:
        if candidate.exists():
            break
        missing = candidate
    return missing


@contextmanager
def open_run(out: str | os.PathLike[str], config: dict[str, Any], *,
             resume: bool, resumable: bool = True) -> Iterator[RunFolder]:
    """Creates (or, with `resume`, reopens) a run folder and holds its lock while the body runs.

    * A fresh run needs an empty or new folder: a folder holding any other file (another run's
      `config.json`, `metrics.csv`, checkpoints, ...) is refused, so nothing is overwritten and no
      old metrics mix with new ones.
    * Resuming needs the folder's `config.json` to equal `config`, the demonstrations compared by
      content (``inputs.demos_sha256``), not by path.
    * If the body fails before it sets `RunFolder.started` (the trainers set it with their first
      checkpoint), everything this call created is removed again (the folder too, when it was
      new), so a failed command leaves nothing behind.

    `resumable=False` (a command without `--resume`, such as `irlgan expert`) only changes what
    the message for a used folder advises.

    Raises:
        ValueError: a fresh run in a used folder; resuming a folder that is not a run, or with
            other settings or demonstrations (the message names the differing keys).
        RunFolderBusy: another process holds the folder.
        OSError: the folder cannot be created or written.
    """
    run_dir = Path(out)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir} is a file, not a run folder")
    if resume and not (run_dir / "config.json").is_file():
        raise ValueError(f"cannot resume {run_dir}: there is no run there (no config.json); "
                         "leave out --resume to start one")
    folder = RunFolder(run_dir)
    new_root = _first_missing_ancestor(run_dir)
    if new_root is not None:
        run_dir.mkdir(parents=True)
        folder._created.append(new_root)
    lock = RunLock(run_dir)
    try:
        lock.acquire()
        if lock.created and new_root is None:
            folder._created.append(lock.path)
        config = _normalise(config)
        if resume:
            _check_same_run(run_dir, config)
        else:
            others = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK_FILE)
            if others:
                shown = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
                advice = ("pass --resume to continue the run there, or choose another folder"
                          if resumable else "choose another folder, or delete this one to "
                          "start again (this command cannot resume)")
                raise ValueError(f"{run_dir} already holds files ({shown}); {advice}")
            if new_root is None:
                folder._created.append(run_dir / "config.json")
            write_json(run_dir / "config.json", config, schema="irlgan.run-config")
        for sub in ("checkpoints", "plots"):
            if not (run_dir / sub).is_dir():
                if new_root is None:
                    folder._created.append(run_dir / sub)
                (run_dir / sub).mkdir()
        yield folder
    except BaseException:
        # A checkpoint on disk counts as started even if the signal that ends the run arrived
        # between its write and the trainer's `started = True`.
        if not folder.started and not any((run_dir / "checkpoints").glob("ckpt-*.pt")):
            folder._remove_created()
        raise
    finally:
        lock.release()


def _check_same_run(run_dir: Path, config: dict[str, Any]) -> None:
    saved_all = _normalise(read_config(run_dir))
    if saved_all.get("task") != config.get("task"):
        raise ValueError(f"cannot resume {run_dir}: it holds a {saved_all.get('task')!r} run, "
                         f"not a {config.get('task')!r} run")
    saved_inputs = saved_all.get("inputs") or {}
    now_inputs = config.get("inputs") or {}
    recorded, given = saved_inputs.get("demos_sha256"), now_inputs.get("demos_sha256")
    if recorded != given:
        raise ValueError(
            f"cannot resume {run_dir}: the demonstrations are not the ones it was trained on "
            f"(content sha256 {str(recorded)[:12]} recorded, {str(given)[:12]} now)")
    saved = _flatten({k: v for k, v in saved_all.items() if k not in _NOT_COMPARED})
    config = _flatten({k: v for k, v in config.items() if k not in _NOT_COMPARED})
    keys = sorted(set(saved) | set(config))
    differing = [k for k in keys if saved.get(k, "<missing>") != config.get(k, "<missing>")]
    if differing:
        details = ", ".join(
            f"{k}: saved {saved.get(k, '<missing>')!r} vs now {config.get(k, '<missing>')!r}"
            for k in differing
        )
        raise ValueError(f"cannot resume {run_dir}: the configuration differs ({details})")


def prepare_run_dir(
    out: str | os.PathLike[str], config: dict[str, Any], *, resume: bool
) -> Path:
    """Creates (or, with `resume`, checks) a run folder without holding it: `open_run` for
    callers that only need the checks (tests, tools). Raises like `open_run`."""
    with open_run(out, config, resume=resume) as folder:
        folder.started = True
    return folder.path


@contextmanager
def eval_lock(run_dir: Path) -> Iterator[None]:
    """The run folder's lock for an evaluation (RunFolderBusy while the run trains); a folder
    that cannot be locked at all (read-only, no lock file) is evaluated without it."""
    lock = RunLock(run_dir)
    try:
        lock.acquire()
    except OSError:
        yield
        return
    try:
        yield
    finally:
        lock.release()


def write_eval(run_dir: str | os.PathLike[str], name: str, result: dict[str, Any],
               output: str | os.PathLike[str] | None = None) -> Path:
    """Writes an evaluation `result` to `output`, or to `eval_path(run_dir, name)`, recording
    where in ``written_to``. An OSError carries the computed result as `error.result`, so that
    the command line can still print it."""
    target = Path(output) if output is not None else eval_path(run_dir, name)
    result["written_to"] = str(target)
    try:
        write_json(target, result, schema="irlgan.eval")
    except OSError as error:
        error.result = result  # type: ignore[attr-defined]
        raise
    return target


def eval_path(run_dir: str | os.PathLike[str], name: str) -> Path:
    """`run_dir/evals/<name>.json`: where `irlgan eval` writes its result (never over the
    training's summary.json)."""
    return Path(run_dir) / "evals" / f"{name}.json"


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
        self.columns = self.fieldnames  # those of the file (fewer for an older run's file)
        if not self.path.is_file() or self.path.stat().st_size == 0:
            self._rewrite([])
        else:
            try:
                with self.path.open(newline="", encoding="utf-8") as handle:
                    header = next(csv.reader(handle), [])
            except (UnicodeDecodeError, csv.Error) as error:
                raise CheckpointError(f"{self.path} is not a readable CSV file ({error}); the "
                                      "run folder is damaged") from None
            if header != self.fieldnames:
                if "iteration" in header and set(header) < set(self.fieldnames):
                    # written by an earlier version with fewer columns: a resumed run keeps
                    # the file's columns (the new ones are left out of it)
                    self.columns = header
                    return
                shown = ",".join(header)[:80]
                raise CheckpointError(
                    f"{self.path} has the columns '{shown}', not those of this run's metrics; "
                    "the run folder is damaged or holds another program's file")

    def append(self, row: dict[str, Any]) -> None:
        """Writes one row (unknown keys are an error; missing keys are left empty)."""
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(f"unknown metric columns {sorted(unknown)}")
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns, extrasaction="ignore").writerow(row)
            handle.flush()
            os.fsync(handle.fileno())

    def rows(self) -> list[dict[str, str]]:
        """The complete rows in the file (a partial last line is left out)."""
        try:
            with self.path.open(newline="", encoding="utf-8") as handle:
                text = handle.read()
        except UnicodeDecodeError as error:
            raise CheckpointError(f"{self.path} is not a readable CSV file ({error}); the run "
                                  "folder is damaged") from None
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
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buffer.getvalue())
