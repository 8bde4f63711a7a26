"""Diagnosis: how many trajectories GCL's and GAN-GCL's cost gradients rest on.

Both objectives push the cost up on the batch with weights w_k D_k (the batch weights times the
discriminator's D): GCL at the self-consistent log Z of each batch, GAN-GCL at its learned log
Z(x_0); at the self-consistent Z the two gradients coincide (identity (b)). The trainers log the
Kish effective sample size of those weights over the batch size (`disc/ess_fraction`,
`disc/ess` without the division; `irlgan.losses.importance_ess`) at the last discriminator step
of every iteration. This script
reads it from finished run folders, such as the trials of the control sweep, and writes

* ``benchmarks/results/gcl_diagnosis.txt``: per run, the final normalised return, the ESS
  (median over the second half of training), the ESS fraction (median and 10th percentile),
  the ESS of the generated samples alone (`disc/ess_gen`, median), the discriminator's accuracy
  (the lower of the two sides, median) and how far log Z moved (max - min), all over the second
  half of training, and the mean ESS of the generated samples over the first half and its
  largest value;
* ``docs/assets/control/gcl_diagnosis.png``: the ESS fraction and the ESS of the generated
  samples over training, one column per task.

Usage::

    irlgan sweep benchmarks/sweeps/control.toml --out runs/sweep-control
    python benchmarks/gcl_diagnosis.py runs/sweep-control/trials/gcl-* \\
        runs/sweep-control/trials/gan-gcl-*
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).parent / "results"
FIGURES = Path(__file__).resolve().parents[1] / "docs" / "assets" / "control"


def _mean_finite(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.mean(finite) if finite else math.nan


def read_run(folder: Path) -> dict | None:
    """The run's ESS curve and score, or None when it logged no ESS (an older run)."""
    metrics = folder / "metrics.csv"
    summary = folder / "summary.json"
    if not metrics.is_file() or not summary.is_file():
        return None
    with metrics.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "ess_fraction" not in rows[0]:
        return None
    steps = [int(r["env_steps"]) for r in rows]
    ess = [float(r["ess_fraction"]) for r in rows]
    counts = [float(r["ess"]) for r in rows] if "ess" in rows[0] else [math.nan]
    gen = [float(r["ess_gen"]) for r in rows] if "ess_gen" in rows[0] else [math.nan]
    done = json.loads(summary.read_text())
    config = json.loads((folder / "config.json").read_text())
    algorithm = config.get("algorithm") or folder.name.split("-")[0]
    second = ess[len(ess) // 2:]
    half = rows[len(rows) // 2:]
    acc = [min(float(r["disc_acc_data"]), float(r["disc_acc_gen"])) for r in half]
    log_z = [float(r["log_z"]) for r in half]
    return {
        "run": folder.name, "algorithm": algorithm, "env_id": done.get("env_id", ""),
        "seed": done.get("seed"), "normalized_return": done.get("normalized_return"),
        "ess_median_2nd_half": statistics.median(second),
        "ess_p10_2nd_half": sorted(second)[max(0, math.ceil(0.1 * len(second)) - 1)],
        "ess_count_median_2nd_half": statistics.median(counts[len(counts) // 2:]),
        "ess_gen_median_2nd_half": statistics.median(gen[len(gen) // 2:]),
        "ess_gen_mean_1st_half": _mean_finite(gen[:max(1, len(gen) // 2)]),
        "ess_gen_max": max((g for g in gen if math.isfinite(g)), default=math.nan),
        "ess_gen": gen,
        "acc_min_median_2nd_half": statistics.median(acc),
        "log_z_range_2nd_half": max(log_z) - min(log_z),
        "steps": steps, "ess": ess}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (GCL and GAN-GCL)")
    parser.add_argument("--name", default="gcl_diagnosis", help="output file stem")
    args = parser.parse_args()
    runs = [r for r in (read_run(f) for f in sorted(args.runs)) if r is not None]
    skipped = len(args.runs) - len(runs)
    if not runs:
        raise SystemExit("no run folder with disc/ess_fraction in its metrics.csv")
    lines = ["GCL and GAN-GCL over the second half of training: the Kish effective sample size "
             "of the cost gradient's batch weights (disc/ess), over the batch size (fraction; "
             "median and 10th percentile), of the generated samples alone (disc/ess_gen); the "
             "discriminator's accuracy (the lower side's, median) and the range of log Z", "",
             f"{'run':40s} {'norm. return':>12s} {'ESS':>8s} {'fraction':>9s} "
             f"{'p10':>8s} {'ESS gen':>8s} {'accuracy':>8s} {'log Z range':>11s} "
             f"{'1st half: ESS gen mean':>22s} {'max':>6s}"]
    for r in sorted(runs, key=lambda r: (r["env_id"], r["algorithm"], r["seed"])):
        score = r["normalized_return"]
        shown = f"{'-':>12s}" if score is None else f"{score:12.3f}"
        lines.append(f"{r['run']:40s} {shown} {r['ess_count_median_2nd_half']:8.2f} "
                     f"{r['ess_median_2nd_half']:9.4f} {r['ess_p10_2nd_half']:8.4f} "
                     f"{r['ess_gen_median_2nd_half']:8.2f} {r['acc_min_median_2nd_half']:8.3f} "
                     f"{r['log_z_range_2nd_half']:11.3f} {r['ess_gen_mean_1st_half']:22.2f} "
                     f"{r['ess_gen_max']:6.1f}")
    if skipped:
        lines.append(f"({skipped} folder(s) without the ESS column or not finished, left out)")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.txt").write_text(text)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(runs, indent=1) + "\n")
    tasks = sorted({r["env_id"] for r in runs})
    fig, axes = plt.subplots(2, len(tasks), figsize=(5 * len(tasks), 6.4), squeeze=False)
    for column, task in enumerate(tasks):
        for r in runs:
            if r["env_id"] != task:
                continue
            colour = "C0" if r["algorithm"] == "gan-gcl" else "C3"
            for row, key in ((0, "ess"), (1, "ess_gen")):
                if len(r[key]) != len(r["steps"]):
                    continue  # an older run without this column
                axes[row][column].plot(r["steps"], r[key], color=colour, lw=0.8, alpha=0.8,
                                       label=f"{r['algorithm']} s{r['seed']}")
        for row, label in ((0, "ESS / batch size"), (1, "ESS of the generated samples")):
            ax = axes[row][column]
            ax.set_yscale("log")
            ax.set_xlabel("environment steps")
            ax.set_ylabel(label)
            ax.set_title(task, fontsize=10)
            ax.legend(fontsize=7)
    fig.tight_layout()
    FIGURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURES / f"{args.name}.png", dpi=110)


if __name__ == "__main__":
    main()
