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

import contextlib
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from irlgan._io import software_versions, write_json
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
from irlgan.errors import CheckpointError, DivergenceError
from irlgan.runs import MetricsLog, RunFolder, config_sha256, eval_lock, open_run, write_eval

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
    train_env_kwargs: dict[str, int | float | bool | str] = field(default_factory=dict)
    """Keyword arguments of `gymnasium.make(env_id, ...)` for the training environment only
    (`--set train_env_kwargs.terminate_when_unhealthy=false`); evaluation always runs the task
    `env_id` as registered, so a changed training world is measured on the real one."""

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
        if not isinstance(self.train_env_kwargs, dict) or any(
                not isinstance(k, str) or not k.isidentifier()
                or not isinstance(v, bool | int | float | str)
                for k, v in self.train_env_kwargs.items()):
            raise ValueError(f"train_env_kwargs must map keyword names to numbers, booleans or "
                             f"strings, got {self.train_env_kwargs!r}")

    @property
    def iterations(self) -> int:
        """Iterations of the run, ceil(total_steps / steps_per_iteration)."""
        return -(-self.total_steps // self.algo.steps_per_iteration)


def run_config_dict(run: ControlRunConfig, demos_dir: str | os.PathLike | None,
                    demos: Any = None) -> dict[str, Any]:
    """The `config.json` content of a run: the settings, where the demonstrations were read from,
    and under ``inputs`` the content hashes of the settings and of the demonstrations."""
    from irlgan.config import config_to_dict

    out: dict[str, Any] = {"task": "control"}
    out.update(config_to_dict(run))
    if demos_dir is None or str(demos_dir).startswith("minari:"):
        out["demos"] = None if demos_dir is None else str(demos_dir)
    else:
        out["demos"] = str(Path(demos_dir).resolve())
    out["inputs"] = {"config_sha256": config_sha256(out),
                     "demos_sha256": None if demos is None else demos.content_hash()}
    return out


def config_from_run_dict(data: dict[str, Any]) -> ControlRunConfig:
    """The `ControlRunConfig` of a `config.json`."""
    from irlgan.config import config_from_dict

    fields = {k: v for k, v in data.items() if k not in ("task", "demos", "inputs")}
    return config_from_dict(ControlRunConfig, fields)


def build_algorithm(run: ControlRunConfig, demos: Any,
                    device: str | torch.device | None = None) -> AdversarialTrainer:
    """The algorithm object of a run (environment by id, made with `run.train_env_kwargs`;
    default modules; on `device`)."""
    cls = ALGORITHMS[run.algorithm]
    return cls(train_env(run), demos, config=run.algo, seed=run.seed, device=device or "cpu")


def train_env(run: ControlRunConfig) -> Any:
    """What the trainer builds its environments from: `run.env_id`, or with
    `run.train_env_kwargs` a factory calling `gymnasium.make(env_id, **train_env_kwargs)`
    (an unknown keyword fails here, with the environment's own message)."""
    if not run.train_env_kwargs:
        return run.env_id
    import functools

    import gymnasium

    factory = functools.partial(gymnasium.make, run.env_id, **run.train_env_kwargs)
    try:
        factory().close()
    except TypeError as error:
        raise ValueError(f"train_env_kwargs {run.train_env_kwargs} do not fit {run.env_id}: "
                         f"{error}") from error
    return factory


def train_run(run: ControlRunConfig, demos: Any, run_dir: str | os.PathLike, *,
              demos_dir: str | os.PathLike | None = None, resume: bool = False,
              expert_return: float | None = None, random_return: float | None = None,
              reference_seeds: Sequence[int] | None = None, progress: bool = True,
              stop_after: int | None = None, logger: Any = None,
              device: str | torch.device | None = None) -> dict[str, Any]:
    """Trains in `run_dir` (resuming from its last checkpoint with `resume`) and evaluates.

    The folder is locked for the run's life (`irlgan.runs.open_run`): a second writer gets
    `RunFolderBusy`; a fresh run refuses a used folder; resuming refuses other settings or other
    demonstrations (compared by content hash), and checkpoints of another run. A failure before
    training starts leaves no folder behind; a divergence stops the run with `DivergenceError`
    and keeps the last good checkpoint.

    Args:
        run: the settings.
        demos: `irlgan.Demonstrations`.
        run_dir: the run folder.
        demos_dir: where the demonstrations came from (recorded in config.json).
        resume: continue from the newest loadable checkpoint.
        expert_return, random_return: the normalisation references (computed for random when
            None; the expert's is required for `normalized_return`, else it is null).
        reference_seeds: the reset seeds the references were measured on. The final evaluation
            runs on them (when there are at least 20), and `normalized_return` is given only
            when the evaluation's seeds are exactly these; None (unknown) gives the raw return
            with the reason in `normalized_return_note`.
        progress: show a progress bar.
        stop_after: stop after this iteration without evaluating (for tests of resumption).
        logger: an `irlgan.loggers.Logger` that also receives every metrics row (namespaced,
            at the run's environment step) and the final evaluation; `metrics.csv` is always
            written.
        device: where the networks train (`irlgan.AdversarialTrainer`; the CPU by default).
            Not a setting of the run: a checkpoint resumes on either device.

    Returns:
        The summary dict (also written to summary.json), or {} when stopped early.
    """
    config = run_config_dict(run, demos_dir, demos)
    inputs = config["inputs"]
    # bad settings, devices or environments fail before any folder
    algo = build_algorithm(run, demos, device)
    try:
        with open_run(run_dir, config, resume=resume) as folder:
            run_dir = folder.path
            metrics = MetricsLog(run_dir / "metrics.csv", METRIC_FIELDS)
            if resume:
                ckpt = _newest_loadable(run_dir)
                if ckpt is None:
                    metrics.truncate(0)
                else:
                    _load_into(algo, ckpt, inputs)
                    metrics.truncate(algo.progress.iteration)
            folder.started = resume
            references = References(expert_return, random_return, reference_seeds)
            summary = _train(algo, run, folder, metrics, inputs, references, progress,
                             stop_after, logger)
    finally:
        algo.close()
    return summary


def _load_into(algo: AdversarialTrainer, ckpt: Path, inputs: dict[str, Any]) -> None:
    """Loads a checkpoint into `algo`, refusing one of another run (CheckpointError)."""
    payload = load_checkpoint(ckpt, kind=CHECKPOINT_KIND)
    recorded = payload.get("inputs")
    if recorded is not None and recorded != inputs:
        raise CheckpointError(f"checkpoint {ckpt} was written by a run with other settings or "
                              f"demonstrations (config sha256 "
                              f"{str(recorded.get('config_sha256'))[:12]}, this run "
                              f"{str(inputs['config_sha256'])[:12]})")
    try:
        algo.load_state_dict(payload["trainer"])
    except CheckpointError as error:
        raise CheckpointError(f"checkpoint {ckpt}: {error}") from None
    except KeyError:
        raise CheckpointError(f"checkpoint {ckpt} holds no trainer state") from None


def _train(algo: AdversarialTrainer, run: ControlRunConfig, folder: RunFolder,
           metrics: MetricsLog, inputs: dict[str, Any], references: References,
           progress: bool, stop_after: int | None, logger: Any) -> dict[str, Any]:
    total = run.iterations
    run_dir = folder.path

    def after_iteration(trainer: AdversarialTrainer, row: dict[str, Any]) -> bool:
        metrics.append({k: _fmt(v) for k, v in row.items()})

        it = trainer.progress.iteration
        if it % run.checkpoint_every == 0 or it == total:
            save_checkpoint(checkpoint_path(run_dir, it),
                            {"trainer": trainer.state_dict(), "inputs": inputs},
                            kind=CHECKPOINT_KIND)
            folder.started = True  # from the first checkpoint on, a failure keeps the folder
            prune_checkpoints(run_dir, keep=2)
        return not (stop_after is not None and it >= stop_after)

    try:
        algo.train_until(run.total_steps, callback=after_iteration, progress=progress,
                         logger=logger)
    except DivergenceError as error:
        kept = list_checkpoints(run_dir)
        where = (f"the last good checkpoint, {kept[-1][1].name}, is kept" if kept
                 else "it had written no checkpoint yet")
        raise DivergenceError(f"{error}; {where}") from None
    if stop_after is not None and algo.progress.iteration < total:
        return {}
    summary = _summarise(algo, run, references)
    summary["inputs"] = inputs
    summary["software"] = software_versions()
    if logger is not None:
        logger.log(eval_metrics(summary), step=algo.progress.env_steps)
        logger.flush()
    write_json(run_dir / "summary.json", summary, schema="irlgan.summary")
    _plots(run_dir, algo, run, metrics)
    algo.save(run_dir / "model.pt")
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


@dataclass(frozen=True)
class References:
    """The reference returns of the normalised score and the reset seeds they were measured on
    (None where unknown)."""

    expert_return: float | None = None
    random_return: float | None = None
    seeds: Sequence[int] | None = None

    @classmethod
    def of(cls, demos: Any) -> References:
        """The references the demonstrations carry."""
        return cls(demos.expert_return, demos.random_return, demos.reference_seeds)


MIN_EVAL_EPISODES = 20
"""The fewest evaluation episodes behind a reported return."""


def evaluation_plan(run: ControlRunConfig, references: References,
                    episodes: int | None = None, seeds: Sequence[int] | None = None
                    ) -> tuple[list[int], str | None]:
    """The reset seeds of an evaluation, and why a normalised score cannot be given on them
    (None when it can).

    Seeds: `seeds` when given; else the references' seeds when there are at least 20 of them
    and no episode count is asked for; else ``EVAL_SEED_BASE + i`` for ``i <
    episodes`` (default: the run's `eval_episodes`). A normalised score needs an expert
    reference measured on exactly the evaluation's seeds: start states alone move a return by
    several percent.
    """
    from irlgan.data import describe_seeds
    from irlgan.rl import EVAL_SEED_BASE

    known = None if references.seeds is None else [int(s) for s in references.seeds]
    if seeds is not None:
        plan = [int(s) for s in seeds]
    elif known is not None and len(known) >= MIN_EVAL_EPISODES and episodes is None:
        plan = known
    else:
        plan = [EVAL_SEED_BASE + i for i in range(episodes or run.eval_episodes)]
    if references.expert_return is None:
        return plan, "the demonstrations carry no expert reference return"
    if known is None:
        return plan, ("the reference returns do not record the reset seeds they were measured "
                      "on (demonstrations from another source or an earlier irlgan); measure "
                      "them with Demonstrations.measure_references, or compare raw returns")
    if sorted(known) != sorted(plan):
        return plan, (f"the reference returns were measured on {describe_seeds(known)}, this "
                      f"evaluation ran on {describe_seeds(plan)}")
    return plan, None


def eval_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """The evaluation's scalars under the ``eval/`` namespace (for a logger)."""
    out = {"eval/return_mean": summary["return_mean"], "eval/return_std": summary["return_std"]}
    if summary.get("normalized_return") is not None:
        out["eval/normalized_return"] = summary["normalized_return"]
    return out


def _summarise(algo: AdversarialTrainer, run: ControlRunConfig, references: References,
               episodes: int | None = None, seeds: Sequence[int] | None = None
               ) -> dict[str, Any]:
    from irlgan.rl import normalized_return
    from irlgan.rl._evaluate import policy_returns, random_returns_on

    plan, note = evaluation_plan(run, references, episodes, seeds)
    returns = policy_returns(algo.policy, run.env_id, plan)
    random_return = references.random_return
    if random_return is None or note is not None:
        # measured here, on the evaluation's seeds (the one given belongs to other seeds)
        random_return = float(np.mean(random_returns_on(run.env_id, plan)))
    mean = float(np.mean(returns))
    if note is None and not references.expert_return > random_return:
        note = (f"the expert reference return ({references.expert_return:.6g}) does not exceed "
                f"the random one ({random_return:.6g}), so there is no scale to normalise on")
    norm = (None if note is not None
            else float(normalized_return(mean, references.expert_return, random_return)))
    prog = algo.progress
    return {
        "normalized_return": norm, "normalized_return_note": note,
        "return_mean": mean, "return_std": float(np.std(returns)),
        "returns": [float(r) for r in returns],
        "expert_return": references.expert_return, "random_return": random_return,
        "reference_seeds": None if references.seeds is None else list(references.seeds),
        "eval_seeds": plan,
        "env_steps": prog.env_steps, "wall_s": prog.wall_s,
        "eval_episodes": len(plan), "algorithm": run.algorithm, "env_id": run.env_id,
        "seed": run.seed, "env_steps_per_s": prog.env_steps / max(prog.wall_s, 1e-9),
        "time_split_s": dict(prog.times), "resume": algo.resume_mode,
        "device": str(algo.device),
        "bc_nll": _json_number(algo.bc_nll),
        "demo_actions_on_bounds": float(getattr(algo, "demo_actions_on_bounds", 0.0)),
    }


def _plots(run_dir: Path, algo: AdversarialTrainer, run: ControlRunConfig,
           metrics: MetricsLog) -> None:
    from irlgan.control._plots import plot_cost_map, plot_learning_curve

    plot_learning_curve(metrics.rows(), run_dir / "plots" / "learning_curve.png",
                        title=f"{run.algorithm} on {run.env_id}")
    if algo.vec_env.obs_dim == 2:
        plot_cost_map(algo, run_dir / "plots" / "cost_map.png")


def evaluate_run(run_dir: str | os.PathLike, *, episodes: int | None = None,
                 demos: Any = None, seeds: Sequence[int] | None = None,
                 output: str | os.PathLike | None = None,
                 references: References | None = None,
                 device: str | torch.device | None = None) -> dict[str, Any]:
    """Evaluates the newest checkpoint of a run folder and writes the result to
    `evals/<checkpoint>-<N>ep.json` (or `output`), never over the training's summary.json.

    The demonstrations rebuild the algorithm and carry the reference returns; when None, the
    run's config.json `demos` source is loaded, and must have the content hash the run
    recorded. The seeds and the normalised score follow `evaluation_plan`.

    Args:
        run_dir: the run folder.
        episodes: evaluate on ``EVAL_SEED_BASE + i`` for ``i < episodes`` (at least 20).
        demos: the run's demonstrations (when its recorded source has moved).
        seeds: evaluate on exactly these reset seeds (at least 20).
        output: write the result here instead of under `evals/`.
        references: other reference returns (default: the demonstrations').
        device: where the policy runs (the CPU by default).

    Raises:
        ValueError: fewer than 20 episodes, or demonstrations that are not the run's.
        RunFolderBusy: the run is still training. OSError: the result cannot be written (the
            error carries the result as `error.result`).
    """
    from irlgan.control.commands import load_demos
    from irlgan.runs import read_config

    run_dir = Path(run_dir)
    data = read_config(run_dir)
    if data.get("task") != "control":
        raise ValueError(f"{run_dir}/config.json names task {data.get('task')!r}, not 'control'")
    try:
        run = config_from_run_dict(data)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{run_dir}/config.json does not describe a control run of this "
                              f"irlgan: {error}") from None
    if episodes is not None and (isinstance(episodes, bool) or not isinstance(episodes, int)
                                 or episodes < MIN_EVAL_EPISODES):
        raise ValueError(f"evaluation needs at least {MIN_EVAL_EPISODES} episodes (as training "
                         f"does), got {episodes!r}")
    if seeds is not None:
        if episodes is not None:
            raise ValueError("give the evaluation's episodes or its seeds, not both")
        seeds = [int(s) for s in seeds]
        if len(seeds) < MIN_EVAL_EPISODES or len(set(seeds)) != len(seeds) or min(seeds) < 0:
            raise ValueError(f"evaluation seeds must be at least {MIN_EVAL_EPISODES} distinct "
                             f"non-negative integers, got {len(seeds)}")
    recorded = (data.get("inputs") or {}).get("demos_sha256")
    if demos is None:
        source = data.get("demos")
        if not source:
            raise ValueError(f"{run_dir}/config.json names no demonstrations folder")
        if not str(source).startswith("minari:") and not Path(source).is_dir():
            raise ValueError(f"the run's demonstrations folder {source} (config.json) is "
                             f"gone; pass the demonstrations with --demos")
        demos = load_demos(source)[0]
    if references is None:
        references = References.of(demos)
    if recorded is not None and demos.content_hash() != recorded:
        raise ValueError(f"the demonstrations are not the ones {run_dir} was trained on "
                         f"(content sha256 {recorded[:12]} recorded, "
                         f"{demos.content_hash()[:12]} given)")
    with eval_lock(run_dir) if output is None else contextlib.nullcontext():
        algo, ckpt = load_newest(run_dir, run, demos, data.get("inputs") or {}, "evaluate",
                                 device)
        try:
            summary = _summarise(algo, run, references, episodes, seeds)
        finally:
            algo.close()
        summary["checkpoint"] = ckpt.name
        write_eval(run_dir, f"{ckpt.stem}-{summary['eval_episodes']}ep", summary, output)
    return summary


def load_newest(run_dir: Path, run: ControlRunConfig, demos: Any, inputs: dict[str, Any],
                purpose: str, device: str | torch.device | None = None
                ) -> tuple[AdversarialTrainer, Path]:
    """The run's algorithm with its newest loadable checkpoint loaded, and that checkpoint's
    path (the caller closes the algorithm). `purpose` completes "holds no checkpoint to ...".
    """
    ckpt = _newest_loadable(run_dir)
    if ckpt is None:
        raise ValueError(f"{run_dir} holds no checkpoint to {purpose}")
    algo = build_algorithm(run, demos, device)
    try:
        _load_into(algo, ckpt, inputs)
    except BaseException:
        algo.close()
        raise
    return algo, ckpt


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
