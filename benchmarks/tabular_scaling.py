"""Benchmark (not a test): time for exact MaxEnt IRL, GAN-GCL and GCL to reach 0.05 nats.

For grid worlds from 5x5 to 20x20 and horizons from 8 to 50, each method is timed until its
demonstration log-likelihood is within 0.05 nats per trajectory of the exact (L2-regularised)
MaxEnt IRL optimum (and, for the GANs, its generator within 0.05 nats of KL). Prints a table and
writes JSON for the docs.

    python benchmarks/tabular_scaling.py            # the full table
    python benchmarks/tabular_scaling.py --quick    # two small problems
    python benchmarks/tabular_scaling.py --generator exact   # the cost learning alone
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

from irlgan.algorithms import TabularConfig, train_tabular
from irlgan.envs import GridWorldEnv
from irlgan.tabular import (
    maxent_irl,
    mean_log_likelihood,
    sample_trajectories,
    soft_value_iteration,
)

TARGET = 0.05


def grid_layout(size: int, seed: int) -> list[str]:
    """A size x size grid: start top-left, goal bottom-right, ~8% walls and ~8% hazards."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(size):
        row = []
        for _ in range(size):
            u = torch.rand((), generator=gen).item()
            row.append("#" if u < 0.08 else "H" if u < 0.16 else ".")
        rows.append(row)
    rows[0][0], rows[-1][-1] = "S", "G"
    return ["".join(r) for r in rows]


def exact_time_to_target(mdp, states, actions, l2: float, optimum: float) -> tuple[float, int]:
    """Seconds of L-BFGS (warm restarts of 5 iterations) until within TARGET of the optimum."""
    t0 = time.perf_counter()
    weights = None
    for rounds in range(1, 400):
        result = maxent_irl(mdp, states, actions, l2=l2, steps=5, initial_weights=weights)
        weights = result.weights
        if optimum - result.log_likelihood <= TARGET:
            return time.perf_counter() - t0, rounds * 5
    return math.nan, -1


def run(size: int, horizon: int, algorithms, iterations: int, seed: int = 0,
        generator: str = "sampled") -> dict:
    env = GridWorldEnv(grid_layout(size, seed), horizon=horizon)
    problem = env.to_tabular()
    mdp, true_cost = problem.mdp, problem.cost
    _, _, expert = soft_value_iteration(mdp, true_cost)
    states, actions = sample_trajectories(mdp, expert, 100, torch.Generator().manual_seed(seed))
    l2 = TabularConfig().l2
    t0 = time.perf_counter()
    reference = maxent_irl(mdp, states, actions, l2=l2)
    row = {"grid": f"{size}x{size}", "states": mdp.num_states, "horizon": horizon,
           "optimum": reference.log_likelihood, "exact_converged": reference.converged,
           "exact_full_s": time.perf_counter() - t0,
           "true_cost_ll": float(mean_log_likelihood(mdp, true_cost, states, actions))}
    row["exact_s"], _ = exact_time_to_target(mdp, states, actions, l2, reference.log_likelihood)
    for algorithm in algorithms:
        config = TabularConfig(algorithm=algorithm, iterations=iterations, seed=seed,
                               eval_every=5, generator=generator)
        result = train_tabular(mdp, states, actions, config)
        reached = [r for r in result.history
                   if reference.log_likelihood - r["log_likelihood"] <= TARGET
                   and r["kl"] <= TARGET]
        row[f"{algorithm}_s"] = reached[0]["seconds"] if reached else math.nan
        row[f"{algorithm}_final_gap"] = reference.log_likelihood - result.final["log_likelihood"]
        row[f"{algorithm}_final_kl"] = result.final["kl"]
        row[f"{algorithm}_total_s"] = result.seconds
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small problems only")
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument("--generator", choices=("sampled", "exact"), default="sampled",
                        help="the generator update (exact: damped steps to the soft-optimal "
                             "policy, which isolates the cost learning)")
    parser.add_argument("--out", default=None,
                        help="JSON output (default: benchmarks/results/tabular_scaling_"
                             "GENERATOR.json)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        problems = [(5, 8), (8, 12)]
    else:
        problems = [(5, 12), (10, 12), (15, 12), (20, 12), (10, 8), (10, 25), (10, 50)]
    algorithms = ("gan-gcl", "gcl")
    rows = []
    head = (f"{'grid':>6}{'S':>5}{'T':>4}{'optimum':>10}{'exact s':>9}"
            + "".join(f"{a + ' s':>11}{'gap':>8}{'KL':>8}" for a in algorithms))
    print(head)
    print("-" * len(head))
    for size, horizon in problems:
        row = run(size, horizon, algorithms, args.iterations, generator=args.generator)
        rows.append(row)
        line = (f"{row['grid']:>6}{row['states']:>5}{row['horizon']:>4}{row['optimum']:>10.3f}"
                f"{row['exact_s']:>9.2f}")
        for a in algorithms:
            line += (f"{row[f'{a}_s']:>11.2f}{row[f'{a}_final_gap']:>8.3f}"
                     f"{row[f'{a}_final_kl']:>8.3f}")
        print(line, flush=True)
    out = Path(args.out or f"benchmarks/results/tabular_scaling_{args.generator}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"target_nats": TARGET, "iterations": args.iterations,
                               "generator": args.generator,
                               "torch_threads": 1, "rows": rows}, indent=2) + "\n")
    print(f"\nseconds: wall time to reach the {TARGET}-nat target (nan: not reached in "
          f"{args.iterations} iterations); gap, KL: at the end. Wrote {out}")


if __name__ == "__main__":
    main()
