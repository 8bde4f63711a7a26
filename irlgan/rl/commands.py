"""`irlgan expert`: train an expert on the true reward, write demonstrations and reference returns.

The output folder (default `runs/expert-<env>-s<seed>`) holds

- `arrays.npz`, `metadata.json`: the demonstrations (`irlgan.Demonstrations`, with how each
  episode ended: terminated or truncated; pass the folder as `irlgan train ... --demos DIR`);
- `expert.json`: the expert's mean deterministic return and a uniformly random policy's mean
  return over `eval_episodes` held-out episodes (reset seeds from `EVAL_SEED_BASE`), the
  normalisation of every control benchmark, plus timings;
- `policy.pt`: the expert policy (`irlgan.rl.load_policy` rebuilds it);
- `config.json` and `metrics.csv` (one row per PPO iteration).

Demonstration actions are sampled from the expert (`demo_deterministic=false`, the default): the
theory models demonstrations as samples of a stochastic expert, and the learned cost then sees
the spread of expert behaviour rather than a single action per state. The expert is trained with
a small entropy weight, so the samples stay close to its mode.

Settings: `default_expert_config` (the ``experts`` presets), then `--set KEY=VALUE` overrides of
`ExpertConfig` fields, the PPO ones by their dotted path (`--set num_envs=8`,
`--set ppo.gamma=0.95`, `--set hidden=32,32`).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from irlgan._io import software_versions, write_csv, write_json
from irlgan.config import apply_overrides
from irlgan.rl._demos import generate_demonstrations
from irlgan.rl._evaluate import evaluate_policy, normalized_return, random_returns
from irlgan.rl._expert import (
    ExpertConfig,
    default_expert_config,
    expert_config_to_dict,
    save_policy,
    train_expert,
)
from irlgan.rl._rollout import EVAL_SEED_BASE
from irlgan.rl._vec_env import make_vec_env
from irlgan.runs import open_run

__all__ = ["DEFAULT_EXPERT_STEPS", "expert", "expert_config_with_overrides"]

DEFAULT_EXPERT_STEPS = {
    "Pendulum-v1": 1_000_000,
    "irlgan/PointMass-v0": 100_000,
    "MountainCarContinuous-v0": 300_000,
    "irlgan/PointMazeLeft-v0": 200_000,
    "irlgan/PointMazeRight-v0": 200_000,
    "HalfCheetah-v5": 1_000_000,
    "Swimmer-v5": 1_000_000,
    "Hopper-v5": 1_000_000,
    "Ant-v5": 1_000_000,
}
"""Training steps of `irlgan expert` when `--steps` is not given (else 500,000)."""


def expert_config_with_overrides(env_id: str, overrides: dict[str, Any] | None) -> ExpertConfig:
    """`default_expert_config(env_id)` with `--set` overrides applied.

    Keys name `ExpertConfig` fields (``num_envs=8``), and with ``ppo.`` the fields of its nested
    `PPOConfig` (``ppo.gamma=0.95``, ``ppo.value_hidden=(32,32)``); anything else is a ValueError
    that lists the valid keys (`irlgan.config.apply_overrides`).
    """
    return apply_overrides(default_expert_config(env_id), overrides)


def _env_slug(env_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", env_id).strip("-")


def expert(args: argparse.Namespace) -> int:
    """Runs `irlgan expert --env ID [--steps N] [--seed S] [--out DIR] [--set K=V] [--quiet]`."""
    torch.set_num_threads(1)  # small networks: one thread is fastest, and fair on shared cores
    env_id = args.env
    seed = int(getattr(args, "seed", 0) or 0)
    if seed < 0:
        raise ValueError(f"--seed must be non-negative, got {seed}")
    config = expert_config_with_overrides(env_id, getattr(args, "overrides", None))
    for name in ("demo_episodes", "eval_episodes", "num_envs", "steps_per_env"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be a positive integer, got {getattr(config, name)}")
    steps = args.steps if args.steps is not None else DEFAULT_EXPERT_STEPS.get(env_id, 500_000)
    out = Path(args.out) if args.out else Path("runs") / f"expert-{_env_slug(env_id)}-s{seed}"
    quiet = bool(getattr(args, "quiet", False))
    make_vec_env(env_id, 1).close()  # an unknown or unfit environment fails before any folder
    settings = {"task": "expert", "env_id": env_id, "steps": steps, "seed": seed,
                "config": expert_config_to_dict(config)}
    with open_run(out, settings, resume=False, resumable=False) as folder:
        folder.started = True
        _train_and_record(env_id, steps, seed, config, out, quiet)
    return 0


def _train_and_record(env_id: str, steps: int, seed: int, config: ExpertConfig, out: Path,
                      quiet: bool) -> None:
    start = time.perf_counter()
    result = train_expert(env_id, steps, seed, config, quiet=quiet)
    write_csv(out / "metrics.csv", result.history)
    save_policy(out / "policy.pt", result.policy, env_id, config.hidden)

    expert_returns = evaluate_policy(result.policy, env_id, config.eval_episodes, EVAL_SEED_BASE)
    baseline = random_returns(env_id, config.eval_episodes, EVAL_SEED_BASE)
    expert_mean, random_mean = float(expert_returns.mean()), float(baseline.mean())
    demos = generate_demonstrations(
        result.policy, env_id, config.demo_episodes, seed,
        deterministic=config.demo_deterministic,
        expert_return=expert_mean, random_return=random_mean,
    )
    reference_seeds = [EVAL_SEED_BASE + i for i in range(config.eval_episodes)]
    _as_demonstrations(demos, reference_seeds).save(out)
    demo_mean = float(demos.returns.mean())
    try:
        demo_normalized = float(normalized_return(demo_mean, expert_mean, random_mean))
    except ValueError:
        demo_normalized = float("nan")
    summary = {
        "env_id": env_id,
        "seed": seed,
        "env_steps": result.env_steps,
        "expert_return": expert_mean,
        "expert_return_std": float(expert_returns.std()),
        "random_return": random_mean,
        "random_return_std": float(baseline.std()),
        "eval_episodes": config.eval_episodes,
        "eval_seed_base": EVAL_SEED_BASE,
        "demo_episodes": demos.count,
        "demo_deterministic": demos.deterministic,
        "demo_return_mean": demo_mean,
        "demo_normalized_return": demo_normalized if np.isfinite(demo_normalized) else None,
        "train_wall_s": result.wall_s,
        "rollout_s": result.rollout_s,
        "update_s": result.update_s,
        "steps_per_s": result.env_steps / result.wall_s if result.wall_s > 0 else None,
        "wall_s": time.perf_counter() - start,
        "software": software_versions(),
    }
    write_json(out / "expert.json", summary, schema="irlgan.expert")
    if not quiet:
        print(f"expert {env_id} seed {seed}: return {expert_mean:.1f} "
              f"(random {random_mean:.1f}), demonstrations {demos.count} "
              f"(mean return {demo_mean:.1f}) in {out}")


def _as_demonstrations(demos: Any, reference_seeds: list[int] | None = None) -> Any:
    """The recorded episodes as `irlgan.Demonstrations` (terminated and truncated explicit)."""
    from irlgan.data import Demonstrations

    lengths = demos.lengths.tolist()
    terminated = [bool(t) for t in demos.episode_terminated]
    return Demonstrations.from_arrays(
        [demos.obs[i, :n + 1].numpy() for i, n in enumerate(lengths)],
        [demos.actions[i, :n].numpy() for i, n in enumerate(lengths)],
        terminated, truncated=[not t for t in terminated], returns=demos.returns.numpy(),
        rewards=getattr(demos, "episode_rewards", None), env_id=demos.env_id,
        expert_return=demos.expert_return, random_return=demos.random_return,
        reference_seeds=reference_seeds)
