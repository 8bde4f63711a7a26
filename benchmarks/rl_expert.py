"""MaxEnt PPO on the true reward: normalised return, steps per second and where the time goes.

For each task: a reference expert (seed 100, `--expert-steps`) gives R_expert, its mean
deterministic return on 50 held-out reset seeds (from `irlgan.rl.EVAL_SEED_BASE`); uniformly
random actions on the same seeds give R_random. Then `train_expert` runs with the benchmark's
budget on seeds 0, 1, 2 (one torch thread), each evaluated the same way:
normalised return = (R - R_random) / (R_expert - R_random).

    python benchmarks/rl_expert.py                       # Pendulum-v1, 500k steps per seed
    python benchmarks/rl_expert.py --env irlgan/PointMass-v0 --steps 100000 --expert-steps 200000

Writes `benchmarks/results/rl_expert.json` (appending per task) and prints a table; the
numbers in `benchmarks/results/rl_expert.txt` come from this script.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import torch

from irlgan.rl import (
    EVAL_EPISODES,
    EVAL_SEED_BASE,
    evaluate_policy,
    normalized_return,
    random_returns,
    train_expert,
)
from irlgan.rl.commands import expert_config_with_overrides

RESULTS = Path(__file__).parent / "results" / "rl_expert.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--steps", type=int, default=500_000, help="budget per seed")
    parser.add_argument("--expert-steps", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", dest="set_items", action="append", default=[],
                        metavar="KEY=VALUE", help="ExpertConfig override (ppo.gamma=0.95)")
    parser.add_argument("--label", default="", help="a name for this configuration")
    args = parser.parse_args()
    torch.set_num_threads(1)
    overrides = dict(item.split("=", 1) for item in args.set_items)
    config = expert_config_with_overrides(args.env, overrides)

    baseline = random_returns(args.env, EVAL_EPISODES, EVAL_SEED_BASE)
    reference = train_expert(args.env, args.expert_steps, 100, config)
    expert_returns = evaluate_policy(reference.policy, args.env, EVAL_EPISODES, EVAL_SEED_BASE)
    r_expert, r_random = float(expert_returns.mean()), float(baseline.mean())
    print(f"{args.env}: R_expert {r_expert:.1f} (seed 100, {reference.env_steps} steps, "
          f"{reference.wall_s:.0f} s), R_random {r_random:.1f}", flush=True)
    rows = []
    for seed in args.seeds:
        load = os.getloadavg()[0]
        result = train_expert(args.env, args.steps, seed, config)
        start = time.perf_counter()
        returns = evaluate_policy(result.policy, args.env, EVAL_EPISODES, EVAL_SEED_BASE)
        eval_s = time.perf_counter() - start
        row = {
            "seed": seed,
            "env_steps": result.env_steps,
            "return_mean": float(returns.mean()),
            "return_std": float(returns.std()),
            "normalized_return": float(normalized_return(float(returns.mean()), r_expert,
                                                         r_random)),
            "wall_s": result.wall_s,
            "rollout_s": result.rollout_s,
            "update_s": result.update_s,
            "steps_per_s": result.env_steps / result.wall_s,
            "eval_s": eval_s,
            "load_average_at_start": load,
        }
        rows.append(row)
        print(f"  seed {seed}: return {row['return_mean']:8.1f} normalised "
              f"{row['normalized_return']:.3f}  wall {row['wall_s']:6.1f} s (rollout "
              f"{row['rollout_s']:.1f}, update {row['update_s']:.1f})  "
              f"{row['steps_per_s']:.0f} steps/s  load {load:.1f}", flush=True)
    mean = sum(r["normalized_return"] for r in rows) / len(rows)
    print(f"  mean normalised return {mean:.3f}")
    record = {
        "env_id": args.env, "label": args.label, "steps": args.steps,
        "expert_steps": args.expert_steps, "expert_return": r_expert,
        "expert_return_std": float(expert_returns.std()), "random_return": r_random,
        "config": dataclasses.asdict(config), "seeds": rows, "mean_normalized_return": mean,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append(record)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(history, indent=2) + "\n")


if __name__ == "__main__":
    main()
