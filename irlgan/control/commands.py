"""`irlgan train {gan-gcl,gcl,airl} --env ID --demos DIR` and `irlgan eval RUN_DIR` (control).

`train` builds the `ControlConfig` from the task's built-in settings (`default_config`), then
`--steps` (total environment steps), `--seed` and `--set KEY=VALUE` overrides, and trains in the
run folder (default `runs/<algo>-<env>-s<seed>`), resuming with `--resume`. The normalisation
references come from the demonstrations' metadata (written by `irlgan expert`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
from pathlib import Path

import torch

from irlgan.algorithms import TrajectoryBatch
from irlgan.config import apply_overrides
from irlgan.control._config import ControlConfig, default_config
from irlgan.control._run import evaluate_run, train_run

__all__ = ["build_config", "evaluate", "load_demos", "train"]


def load_demos(directory: str | os.PathLike, env_id: str | None = None
               ) -> tuple[TrajectoryBatch, float | None, float | None]:
    """Reads demonstrations written by `irlgan expert`.

    Args:
        directory: the demonstrations folder.
        env_id: if given, the demonstrations must come from this environment.

    Returns:
        (episodes, expert_return, random_return); an episode shorter than the environment's time
        limit is marked terminated.
    """
    from irlgan.data import load_continuous_demonstrations
    from irlgan.rl import make_vec_env

    demos = load_continuous_demonstrations(directory)
    if env_id is not None and demos.env_id != env_id:
        raise ValueError(f"the demonstrations in {directory} come from {demos.env_id!r}, "
                         f"not {env_id!r}")
    probe = make_vec_env(demos.env_id, 1)
    limit = probe.max_episode_steps
    probe.close()
    lengths = torch.as_tensor(demos.lengths)
    terminated = (lengths < limit) if limit is not None else torch.zeros_like(lengths).bool()
    batch = TrajectoryBatch(torch.as_tensor(demos.obs, dtype=torch.float32),
                            torch.as_tensor(demos.actions, dtype=torch.float32),
                            demos.mask.to(torch.float32), terminated.bool())
    meta = demos.metadata() if callable(getattr(demos, "metadata", None)) else demos.metadata
    return batch, meta.get("expert_return"), meta.get("random_return")


def build_config(algo: str, env_id: str, steps: int | None, seed: int,
                 overrides: dict[str, str] | None) -> ControlConfig:
    """The run's settings: built-in defaults, then --steps, --seed and --set overrides."""
    config = default_config(algo, env_id)
    config = dataclasses.replace(config, seed=int(seed))
    if steps is not None:
        config = dataclasses.replace(config, total_steps=int(steps))
    overrides = dict(overrides or {})
    for fixed in ("algorithm", "env_id"):
        if fixed in overrides:
            raise ValueError(f"--set {fixed}=... is not allowed; use the positional ALGO / --env")
    return apply_overrides(config, overrides)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def train(args: argparse.Namespace) -> int:
    """Runs `irlgan train ALGO --env ID --demos DIR [...]`; prints the summary."""
    if args.demos is None:
        raise ValueError(f"irlgan train {args.algo} needs --demos DIR (run `irlgan expert` first)")
    if not Path(args.demos).is_dir():
        raise ValueError(f"--demos {args.demos} is not a folder")
    config = build_config(args.algo, args.env, args.steps, args.seed,
                          getattr(args, "overrides", None))
    torch.set_num_threads(1)
    demos, expert_return, random_return = load_demos(args.demos, config.env_id)
    out = args.out or str(Path("runs") / f"{args.algo}-{_slug(config.env_id)}-s{config.seed}")
    summary = train_run(config, demos, out, demos_dir=args.demos, resume=bool(args.resume),
                        expert_return=expert_return, random_return=random_return,
                        progress=not args.quiet)
    if not args.quiet:
        print(json.dumps(summary, indent=2))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Runs `irlgan eval RUN_DIR [--episodes N]`: evaluates the newest checkpoint."""
    torch.set_num_threads(1)
    summary = evaluate_run(args.run_dir, episodes=getattr(args, "episodes", None))
    if not getattr(args, "quiet", False):
        print(json.dumps(summary, indent=2))
    return 0
