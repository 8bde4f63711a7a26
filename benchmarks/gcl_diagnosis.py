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
  samples over training, one column per task, and, for runs that logged it, GAN-GCL's
  `disc/log_z_gap` (symlog scale).

GAN-GCL runs from a version that logs `disc/log_z_gap` and `disc/ess_gen_solved`
(`irlgan.algorithms.gan_gcl.log_z_gap`) add, over each half of training, the median of the gap
between the learned log Z and the one at which GAN-GCL's cost step is GCL's, the median fraction
of iterations where the learned log Z sits below it (gap > 0), and the mean ESS of the
generated samples at that log Z beside the mean at the learned one: the same batch weighted
GCL's way and GAN-GCL's. For GCL the gap is 0 and the two ESS coincide by construction.

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
    # iterations without a discriminator step (no episode had finished yet: MuJoCo's 1000-step
    # episodes span several rollouts) log no weights
    rows = [r for r in rows if math.isfinite(float(r["ess_fraction"] or "nan"))]
    if not rows:
        return None
    steps = [int(r["env_steps"]) for r in rows]
    ess = [float(r["ess_fraction"]) for r in rows]
    counts = [float(r["ess"]) for r in rows] if "ess" in rows[0] else [math.nan]
    gen = [float(r["ess_gen"]) for r in rows] if "ess_gen" in rows[0] else [math.nan]
    done = json.loads(summary.read_text())
    config = json.loads((folder / "config.json").read_text())
    algorithm = config.get("algorithm") or folder.name.split("-")[0]
    if config.get("algo", {}).get("gcl_normalize"):
        algorithm += " (normalised)"
    label = folder.name
    if config.get("algo", {}).get("log_z_init") == "solved":
        label += " (log Z solved)"
        algorithm += " (log Z solved)"
    if config.get("algo", {}).get("gcl_normalize") and "normalized" not in label:
        label += " (normalised)"
    second = ess[len(ess) // 2:]
    half = rows[len(rows) // 2:]
    acc = [min(float(r["disc_acc_data"]), float(r["disc_acc_gen"])) for r in half]
    log_z = [float(r["log_z"]) for r in half]
    gap = [float(r["log_z_gap"]) for r in rows] if "log_z_gap" in rows[0] else []
    solved = [float(r["ess_gen_solved"]) for r in rows] if "ess_gen_solved" in rows[0] else []
    lean = [float(r["log_push_pull"]) for r in rows] if "log_push_pull" in rows[0] else []
    pull = [float(r["log_pull"]) for r in rows] if "log_pull" in rows[0] else []
    if algorithm.startswith("gcl") and not gap:  # zero and the same ESS by construction
        gap, solved, lean = [0.0] * len(rows), list(gen), [0.0] * len(rows)
    first, second_half = slice(0, max(1, len(rows) // 2)), slice(len(rows) // 2, None)
    gap_stats = {}
    if gap:
        for name, part in (("1st", first), ("2nd", second_half)):
            values = [g for g in gap[part] if math.isfinite(g)]
            gap_stats[f"gap_median_{name}_half"] = (statistics.median(values) if values
                                                    else math.nan)
            gap_stats[f"gap_positive_{name}_half"] = (sum(g > 0 for g in values) / len(values)
                                                      if values else math.nan)
            pulls = [v for v in pull[part] if math.isfinite(v)]
            gap_stats[f"log_pull_median_{name}_half"] = (statistics.median(pulls) if pulls
                                                         else math.nan)
            leans = [v for v in lean[part] if math.isfinite(v)]
            gap_stats[f"lopsided_{name}_half"] = (sum(abs(v) > math.log(10) for v in leans)
                                                  / len(leans) if leans else math.nan)
            gap_stats[f"ess_gen_mean_{name}_half"] = _mean_finite(gen[part])
            gap_stats[f"ess_gen_solved_mean_{name}_half"] = _mean_finite(solved[part])
    return {
        **gap_stats, "log_z_gap": gap, "log_push_pull": lean,
        "run": label, "algorithm": algorithm, "env_id": done.get("env_id", ""),
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
    gapped = [r for r in runs if "gap_median_1st_half" in r]
    if gapped:
        lines += ["", "The gap between the learned log Z and the one at which the cost step is "
                  "GCL's (disc/log_z_gap; > 0: the learned log Z sits below it), median and "
                  "fraction of iterations > 0; the fraction of iterations whose step is "
                  "lopsided (push on samples and pull on data ten times apart or more, "
                  "|disc/log_push_pull| > ln 10; GCL's never is); and the ESS of the generated "
                  "samples at the learned log Z and at GCL's (mean), per half of training; "
                  "the median log of the pull's total weight, log E_p[1 - D] (disc/log_pull; "
                  "nan: not logged by that version)", "",
                  f"{'run':40s} {'half':>4s} {'gap':>9s} {'gap > 0':>8s} {'lopsided':>8s} "
                  f"{'ESS gen':>8s} {'at GCL Z':>8s} {'log pull':>9s}"]
        for r in sorted(gapped, key=lambda r: (r["env_id"], r["algorithm"], r["seed"])):
            for half in ("1st", "2nd"):
                lines.append(f"{r['run']:40s} {half:>4s} {r[f'gap_median_{half}_half']:9.2f} "
                             f"{r[f'gap_positive_{half}_half']:8.2f} "
                             f"{r[f'lopsided_{half}_half']:8.2f} "
                             f"{r[f'ess_gen_mean_{half}_half']:8.2f} "
                             f"{r[f'ess_gen_solved_mean_{half}_half']:8.2f} "
                             f"{r.get(f'log_pull_median_{half}_half', math.nan):9.2f}")
    if skipped:
        lines.append(f"({skipped} folder(s) without the ESS column or not finished, left out)")
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.txt").write_text(text)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(runs, indent=1) + "\n")
    tasks = sorted({r["env_id"] for r in runs})
    panels = 3 if any(r["algorithm"] == "gan-gcl" and r["log_z_gap"] for r in runs) else 2
    fig, axes = plt.subplots(panels, len(tasks), figsize=(5 * len(tasks), 3.2 * panels),
                             squeeze=False)
    for column, task in enumerate(tasks):
        for r in runs:
            if r["env_id"] != task:
                continue
            colour = {"gan-gcl": "C0", "gcl": "C3",
                      "gan-gcl (log Z solved)": "C2"}.get(r["algorithm"], "C1")
            for row, key in ((0, "ess"), (1, "ess_gen")):
                if len(r[key]) != len(r["steps"]):
                    continue  # an older run without this column
                axes[row][column].plot(r["steps"], r[key], color=colour, lw=0.8, alpha=0.8,
                                       label=f"{r['algorithm']} s{r['seed']}")
            if panels == 3 and len(r["log_z_gap"]) == len(r["steps"]):
                axes[2][column].plot(r["steps"], r["log_z_gap"], color=colour, lw=0.8,
                                     alpha=0.8, label=f"{r['algorithm']} s{r['seed']}")
        labels = [(0, "ESS / batch size"), (1, "ESS of the generated samples")]
        if panels == 3:
            labels.append((2, "log Z gap to GCL's (nats)"))
        for row, label in labels:
            ax = axes[row][column]
            if row == 2:
                ax.set_yscale("symlog", linthresh=1.0)
                ax.axhline(0.0, color="k", lw=0.5)
            else:
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
