"""A control run in a run folder: checkpoints, `--resume`, metrics, evaluation, summary, plots.

`ControlRunConfig` is what a run folder records in `config.json` (with ``"task": "control"`` and
the demonstrations folder): the algorithm's name, the environment, the budget, the seed, the
schedule of checkpoints and evaluation, and the algorithm's `irlgan.AdversarialConfig` under
``"algo"``. The run trains the algorithm object (`irlgan.AIRL`, ...) with a callback that appends
`metrics.csv` rows and writes `checkpoints/ckpt-XXXXXXXX.pt`; `summary.json` holds
`normalized_return`, `return_mean`, `return_std`, `expert_return`, `random_return`, `env_steps`,
`wall_s`, the time split and `resume` (``"none"``, ``"exact"`` or ``"episode_boundary"``: whether
the environments' state was restored exactly or the run continued from fresh episodes).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from irlgan._io import write_json
from irlgan.algorithms import ALGORITHMS, AdversarialConfig, AdversarialTrainer
from irlgan.algorithms._trainer import METRIC_FIELDS
from irlgan.checkpoint import (
    checkpoint_path,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from irlgan.runs import MetricsLog, prepare_run_dir

__all__ = ["CHECKPOINT_KIND", "ControlRunConfig", "build_algorithm", "evaluate_run",
           "run_config_dict", "train_run"]

CHECKPOINT_KIND = "control"


@dataclass(frozen=True)
class ControlRunConfig:
    """A control run: which algorithm, where, for how long, and with which settings."""

    algorithm: str = "airl"
    """The algorithm's registered name (`irlgan.algorithms.ALGORITHMS`)."""
    env_id: str = "Pendulum-v1"
    """The gymnasium id of the task."""
    total_steps: int = 500_000
    """Environment steps of the generator over the whole run."""
    seed: int = 0
    """The run's seed (every random stream is spawned from it)."""
    checkpoint_every: int = 5
    """Iterations between checkpoints (and one at the end)."""
    eval_episodes: int = 50
    """Evaluation episodes on held-out reset seeds (at least 20)."""
    algo: AdversarialConfig = field(default_factory=AdversarialConfig)
    """The algorithm's settings (`--set disc_lr=...`, `--set ppo.gamma=...`)."""

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got "
                             f"{self.algorithm!r}")
        for name in ("total_steps", "checkpoint_every", "eval_episodes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.eval_episodes < 20:
            raise ValueError(f"eval_episodes must be at least 20, got {self.eval_episodes}")
        if not isinstance(self.algo, AdversarialConfig):
            raise ValueError("algo must be an AdversarialConfig")

    @property
    def iterations(self) -> int:
        """Iterations of the run, ceil(total_steps / steps_per_iteration)."""
        return -(-self.total_steps // self.algo.steps_per_iteration)


def run_config_dict(run: ControlRunConfig, demos_dir: str | os.PathLike | None) -> dict[str, Any]:
    """The `config.json` content of a run."""
    from irlgan.config import config_to_dict

    out: dict[str, Any] = {"task": "control"}
    out.update(config_to_dict(run))
    out["demos"] = None if demos_dir is None else str(Path(demos_dir).resolve())
    return out


def config_from_run_dict(data: dict[str, Any]) -> ControlRunConfig:
    """The `ControlRunConfig` of a `config.json`."""
    from irlgan.config import config_from_dict

    fields = {k: v for k, v in data.items() if k not in ("task", "demos")}
    return config_from_dict(ControlRunConfig, fields)


def build_algorithm(run: ControlRunConfig, demos: Any) -> AdversarialTrainer:
    """The algorithm object of a run (environment by id, default modules)."""
    cls = ALGORITHMS[run.algorithm]
    return cls(run.env_id, demos, config=run.algo, seed=run.seed)


def train_run(run: ControlRunConfig, demos: Any, run_dir: str | os.PathLike, *,
              demos_dir: str | os.PathLike | None = None, resume: bool = False,
              expert_return: float | None = None, random_return: float | None = None,
              progress: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Trains in `run_dir` (resuming from its last checkpoint with `resume`) and evaluates.

    Args:
        run: the settings.
        demos: `irlgan.Demonstrations`.
        run_dir: the run folder.
        demos_dir: where the demonstrations came from (recorded in config.json).
        resume: continue from the newest loadable checkpoint.
        expert_return, random_return: the normalisation references (computed for random when
            None; the expert's is required for `normalized_return`, else it is NaN).
        progress: show a progress bar.
        stop_after: stop after this iteration without evaluating (for tests of resumption).

    Returns:
        The summary dict (also written to summary.json), or {} when stopped early.
    """
    run_dir = prepare_run_dir(run_dir, run_config_dict(run, demos_dir), resume=resume)
    algo = build_algorithm(run, demos)
    metrics = MetricsLog(run_dir / "metrics.csv", METRIC_FIELDS)
    if resume:
        ckpt = _newest_loadable(run_dir)
        if ckpt is None:
            metrics.truncate(0)
        else:
            algo.load_state_dict(load_checkpoint(ckpt, kind=CHECKPOINT_KIND)["trainer"])
            metrics.truncate(algo.progress.iteration)
    total = run.iterations

    def after_iteration(trainer: AdversarialTrainer, row: dict[str, Any]) -> bool:
        metrics.append({k: _fmt(v) for k, v in row.items()})
        it = trainer.progress.iteration
        if it % run.checkpoint_every == 0 or it == total:
            save_checkpoint(checkpoint_path(run_dir, it), {"trainer": trainer.state_dict()},
                            kind=CHECKPOINT_KIND)
            prune_checkpoints(run_dir, keep=2)
        return not (stop_after is not None and it >= stop_after)

    try:
        algo.train_until(run.total_steps, callback=after_iteration, progress=progress)
        if stop_after is not None and algo.progress.iteration < total:
            return {}
        summary = _summarise(algo, run, expert_return, random_return)
        write_json(run_dir / "summary.json", summary)
        _plots(run_dir, algo, run, metrics)
        algo.save(run_dir / "model.pt")
    finally:
        algo.close()
    return summary


def _newest_loadable(run_dir: str | os.PathLike) -> Path | None:
    """The newest loadable checkpoint; None if there are none at all.

    Raises:
        CheckpointError: checkpoints exist but none loads (the newest one's error is raised).
    """
    found = list_checkpoints(run_dir)
    if not found:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ckpt = latest_checkpoint(run_dir, kind=CHECKPOINT_KIND)
    if ckpt is None:
        load_checkpoint(found[-1][1], kind=CHECKPOINT_KIND)  # raises the CheckpointError
    if ckpt != found[-1][1]:
        warnings.warn(f"{found[-1][1]} does not load; using {ckpt}", stacklevel=2)
    return ckpt


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return value


def _json_number(value: float | None) -> float | None:
    """None for NaN, so that summary.json stays strict JSON."""
    return None if value is None or not math.isfinite(value) else float(value)


def _summarise(algo: AdversarialTrainer, run: ControlRunConfig, expert_return: float | None,
               random_return: float | None, episodes: int | None = None) -> dict[str, Any]:
    from irlgan.rl import EVAL_SEED_BASE, evaluate_policy, normalized_return, random_returns

    episodes = episodes or run.eval_episodes
    returns = evaluate_policy(algo.policy, run.env_id, episodes, EVAL_SEED_BASE,
                              deterministic=True)
    if random_return is None:
        random_return = float(np.mean(random_returns(run.env_id, episodes, EVAL_SEED_BASE)))
    mean = float(np.mean(returns))
    norm = (float(normalized_return(mean, expert_return, random_return))
            if expert_return is not None else None)
    prog = algo.progress
    return {
        "normalized_return": norm, "return_mean": mean, "return_std": float(np.std(returns)),
        "expert_return": expert_return, "random_return": random_return,
        "env_steps": prog.env_steps, "wall_s": prog.wall_s,
        "eval_episodes": episodes, "algorithm": run.algorithm, "env_id": run.env_id,
        "seed": run.seed, "env_steps_per_s": prog.env_steps / max(prog.wall_s, 1e-9),
        "time_split_s": dict(prog.times), "resume": algo.resume_mode,
        "bc_nll": _json_number(algo.bc_nll),
    }


def _plots(run_dir: Path, algo: AdversarialTrainer, run: ControlRunConfig,
           metrics: MetricsLog) -> None:
    from irlgan.control._plots import plot_cost_map, plot_learning_curve

    plot_learning_curve(metrics.rows(), run_dir / "plots" / "learning_curve.png",
                        title=f"{run.algorithm} on {run.env_id}")
    if algo.vec_env.obs_dim == 2:
        plot_cost_map(algo, run_dir / "plots" / "cost_map.png")


def evaluate_run(run_dir: str | os.PathLike, *, episodes: int | None = None,
                 demos: Any = None, expert_return: float | None = None,
                 random_return: float | None = None) -> dict[str, Any]:
    """Evaluates the newest checkpoint of a run folder and rewrites its summary.json.

    The demonstrations are only needed to rebuild the algorithm; when None, the run's
    config.json `demos` folder is loaded.
    """
    from irlgan.control.commands import load_demos
    from irlgan.runs import read_config

    run_dir = Path(run_dir)
    data = read_config(run_dir)
    run = config_from_run_dict(data)
    ckpt = _newest_loadable(run_dir)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint to evaluate")
    if demos is None:
        if not data.get("demos"):
            raise ValueError(f"{run_dir}/config.json names no demonstrations folder")
        demos, expert_return, random_return = load_demos(data["demos"])
    algo = build_algorithm(run, demos)
    try:
        algo.load_state_dict(load_checkpoint(ckpt, kind=CHECKPOINT_KIND)["trainer"])
        summary = _summarise(algo, run, expert_return, random_return, episodes)
    finally:
        algo.close()
    summary["checkpoint"] = ckpt.name
    write_json(run_dir / "summary.json", summary)
    return summary


def final_parameters(run_dir: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The learned tensors stored in a run's newest checkpoint (policy, discriminator), for
    comparisons of runs."""
    ckpt = _newest_loadable(run_dir)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint")
    state = load_checkpoint(ckpt, kind=CHECKPOINT_KIND)["trainer"]
    out = {f"policy.{k}": v for k, v in state["policy"].items()}
    out.update({f"discriminator.{k}": v for k, v in state["discriminator"].items()})
    return out
