"""`irlgan train ALGO --env ID --demos DIR` and `irlgan eval RUN_DIR` (control tasks).

`train` builds the `ControlRunConfig` from the task's presets (`default_config`), then `--steps`
(total environment steps), `--seed` and `--set KEY=VALUE` overrides (`--set disc_lr=3e-3`,
`--set ppo.learning_rate=1e-3`, `--set hidden=32,32`, `--set eval_episodes=100`), and trains in
the run folder (default `runs/<algo>-<env>-s<seed>`), resuming with `--resume`. The
normalisation references come from the demonstrations' metadata (written by `irlgan expert`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import torch

from irlgan.control._config import default_config, split_overrides
from irlgan.control._run import ControlRunConfig, evaluate_run, train_run

__all__ = ["build_config", "evaluate", "load_demos", "train"]


def load_demos(directory: str | os.PathLike, env_id: str | None = None
               ) -> tuple[Any, float | None, float | None]:
    """Reads a demonstrations folder (`irlgan.Demonstrations.load`), or a local Minari dataset
    named ``minari:DATASET_ID`` (`irlgan.Demonstrations.from_minari`).

    Args:
        directory: the demonstrations folder, or ``minari:DATASET_ID``.
        env_id: if given and the demonstrations record their environment, it must be this one.

    Returns:
        (demonstrations, expert_return, random_return).
    """
    from irlgan.data import Demonstrations

    if str(directory).startswith("minari:"):
        demos = Demonstrations.from_minari(str(directory)[len("minari:"):])
    else:
        demos = Demonstrations.load(directory)
        demos = _seeds_from_expert_summary(demos, Path(directory))
    if env_id is not None and demos.env_id is not None and demos.env_id != env_id:
        raise ValueError(f"the demonstrations in {directory} come from {demos.env_id!r}, "
                         f"not {env_id!r}")
    return demos, demos.expert_return, demos.random_return


def _seeds_from_expert_summary(demos: Any, directory: Path) -> Any:
    """Demonstrations written by an earlier `irlgan expert` (format version 3 and before) do not
    carry the seeds of their references, but the folder's `expert.json` says how they were
    measured (`eval_seed_base`, `eval_episodes`): those seeds are attached when the references
    are the ones recorded there."""
    import json

    summary_path = directory / "expert.json"
    if demos.reference_seeds is not None or not summary_path.is_file():
        return demos
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        base, count = int(summary["eval_seed_base"]), int(summary["eval_episodes"])
        same = (summary.get("expert_return") == demos.expert_return
                and summary.get("random_return") == demos.random_return)
    except (ValueError, KeyError, TypeError):
        return demos
    if not same or count < 1:
        return demos
    return demos.with_references(demos.expert_return, demos.random_return,
                                 list(range(base, base + count)))


def build_config(algo: str, env_id: str, steps: int | None, seed: int,
                 overrides: dict[str, str] | None) -> ControlRunConfig:
    """The run's settings: presets, then --steps, --seed and --set overrides."""
    from irlgan.config import apply_overrides

    run = default_config(algo, env_id, seed=int(seed))
    if steps is not None:
        run = dataclasses.replace(run, total_steps=int(steps))
    overrides = dict(overrides or {})
    for fixed in ("algorithm", "env_id", "seed", "algo"):
        if fixed in overrides:
            raise ValueError(f"--set {fixed}=... is not allowed; use the positional ALGO, --env "
                             f"and --seed")
    run_values, algo_values = split_overrides(overrides)
    run = apply_overrides(run, run_values)
    return dataclasses.replace(run, algo=apply_overrides(run.algo, algo_values))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def train(args: argparse.Namespace) -> int:
    """Runs `irlgan train ALGO --env ID --demos DIR [...]`; prints the summary."""
    if args.demos is None:
        raise ValueError(f"irlgan train {args.algo} needs --demos DIR or --demos minari:ID (run "
                         f"`irlgan expert` first)")
    minari = str(args.demos).startswith("minari:")
    if not minari and not Path(args.demos).is_dir():
        raise ValueError(f"--demos {args.demos} is not a folder")
    run = build_config(args.algo, args.env, args.steps, args.seed,
                       getattr(args, "overrides", None))
    torch.set_num_threads(1)
    demos, expert_return, random_return = load_demos(args.demos, run.env_id)
    out = args.out or str(Path("runs") / f"{args.algo}-{_slug(run.env_id)}-s{run.seed}")
    logger = None
    if getattr(args, "tensorboard", False):
        from irlgan.loggers import TensorBoardLogger

        logger = TensorBoardLogger.for_run(out)
    try:
        summary = train_run(run, demos, out, demos_dir=args.demos,
                            resume=bool(args.resume), expert_return=expert_return,
                            random_return=random_return, reference_seeds=demos.reference_seeds,
                            progress=not args.quiet, logger=logger,
                            device=getattr(args, "device", None))
    finally:
        if logger is not None:
            logger.close()
    if not args.quiet:
        print(json.dumps(shown(summary), indent=2))
    return 0


def shown(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as printed: seed lists in their short form (the files keep every seed)."""
    from irlgan.data import describe_seeds

    out = dict(summary)
    for key in ("reference_seeds", "eval_seeds"):
        if key in out:
            out[key] = describe_seeds(out[key])
    return out


def parse_seeds(text: str) -> list[int]:
    """``--seeds`` values: comma-separated seeds and inclusive ranges, ``100000-100049,7``."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ValueError(f"--seeds {text!r}: {part!r} is neither a seed nor a range A-B")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if last < first:
            raise ValueError(f"--seeds {text!r}: range {part} runs backwards")
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {text!r} names a seed twice")
    return seeds


def evaluate(args: argparse.Namespace) -> int:
    """Runs `irlgan eval RUN_DIR [--episodes N | --seeds S] [--output FILE] [--demos DIR]
    [--video]`: evaluates the newest checkpoint and writes RUN_DIR/evals/<checkpoint>-<N>ep.json
    (or FILE); with --video also RUN_DIR/videos/."""
    torch.set_num_threads(1)
    if getattr(args, "video", False):
        from irlgan.video import use_headless_gl

        use_headless_gl()  # before anything imports MuJoCo
    demos = None
    if getattr(args, "demos", None):
        demos = load_demos(args.demos)[0]
    seeds = parse_seeds(args.seeds) if getattr(args, "seeds", None) else None
    summary = evaluate_run(args.run_dir, episodes=getattr(args, "episodes", None), demos=demos,
                           seeds=seeds, output=getattr(args, "output", None),
                           device=getattr(args, "device", None))
    if getattr(args, "video", False):
        from irlgan.video import video_of_run

        summary["video"] = str(video_of_run(args.run_dir, demos=demos))
    if not getattr(args, "quiet", False):
        print(json.dumps(shown(summary), indent=2))
        if summary.get("normalized_return") is None and summary.get("normalized_return_note"):
            print(f"raw return {summary['return_mean']:.2f}; no normalised score: "
                  f"{summary['normalized_return_note']}")
    return 0
