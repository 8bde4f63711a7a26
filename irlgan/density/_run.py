"""A training run on disk: run folder, checkpoints, resume, metrics, plots and summary."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from irlgan._io import software_versions, write_json
from irlgan.checkpoint import (
    checkpoint_path,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from irlgan.config import config_to_dict
from irlgan.density._plots import plot_run
from irlgan.density._train import METRIC_FIELDS, DensityConfig, DensityTrainer, evaluate_density
from irlgan.errors import VALUE_LIMIT, CheckpointError, DivergenceError, check_divergence
from irlgan.runs import (
    MetricsLog,
    RunFolder,
    config_sha256,
    eval_lock,
    open_run,
    read_config,
    write_eval,
)
from irlgan.schedule import run_iterations

__all__ = ["CHECKPOINT_KIND", "evaluate_run", "load_run", "run_config", "train_run"]

CHECKPOINT_KIND = "irlgan-density"


def run_config(config: DensityConfig, seed: int) -> dict[str, Any]:
    """The content of config.json: the task, the seed, every setting, and under ``inputs`` the
    settings' content hash (also stored in every checkpoint)."""
    out = {"task": "density", "seed": int(seed), **config_to_dict(config)}
    out["inputs"] = {"config_sha256": config_sha256(out)}
    return out


def config_from_run(saved: dict[str, Any]) -> tuple[DensityConfig, int]:
    """Rebuilds (config, seed) from a run folder's config.json."""
    if saved.get("task") != "density":
        raise ValueError(f"config.json has task {saved.get('task')!r}, expected 'density'")
    names = {f.name for f in dataclasses.fields(DensityConfig)}
    unknown = sorted(set(saved) - names - {"task", "seed", "inputs"})
    if unknown:
        raise CheckpointError(f"config.json has fields {unknown} that no density setting has")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in names}
    return DensityConfig(**kwargs), int(saved.get("seed", 0))


def _save(trainer: DensityTrainer, run_dir: Path, inputs: dict[str, Any]) -> None:
    save_checkpoint(checkpoint_path(run_dir, trainer.iteration),
                    {**trainer.state_dict(), "inputs": inputs}, kind=CHECKPOINT_KIND)
    prune_checkpoints(run_dir, keep=2)


def _restore(trainer: DensityTrainer, path: Path, inputs: dict[str, Any] | None, *,
             for_eval: bool = False) -> None:
    """Loads a checkpoint into `trainer`, refusing one of another run (CheckpointError).

    With `for_eval` the training's random state is left out, so a checkpoint written on one
    device can be evaluated on another."""
    payload = load_checkpoint(path, kind=CHECKPOINT_KIND)
    if for_eval:
        payload.pop("generator", None)
        payload.pop("device", None)
    recorded = payload.pop("inputs", None)
    if recorded is not None and inputs is not None and recorded != inputs:
        raise CheckpointError(f"checkpoint {path} was written by a run with other settings "
                              f"(config sha256 {str(recorded.get('config_sha256'))[:12]}, this "
                              f"run {str(inputs.get('config_sha256'))[:12]})")
    try:
        trainer.load_state_dict(payload)
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
        text = str(error).strip().splitlines()
        raise CheckpointError(f"checkpoint {path} does not fit this run: "
                              f"{type(error).__name__}: {text[0] if text else ''}") from error


def train_run(
    config: DensityConfig,
    out: str | Path,
    *,
    seed: int = 0,
    resume: bool = False,
    quiet: bool = False,
    stop_after: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, Any] | None:
    """Trains (or continues) a run in folder `out` and writes its summary.

    Args:
        config: the run's settings.
        out: the run folder.
        seed: the run's seed.
        resume: continue from the newest checkpoint (config.json must match).
        quiet: no progress bar.
        stop_after: stop (with a checkpoint, without a summary) once this many iterations are
            done, as a kill would; for tests of resuming.
        device: where to train (`DensityTrainer`; the CPU by default). A run resumes on the
            device type it was started on.

    Returns:
        The summary dict, or None when stopped early by `stop_after`.
    """
    saved = run_config(config, seed)
    inputs = saved["inputs"]
    trainer = DensityTrainer(config, seed, device)
    with open_run(out, saved, resume=resume) as folder:
        run_dir = folder.path
        log = MetricsLog(run_dir / "metrics.csv", METRIC_FIELDS)
        if resume:
            path = latest_checkpoint(run_dir, kind=CHECKPOINT_KIND)
            if path is None and list_checkpoints(run_dir):
                # every checkpoint is unreadable: say why instead of starting over
                load_checkpoint(list_checkpoints(run_dir)[-1][1], kind=CHECKPOINT_KIND)
            if path is not None:
                _restore(trainer, path, inputs)
            log.truncate(trainer.iteration)
        folder.started = resume
        return _train(trainer, config, folder, log, inputs, quiet, stop_after)


def _train(trainer: DensityTrainer, config: DensityConfig, folder: RunFolder, log: MetricsLog,
           inputs: dict[str, Any], quiet: bool, stop_after: int | None) -> dict[str, Any] | None:
    total = config.total_iterations
    run_dir = folder.path
    start_wall = time.perf_counter() - trainer.wall_s

    def after_iteration(row: dict[str, Any]) -> bool:
        trainer.maybe_validate(row)
        check_divergence(trainer.iteration, [
            ("the validation NLL", row.get("val_nll"), VALUE_LIMIT, trainer.divergence_cause())])
        trainer.wall_s = time.perf_counter() - start_wall
        if trainer.iteration % config.log_every == 0 or "val_nll" in row or (
            trainer.iteration == total
        ):
            row["wall_s"] = round(trainer.wall_s, 3)
            log.append(row)
        checkpoint_now = config.checkpoint_every and (
            trainer.iteration % config.checkpoint_every == 0
        )
        stop = stop_after is not None and trainer.iteration >= stop_after
        if checkpoint_now or stop or trainer.iteration == total:
            _save(trainer, run_dir, inputs)
            folder.started = True  # from the first checkpoint on, a failure keeps the folder
        return not stop

    try:
        done = run_iterations(trainer.step, start=trainer.iteration, total=total,
                              callback=after_iteration, progress=not quiet,
                              desc=f"{config.algorithm} {config.dataset}",
                              postfix=lambda row: ({"val_nll": f"{row['val_nll']:.4f}"}
                                                   if "val_nll" in row else {}))
    except DivergenceError as error:
        kept = list_checkpoints(run_dir)
        where = (f"the last good checkpoint, {kept[-1][1].name}, is kept" if kept
                 else "it had written no checkpoint yet")
        raise DivergenceError(f"{error}; {where}") from None
    if done < total:
        return None
    summary = _finish(trainer, run_dir, wall_s=trainer.wall_s)
    return summary


def _finish(trainer: DensityTrainer, run_dir: Path, *, wall_s: float) -> dict[str, Any]:
    trainer.load_best()
    summary = evaluate_density(trainer)
    summary["wall_s"] = wall_s
    summary["algorithm"] = trainer.config.algorithm
    summary["dataset"] = trainer.config.dataset
    summary["seed"] = trainer.seed
    summary["software"] = software_versions()
    write_json(run_dir / "summary.json", summary, schema="irlgan.summary")
    plot_run(trainer, run_dir, summary)
    return summary


def load_run(run_dir: str | Path, *, device: str | torch.device | None = None) -> DensityTrainer:
    """A trainer restored from a run folder's newest checkpoint, holding its best parameters.

    The best validated parameters recorded in the checkpoint are loaded (the current ones, or
    their average, if none was validated yet), so finished and interrupted runs both work. The
    models are put on `device` (the CPU by default), whatever device trained them.

    Raises:
        ValueError: if the folder has no config.json of a density run or no checkpoint.
        CheckpointError: the checkpoints are unreadable or of another run.
    """
    run_dir = Path(run_dir)
    saved = read_config(run_dir)
    try:
        config, seed = config_from_run(saved)
    except TypeError as error:
        raise CheckpointError(f"{run_dir}/config.json does not describe a density run of this "
                              f"irlgan: {error}") from None
    path = latest_checkpoint(run_dir, kind=CHECKPOINT_KIND)
    if path is None:
        found = list_checkpoints(run_dir)
        if found:
            load_checkpoint(found[-1][1], kind=CHECKPOINT_KIND)  # raises why it cannot load
        raise ValueError(f"{run_dir} has no checkpoint to evaluate")
    trainer = DensityTrainer(config, seed, device)
    _restore(trainer, path, saved.get("inputs"), for_eval=True)
    trainer.load_best()
    trainer.checkpoint_name = path.stem
    return trainer


def evaluate_run(run_dir: str | Path, *, output: str | Path | None = None,
                 device: str | torch.device | None = None) -> dict[str, Any]:
    """Evaluates the run's best parameters (`load_run`, on `device`) and writes the result to
    `evals/<checkpoint>.json` (or `output`), never over the training's summary.json. The AIS,
    importance and MMD draws come from generators on the device, so a run is reproduced
    exactly by an evaluation on the device type it was trained on.

    Raises:
        RunFolderBusy: the run is still training. OSError: the result cannot be written (the
            error carries the result as `error.result`).
    """
    run_dir = Path(run_dir)
    with eval_lock(run_dir) if output is None else contextlib.nullcontext():
        trainer = load_run(run_dir, device=device)
        with torch.no_grad():
            summary = evaluate_density(trainer)
        summary.update(wall_s=trainer.wall_s, algorithm=trainer.config.algorithm,
                       dataset=trainer.config.dataset, seed=trainer.seed,
                       checkpoint=trainer.checkpoint_name)
        write_eval(run_dir, trainer.checkpoint_name, summary, output)
    return summary
