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
    """Reads a demonstrations folder (`irlgan.Demonstrations.load`).

    Args:
        directory: the demonstrations folder.
        env_id: if given and the demonstrations record their environment, it must be this one.

    Returns:
        (demonstrations, expert_return, random_return).
    """
    from irlgan.data import Demonstrations

    demos = Demonstrations.load(directory)
    if env_id is not None and demos.env_id is not None and demos.env_id != env_id:
        raise ValueError(f"the demonstrations in {directory} come from {demos.env_id!r}, "
                         f"not {env_id!r}")
    return demos, demos.expert_return, demos.random_return


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
        raise ValueError(f"irlgan train {args.algo} needs --demos DIR (run `irlgan expert` first)")
    if not Path(args.demos).is_dir():
        raise ValueError(f"--demos {args.demos} is not a folder")
    run = build_config(args.algo, args.env, args.steps, args.seed,
                       getattr(args, "overrides", None))
    torch.set_num_threads(1)
    demos, expert_return, random_return = load_demos(args.demos, run.env_id)
    out = args.out or str(Path("runs") / f"{args.algo}-{_slug(run.env_id)}-s{run.seed}")
    summary = train_run(run, demos, out, demos_dir=args.demos, resume=bool(args.resume),
                        expert_return=expert_return, random_return=random_return,
                        progress=not args.quiet)
    if not args.quiet:
        print(json.dumps(summary, indent=2))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Runs `irlgan eval RUN_DIR [--episodes N] [--output FILE] [--demos DIR]`: evaluates the
    newest checkpoint and writes RUN_DIR/evals/<checkpoint>-<N>ep.json (or FILE)."""
    torch.set_num_threads(1)
    demos = expert_return = random_return = None
    if getattr(args, "demos", None):
        demos, expert_return, random_return = load_demos(args.demos)
    summary = evaluate_run(args.run_dir, episodes=getattr(args, "episodes", None), demos=demos,
                           expert_return=expert_return, random_return=random_return,
                           output=getattr(args, "output", None))
    if not getattr(args, "quiet", False):
        print(json.dumps(summary, indent=2))
    return 0
