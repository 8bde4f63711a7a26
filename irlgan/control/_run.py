"""A control run in a run folder: checkpoints, `--resume`, metrics, evaluation, summary, plots.

Layout (DESIGN.md): `config.json` (the `ControlConfig` fields plus `"task": "control"` and the
demonstrations folder), `checkpoints/ckpt-XXXXXXXX.pt`, `metrics.csv` (one row per iteration),
`plots/*.png` and `summary.json` with `normalized_return`, `return_mean`, `return_std`,
`expert_return`, `random_return`, `env_steps`, `wall_s`, plus the time split.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from irlgan._io import write_json
from irlgan.algorithms import TrajectoryBatch
from irlgan.checkpoint import (
    checkpoint_path,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from irlgan.config import config_to_dict
from irlgan.control._config import ControlConfig
from irlgan.control._trainer import METRIC_FIELDS, ControlTrainer
from irlgan.runs import MetricsLog, prepare_run_dir

__all__ = ["CHECKPOINT_KIND", "evaluate_run", "run_config_dict", "train_run"]

CHECKPOINT_KIND = "control"


def run_config_dict(config: ControlConfig, demos_dir: str | os.PathLike | None) -> dict[str, Any]:
    """The `config.json` content of a run."""
    out = {"task": "control"}
    out.update(config_to_dict(config))
    out["demos"] = None if demos_dir is None else str(Path(demos_dir).resolve())
    return out


def config_from_dict(data: dict[str, Any]) -> ControlConfig:
    """The `ControlConfig` of a `config.json` (unknown keys are ignored)."""
    names = {f.name for f in dataclasses.fields(ControlConfig)}
    kwargs = {k: v for k, v in data.items() if k in names}
    if "hidden" in kwargs:
        kwargs["hidden"] = tuple(kwargs["hidden"])
    return ControlConfig(**kwargs)


def train_run(config: ControlConfig, demos: TrajectoryBatch, run_dir: str | os.PathLike, *,
              demos_dir: str | os.PathLike | None = None, resume: bool = False,
              expert_return: float | None = None, random_return: float | None = None,
              progress: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Trains in `run_dir` (resuming from its last checkpoint with `resume`) and evaluates.

    Args:
        config: the settings.
        demos: demonstrated episodes.
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
    run_dir = prepare_run_dir(run_dir, run_config_dict(config, demos_dir), resume=resume)
    trainer = ControlTrainer(config, demos, progress=progress)
    metrics = MetricsLog(run_dir / "metrics.csv", METRIC_FIELDS)
    if resume:
        ckpt = _newest_loadable(run_dir)
        if ckpt is None:
            metrics.truncate(0)
        else:
            trainer.load_state_dict(load_checkpoint(ckpt, kind=CHECKPOINT_KIND)["trainer"])
            metrics.truncate(trainer.state.iteration)
    total = config.iterations
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=trainer.state.iteration, desc=config.algorithm,
                   unit="it", leave=False)
    try:
        while trainer.state.iteration < total:
            row = trainer.step()
            metrics.append({k: _fmt(v) for k, v in row.items()})
            it = trainer.state.iteration
            if it % config.checkpoint_every == 0 or it == total:
                save_checkpoint(checkpoint_path(run_dir, it), {"trainer": trainer.state_dict()},
                                kind=CHECKPOINT_KIND)
                prune_checkpoints(run_dir, keep=2)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(ret=f"{row['env_return']:.1f}", acc=f"{row['disc_acc_gen']:.2f}")
            if stop_after is not None and it >= stop_after:
                return {}
    finally:
        if bar is not None:
            bar.close()
    summary = _summarise(trainer, config, expert_return, random_return)
    write_json(run_dir / "summary.json", summary)
    _plots(run_dir, trainer, metrics)
    trainer.close()
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


def _summarise(trainer: ControlTrainer, config: ControlConfig, expert_return: float | None,
               random_return: float | None, episodes: int | None = None) -> dict[str, Any]:
    from irlgan.rl import EVAL_SEED_BASE, evaluate_policy, normalized_return, random_returns

    episodes = episodes or config.eval_episodes
    returns = evaluate_policy(trainer.policy, config.env_id, episodes, EVAL_SEED_BASE,
                              deterministic=True)
    if random_return is None:
        random_return = float(np.mean(random_returns(config.env_id, episodes, EVAL_SEED_BASE)))
    mean = float(np.mean(returns))
    norm = (float(normalized_return(mean, expert_return, random_return))
            if expert_return is not None else math.nan)
    st = trainer.state
    return {
        "normalized_return": norm, "return_mean": mean, "return_std": float(np.std(returns)),
        "expert_return": expert_return, "random_return": random_return,
        "env_steps": st.env_steps, "wall_s": st.wall_s,
        "eval_episodes": episodes, "algorithm": config.algorithm, "env_id": config.env_id,
        "seed": config.seed, "env_steps_per_s": st.env_steps / max(st.wall_s, 1e-9),
        "time_split_s": st.times.as_dict(),
    }


def _plots(run_dir: Path, trainer: ControlTrainer, metrics: MetricsLog) -> None:
    from irlgan.control._plots import plot_cost_map, plot_learning_curve

    plot_learning_curve(metrics.rows(), run_dir / "plots" / "learning_curve.png",
                        title=f"{trainer.config.algorithm} on {trainer.config.env_id}")
    if trainer.vec_env.obs_dim == 2:
        plot_cost_map(trainer, run_dir / "plots" / "cost_map.png")


def evaluate_run(run_dir: str | os.PathLike, *, episodes: int | None = None,
                 demos: TrajectoryBatch | None = None, expert_return: float | None = None,
                 random_return: float | None = None) -> dict[str, Any]:
    """Evaluates the newest checkpoint of a run folder and rewrites its summary.json.

    The demonstrations are only needed to rebuild the trainer; when None, the run's
    config.json `demos` folder is loaded.
    """
    from irlgan.control.commands import load_demos
    from irlgan.runs import read_config

    run_dir = Path(run_dir)
    data = read_config(run_dir)
    config = config_from_dict(data)
    ckpt = _newest_loadable(run_dir)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint to evaluate")
    if demos is None:
        if not data.get("demos"):
            raise ValueError(f"{run_dir}/config.json names no demonstrations folder")
        demos, expert_return, random_return = load_demos(data["demos"])
    trainer = ControlTrainer(config, demos)
    trainer.load_state_dict(load_checkpoint(ckpt, kind=CHECKPOINT_KIND)["trainer"])
    summary = _summarise(trainer, config, expert_return, random_return, episodes)
    summary["checkpoint"] = ckpt.name
    write_json(run_dir / "summary.json", summary)
    trainer.close()
    return summary


def final_parameters(run_dir: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The learned tensors stored in a run's newest checkpoint (policy, cost, log Z)."""
    ckpt = _newest_loadable(run_dir)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint")
    state = load_checkpoint(ckpt, kind=CHECKPOINT_KIND)["trainer"]
    out = {f"policy.{k}": v for k, v in state["ppo"]["policy"].items()}
    out.update({f"value.{k}": v for k, v in state["ppo"]["value"].items()})
    out.update({f"reward_net.{k}": v for k, v in state["reward_net"].items()})
    if state["log_z"] is not None:
        out.update({f"log_z.{k}": v for k, v in state["log_z"].items()})
    return out


def learned_cost(run_dir: str | os.PathLike):
    """The learned per-step cost of a run's newest checkpoint as a function
    (obs [..., d_obs], act [..., d_act]) -> [...]: c(x, u) for GAN-GCL and GCL, -g(x, u) for AIRL
    (the reward AIRL keeps, without its shaping)."""
    from irlgan.models import MLPCost, ShapedReward
    from irlgan.rl import make_vec_env
    from irlgan.runs import read_config

    config = config_from_dict(read_config(run_dir))
    probe = make_vec_env(config.env_id, 1)
    obs_dim, act_dim = probe.obs_dim, probe.act_dim
    probe.close()
    ckpt = _newest_loadable(run_dir)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint")
    state = load_checkpoint(ckpt, kind=CHECKPOINT_KIND)["trainer"]["reward_net"]
    if config.algorithm == "airl":
        net = ShapedReward(obs_dim, act_dim, config.gamma, config.hidden, config.state_only)
        net.load_state_dict(state)

        def cost(obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return -net.reward(obs, act)
    else:
        net = MLPCost(obs_dim, act_dim, config.hidden, config.state_only)
        net.load_state_dict(state)

        def cost(obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return net(obs, act)
    return cost
