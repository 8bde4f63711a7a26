"""A training run on disk: run folder, checkpoints, resume, metrics, plots and summary."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from irlgan._io import write_json
from irlgan.checkpoint import (
    checkpoint_path,
    latest_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from irlgan.config import config_to_dict
from irlgan.density._plots import plot_run
from irlgan.density._train import METRIC_FIELDS, DensityConfig, DensityTrainer, evaluate_density
from irlgan.runs import MetricsLog, prepare_run_dir, read_config
from irlgan.schedule import run_iterations

__all__ = ["CHECKPOINT_KIND", "evaluate_run", "load_run", "run_config", "train_run"]

CHECKPOINT_KIND = "irlgan-density"


def run_config(config: DensityConfig, seed: int) -> dict[str, Any]:
    """The content of config.json: the task, the seed and every setting."""
    return {"task": "density", "seed": int(seed), **config_to_dict(config)}


def config_from_run(saved: dict[str, Any]) -> tuple[DensityConfig, int]:
    """Rebuilds (config, seed) from a run folder's config.json."""
    if saved.get("task") != "density":
        raise ValueError(f"config.json has task {saved.get('task')!r}, expected 'density'")
    names = {f.name for f in dataclasses.fields(DensityConfig)}
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in names}
    return DensityConfig(**kwargs), int(saved.get("seed", 0))


def _save(trainer: DensityTrainer, run_dir: Path) -> None:
    save_checkpoint(checkpoint_path(run_dir, trainer.iteration), trainer.state_dict(),
                    kind=CHECKPOINT_KIND)
    prune_checkpoints(run_dir, keep=2)


def train_run(
    config: DensityConfig,
    out: str | Path,
    *,
    seed: int = 0,
    resume: bool = False,
    quiet: bool = False,
    stop_after: int | None = None,
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

    Returns:
        The summary dict, or None when stopped early by `stop_after`.
    """
    run_dir = prepare_run_dir(out, run_config(config, seed), resume=resume)
    trainer = DensityTrainer(config, seed)
    log = MetricsLog(run_dir / "metrics.csv", METRIC_FIELDS)
    if resume:
        path = latest_checkpoint(run_dir, kind=CHECKPOINT_KIND)
        if path is not None:
            trainer.load_state_dict(load_checkpoint(path, kind=CHECKPOINT_KIND))
        log.truncate(trainer.iteration)
    total = config.total_iterations
    start_wall = time.perf_counter() - trainer.wall_s

    def after_iteration(row: dict[str, Any]) -> bool:
        trainer.maybe_validate(row)
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
            _save(trainer, run_dir)
        return not stop

    done = run_iterations(trainer.step, start=trainer.iteration, total=total,
                          callback=after_iteration, progress=not quiet,
                          desc=f"{config.algorithm} {config.dataset}",
                          postfix=lambda row: ({"val_nll": f"{row['val_nll']:.4f}"}
                                               if "val_nll" in row else {}))
    if done < total:
        return None
    return _finish(trainer, run_dir, wall_s=trainer.wall_s)


def _finish(trainer: DensityTrainer, run_dir: Path, *, wall_s: float) -> dict[str, Any]:
    trainer.load_best()
    summary = evaluate_density(trainer)
    summary["wall_s"] = wall_s
    summary["algorithm"] = trainer.config.algorithm
    summary["dataset"] = trainer.config.dataset
    summary["seed"] = trainer.seed
    write_json(run_dir / "summary.json", summary)
    plot_run(trainer, run_dir, summary)
    return summary


def load_run(run_dir: str | Path) -> DensityTrainer:
    """A trainer restored from a run folder's newest checkpoint, holding its best parameters.

    The best validated parameters recorded in the checkpoint are loaded (the current ones, or
    their average, if none was validated yet), so finished and interrupted runs both work.

    Raises:
        ValueError: if the folder has no config.json of a density run or no checkpoint.
    """
    run_dir = Path(run_dir)
    config, seed = config_from_run(read_config(run_dir))
    path = latest_checkpoint(run_dir, kind=CHECKPOINT_KIND)
    if path is None:
        raise ValueError(f"{run_dir} has no checkpoint to evaluate")
    trainer = DensityTrainer(config, seed)
    trainer.load_state_dict(load_checkpoint(path, kind=CHECKPOINT_KIND))
    trainer.load_best()
    return trainer


def evaluate_run(run_dir: str | Path) -> dict[str, Any]:
    """Recomputes summary.json (and the plots) from the run's best parameters (`load_run`)."""
    trainer = load_run(run_dir)
    with torch.no_grad():
        return _finish(trainer, Path(run_dir), wall_s=trainer.wall_s)
