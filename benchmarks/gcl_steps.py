"""Diagnosis: how far GCL's and GAN-GCL's cost steps move the cost, iteration by iteration.

Both cost steps weigh the demonstrations by 1 - D and the samples by D. On a batch the
trajectory discriminator separates by tens of nats these weights are tiny, and Adam (epsilon
1e-8) stops moving parameters whose gradients fall far below epsilon. This script trains each
given algorithm on Pendulum with its preset for a number of iterations (not to the end) and
records, per iteration, the discriminator's accuracy (the lower side's), the log of the total
weight of the pull on the demonstrations (`disc/log_pull`) and the push-to-pull ratio
(`disc/log_push_pull`), the relative change of the cost network's parameters over the
iteration's discriminator steps, the true return and the policy's entropy. It writes
``benchmarks/results/gcl_steps.json``, ``gcl_steps.txt`` (per run: the medians over
iterations 2-27 and the count of iterations whose relative change is below 1e-6, then every
iteration) and ``gcl_steps_summary.txt`` (the medians alone).

Usage (two runs of 40 iterations, a few minutes each on one core)::

    irlgan expert --env Pendulum-v1 --out runs/expert-pendulum   # or the control sweep's
    python benchmarks/gcl_steps.py --demos runs/sweep-control/trials/expert-Pendulum-v1-s0 \\
        --runs gcl:0 gan-gcl:1 --iterations 40
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch

from irlgan.control._run import build_algorithm
from irlgan.control.commands import build_config, load_demos

RESULTS = Path(__file__).parent / "results"


def trace(algorithm: str, seed: int, demos, iterations: int, env_id: str) -> list[dict]:
    run = build_config(algorithm, env_id, None, seed, None)
    algo = build_algorithm(run, demos)
    cost = algo.discriminator["cost"]

    def flat() -> torch.Tensor:
        return torch.cat([p.detach().flatten() for p in cost.parameters()]).clone()

    rows = []
    for _ in range(iterations):
        before = flat()
        row = algo.step()
        after = flat()
        rows.append({
            "iteration": row["iteration"],
            "accuracy": min(row["disc_acc_data"], row["disc_acc_gen"]),
            "log_pull": row["log_pull"], "log_push_pull": row["log_push_pull"],
            "log_z_gap": row["log_z_gap"],
            "cost_change": float((after - before).norm() / before.norm()),
            "return": row["env_return"], "entropy": row["entropy"]})
        print(f"{algorithm} s{seed} {json.dumps(rows[-1])}", flush=True)
    algo.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demos", required=True)
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--runs", nargs="+", default=["gcl:0", "gan-gcl:1"],
                        help="ALGORITHM:SEED pairs")
    parser.add_argument("--iterations", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    demos, *_ = load_demos(args.demos, args.env)
    results = {}
    for spec in args.runs:
        algorithm, seed = spec.split(":")
        results[spec] = trace(algorithm, int(seed), demos, args.iterations, args.env)
    lines = [f"{args.env}: the cost step per iteration (iterations 2-27 summarised: median log "
             "E_p[1 - D], median relative change of the cost's parameters, iterations with a "
             "change below 1e-6)", ""]
    for spec, rows in results.items():
        part = [r for r in rows if 2 <= r["iteration"] <= 27]
        median_pull = statistics.median(r["log_pull"] for r in part)
        lines.append(f"{spec:12s} log pull median {median_pull:8.1f}"
                     f" (range {min(r['log_pull'] for r in part):.1f} to "
                     f"{max(r['log_pull'] for r in part):.1f}), change median "
                     f"{statistics.median(r['cost_change'] for r in part):.1e}, below 1e-6 in "
                     f"{sum(r['cost_change'] < 1e-6 for r in part)} of {len(part)}")
    summary = "\n".join(lines) + "\n"
    for spec, rows in results.items():
        lines += ["", f"{spec}: iteration, accuracy, log pull, log push/pull, log Z gap, change, "
                  "return, entropy"]
        lines += [f"{r['iteration']:4d} {r['accuracy']:6.3f} {r['log_pull']:9.2f} "
                  f"{r['log_push_pull']:9.2f} {r['log_z_gap']:9.2f} {r['cost_change']:9.2e} "
                  f"{r['return']:9.1f} {r['entropy']:6.3f}" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gcl_steps.txt").write_text(text)
    (RESULTS / "gcl_steps_summary.txt").write_text(summary)
    (RESULTS / "gcl_steps.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
