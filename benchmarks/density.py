"""Benchmark: the EBM trained as a GAN against NCE (Gaussian noise), NCE (ML flow) and the flow.

For each dataset and seed it trains the four methods with `irlgan.density.train_run` (default
settings except where given below), then writes

* ``benchmarks/results/density.json``: every run's summary (accumulated: a run already in the
  file is skipped, so the benchmark can be extended seed by seed);
* ``benchmarks/results/density.txt``: the table, seed by seed, with the targets, the paired
  differences of each seed (test-sample noise only) and the EBM-minus-baseline NLL across seeds
  with a 95% Student-t interval (retraining noise too: the comparison that says whether a method
  is better on a dataset);
* ``benchmarks/results/density_<dataset>.png``: model density of each method (seed 0).

Usage (one thread per process; an EBM run of 3000 iterations takes about 4 minutes, all four
methods of one dataset and seed about 8, on a 2-core machine running two processes)::

    python benchmarks/density.py --datasets 8gaussians rings --seeds 0 1 2 &
    python benchmarks/density.py --datasets 2spirals checkerboard --seeds 0 1 2
    python benchmarks/density.py --table-only   # the table of both (processes share the JSON)
    python benchmarks/density.py --datasets checkerboard --seeds 3 4 5   # more seeds, added

Targets (issue 5): KL gap <= 0.03 (8gaussians, rings), <= 0.05 (2spirals), <= 0.10
(checkerboard); |IS log Z - quadrature| <= 0.01; |learned log Z - quadrature| <= 0.05; EBM NLL
below every baseline.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from irlgan._io import atomic_write_text, update_json  # noqa: E402
from irlgan.density import (  # noqa: E402
    DensityConfig,
    in_chunks,
    load_run,
    sample_data,
    train_run,
)
from irlgan.seeding import DENSITY_STREAMS, spawn_seeds  # noqa: E402
from irlgan.sweep import t_interval  # noqa: E402

RESULTS = Path(__file__).parent / "results"
METHODS = {
    "ebm": {"algorithm": "ebm"},
    "nce-gaussian": {"algorithm": "nce", "noise": "gaussian"},
    "nce-flow": {"algorithm": "nce", "noise": "flow"},
    "flow": {"algorithm": "flow"},
}
KL_TARGET = {"8gaussians": 0.03, "rings": 0.03, "2spirals": 0.05, "checkerboard": 0.10}
FIGURE_SEED = 0  # the density figures show this seed's runs (the docs say so)


def _key(dataset: str, method: str, seed: int) -> str:
    return f"{dataset}/{method}/s{seed}"


def run(datasets: list[str], seeds: list[int], methods: list[str], iterations: int | None,
        runs_dir: Path, results: dict) -> None:
    path = RESULTS / "density.json"
    for seed in seeds:
        for dataset in datasets:
            for method in methods:
                key = _key(dataset, method, seed)
                if key in results:
                    continue
                kwargs = dict(METHODS[method], dataset=dataset)
                if iterations is not None:
                    kwargs["iterations"] = iterations
                out = runs_dir / key.replace("/", "-")
                summary = train_and_store(DensityConfig(**kwargs), seed, out, key, results, path)
                print(f"{key:36s} gap {summary['kl_gap']:+.4f}  IS-quad "
                      f"{summary['log_z_importance'] - summary['log_z_quadrature']:+.4f}  "
                      f"learned-quad {summary['log_z_learned'] - summary['log_z_quadrature']:+.4f}"
                      f"  {summary['total_s']:.0f}s", flush=True)
                if seed == FIGURE_SEED:
                    _keep_density(out, dataset, method)


def train_and_store(config: DensityConfig, seed: int, out: Path, key: str, results: dict,
                    path: Path) -> dict:
    """Trains one run into a fresh folder `out`, adds its summary (with `total_s`, training plus
    evaluation seconds) to `results` and to the JSON file at `path`, and returns it."""
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    summary = train_run(config, out, seed=seed, quiet=True)
    summary["total_s"] = time.perf_counter() - start
    results[key] = summary
    _store(path, key, summary)
    return summary


def _store(path: Path, key: str, summary: dict) -> None:
    """Adds one run to the JSON file (parallel benchmark processes, e.g. one per dataset, may
    share it)."""
    update_json(path, key, summary)


@torch.no_grad()
def paired_differences(runs_dir: Path, dataset: str, seed: int, results: dict) -> dict | None:
    """NLL(EBM) - NLL(baseline) for each baseline, with the standard error of the difference.

    All methods of a seed are scored on the same test set, so the per-point differences
    log p_baseline(x_i) - log p_ebm(x_i) have a much smaller spread than either NLL: their mean
    is the NLL difference, and std / sqrt(n) its standard error. Covers the baselines run for
    this seed (a seed may have been run with only some methods, see ``--methods``); needs the run
    folders.
    """
    keys = {m: k for m in METHODS if (k := _key(dataset, m, seed)) in results}
    folders = {m: runs_dir / k.replace("/", "-") for m, k in keys.items()}
    if "ebm" not in keys or len(keys) < 2 or not all(
            (f / "config.json").is_file() for f in folders.values()):
        return None
    log_p = {}
    for method, folder in folders.items():
        trainer = load_run(folder)
        cfg = trainer.config
        test_seed = spawn_seeds(seed, DENSITY_STREAMS)["test"]  # the test set of evaluate_density
        test = sample_data(dataset, cfg.test_size, torch.Generator().manual_seed(test_seed))
        energy = in_chunks(trainer.model_energy, test).double()
        log_p[method] = -energy - results[keys[method]]["log_z_quadrature"]
    out = {}
    for method in keys:
        if method == "ebm":
            continue
        diff = log_p[method] - log_p["ebm"]  # mean: NLL(ebm) - NLL(method)
        out[method] = {"nll_difference": float(diff.mean()),
                       "standard_error": float(diff.std() / diff.shape[0] ** 0.5)}
    return out


def add_paired(runs_dir: Path, results: dict, path: Path) -> None:
    """Adds `paired` (see paired_differences) to every EBM summary that lacks it."""
    for key in sorted(results):
        dataset, method, seed = key.split("/")
        if method != "ebm" or "paired" in results[key]:
            continue
        paired = paired_differences(runs_dir, dataset, int(seed[1:]), results)
        if paired is not None:
            results[key]["paired"] = paired
            _store(path, key, results[key])


def _keep_density(out: Path, dataset: str, method: str) -> None:
    src = out / "plots" / "energy.png"
    if src.is_file():
        shutil.copyfile(src, RESULTS / f"density_{dataset}_{method}.png")


def table(results: dict) -> str:
    lines = [
        "EBM trained as a GAN vs baselines on 2-D data (nats). gap = test NLL - data entropy;",
        "IS = importance-sampling log Z (proposal q) - quadrature; learned = learned log Z -",
        "quadrature (0 by construction for the flow); time = training + evaluation seconds.",
        "",
        f"{'dataset':13s} {'seed':>4s} {'method':13s} {'NLL':>8s} {'gap':>8s} {'target':>7s} "
        f"{'IS':>8s} {'learned':>8s} {'ESS':>6s} {'flowNLL':>8s} {'MMD':>8s} {'time':>6s}",
    ]
    order = {m: i for i, m in enumerate(METHODS)}
    keys = sorted(results, key=lambda k: (k.split("/")[0], k.split("/")[2],
                                          order.get(k.split("/")[1], 9)))
    for key in keys:
        dataset, method, seed = key.split("/")
        s = results[key]
        lines.append(
            f"{dataset:13s} {seed[1:]:>4s} {method:13s} {s['nll']:8.4f} {s['kl_gap']:+8.4f} "
            f"{KL_TARGET.get(dataset, float('nan')):7.2f} "
            f"{s['log_z_importance'] - s['log_z_quadrature']:+8.4f} "
            f"{s['log_z_learned'] - s['log_z_quadrature']:+8.4f} "
            f"{s['importance_ess_fraction']:6.3f} {s['flow_nll']:8.4f} {s['mmd']:8.5f} "
            f"{s.get('total_s', s['wall_s']):6.0f}"
        )
    lines += ["", "Checks per dataset and seed (EBM):"]
    for key in keys:
        dataset, method, seed = key.split("/")
        if method != "ebm":
            continue
        s = results[key]
        base = [results[k]["nll"] for m in METHODS if m != "ebm"
                for k in [_key(dataset, m, int(seed[1:]))] if k in results]
        checks = {
            "gap": s["kl_gap"] <= KL_TARGET.get(dataset, float("inf")),
            "IS": abs(s["log_z_importance"] - s["log_z_quadrature"]) <= 0.01,
            "learned": abs(s["log_z_learned"] - s["log_z_quadrature"]) <= 0.05,
            f"beats {len(base)} baselines": bool(base) and s["nll"] < min(base),
        }
        lines.append(f"  {dataset:13s} {seed}: " + ", ".join(
            f"{name} {'ok' if ok else 'MISS'}" for name, ok in checks.items()))
    lines += ["", "Mean KL gap over seeds (the smallest of each dataset marked *):"]
    for dataset in sorted({k.split("/")[0] for k in keys}):
        means = {}
        for method in METHODS:
            gaps = [results[k]["kl_gap"] for k in keys
                    if k.startswith(f"{dataset}/{method}/")]
            if gaps:
                means[method] = (sum(gaps) / len(gaps), len(gaps))
        best = min(means, key=lambda m: means[m][0])
        lines.append(f"  {dataset:13s} " + "  ".join(
            f"{m} {g:+.4f}{'*' if m == best else ' '} ({n})" for m, (g, n) in means.items()))
    paired = {k: results[k]["paired"] for k in keys if "paired" in results[k]}
    if paired:
        lines += ["", "NLL(EBM) - NLL(baseline) on the shared test set, +- the standard error of "
                  "the paired difference",
                  "(win / loss: beyond 2 standard errors; tie: within):"]
        for key, table_row in paired.items():
            dataset, _, seed = key.split("/")
            cells = []
            for method, d in table_row.items():
                diff, se = d["nll_difference"], d["standard_error"]
                verdict = "win" if diff < -2 * se else "loss" if diff > 2 * se else "tie"
                cells.append(f"{method} {diff:+.4f} +- {se:.4f} {verdict}")
            lines.append(f"  {dataset:13s} {seed}: " + "; ".join(cells))
    lines += across_seeds(results)
    return "\n".join(lines) + "\n"


def across_seeds(results: dict) -> list[str]:
    """Per dataset and baseline: NLL(EBM) - NLL(baseline) seed by seed, their mean and a 95%
    Student-t interval over seeds.

    Within a seed both NLLs use the same test set, so the difference of the two NLLs is exactly
    the mean paired difference; across seeds the retraining noise dominates, and this interval is
    the one that says whether the EBM is better on the dataset, not just on one training run.
    """
    lines = ["", "NLL(EBM) - NLL(baseline) across seeds: mean and 95% t-interval over the seeds "
             "that ran both", "(lower / higher: the interval excludes 0; tie: it contains 0):"]
    for dataset in sorted({k.split("/")[0] for k in results}):
        seeds = sorted({int(k.split("/")[2][1:]) for k in results
                        if k.startswith(f"{dataset}/ebm/")})
        for method in METHODS:
            if method == "ebm":
                continue
            diffs = [results[_key(dataset, "ebm", s)]["nll"]
                     - results[_key(dataset, method, s)]["nll"]
                     for s in seeds if _key(dataset, method, s) in results]
            if len(diffs) < 2:
                continue
            n = len(diffs)
            mean, low, high = t_interval(diffs)
            half = high - mean
            verdict = "lower" if mean + half < 0 else "higher" if mean - half > 0 else "tie"
            lines.append(f"  {dataset:13s} vs {method:13s} n={n}: {mean:+.4f} +- {half:.4f} "
                         f"{verdict}; per seed " + " ".join(f"{d:+.4f}" for d in diffs))
    return lines


def plot(results: dict, datasets: list[str]) -> None:
    for dataset in datasets:
        images = [RESULTS / f"density_{dataset}_{m}.png" for m in METHODS]
        images = [p for p in images if p.is_file()]
        if not images:
            continue
        fig, axes = plt.subplots(1, len(images), figsize=(4.5 * len(images), 2.6))
        axes = [axes] if len(images) == 1 else axes
        for ax, path in zip(axes, images, strict=True):
            ax.imshow(plt.imread(path))
            ax.set_title(path.stem.split("_", 2)[2], fontsize=9)
            ax.axis("off")
        fig.savefig(RESULTS / f"density_{dataset}.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        for path in images:
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+",
                        default=["8gaussians", "rings", "2spirals", "checkerboard"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--iterations", type=int, default=None,
                        help="override every method's iterations (default: the config's)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmark-density"))
    parser.add_argument("--fresh", action="store_true", help="ignore earlier results")
    parser.add_argument("--table-only", action="store_true",
                        help="only rewrite the table and the figures from earlier results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    path = RESULTS / "density.json"
    results = {} if args.fresh or not path.is_file() else json.loads(path.read_text())
    if args.fresh and path.is_file():
        path.unlink()
    if not args.table_only:
        run(args.datasets, args.seeds, args.methods, args.iterations, args.runs_dir, results)
        results = json.loads(path.read_text())  # with the runs of parallel processes
    if path.is_file():
        add_paired(args.runs_dir, results, path)
    plot(results, args.datasets)
    text = table(results)
    atomic_write_text(RESULTS / "density.txt", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
