"""Benchmark: the EBM trained as a GAN against NCE (Gaussian noise), NCE (ML flow) and the flow.

For each dataset and seed it trains the four methods with `irlgan.density.train_run` (default
settings except where given below), then writes

* ``benchmarks/results/density.json``: every run's summary (accumulated: a run already in the
  file is skipped, so the benchmark can be extended seed by seed);
* ``benchmarks/results/density.txt``: the table, seed by seed, with the targets;
* ``benchmarks/results/density_<dataset>.png``: model density of each method (seed 0).

Usage (one thread, one process; about 4-6 minutes per dataset and seed on a shared CPU)::

    python benchmarks/density.py --datasets 8gaussians rings 2spirals checkerboard --seeds 0 1 2

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

from irlgan._io import atomic_write_text, write_json  # noqa: E402
from irlgan.density import DensityConfig, train_run  # noqa: E402

RESULTS = Path(__file__).parent / "results"
METHODS = {
    "ebm": {"algorithm": "ebm"},
    "nce-gaussian": {"algorithm": "nce", "noise": "gaussian"},
    "nce-flow": {"algorithm": "nce", "noise": "flow"},
    "flow": {"algorithm": "flow"},
}
KL_TARGET = {"8gaussians": 0.03, "rings": 0.03, "2spirals": 0.05, "checkerboard": 0.10}


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
                config = DensityConfig(**kwargs)
                out = runs_dir / key.replace("/", "-")
                if out.exists():
                    shutil.rmtree(out)
                start = time.perf_counter()
                summary = train_run(config, out, seed=seed, quiet=True)
                summary["total_s"] = time.perf_counter() - start
                results[key] = summary
                write_json(path, results)
                print(f"{key:36s} gap {summary['kl_gap']:+.4f}  IS-quad "
                      f"{summary['log_z_importance'] - summary['log_z_quadrature']:+.4f}  "
                      f"learned-quad {summary['log_z_learned'] - summary['log_z_quadrature']:+.4f}"
                      f"  {summary['total_s']:.0f}s", flush=True)
                if seed == seeds[0]:
                    _keep_density(out, dataset, method)


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
    return "\n".join(lines) + "\n"


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
    if not args.table_only:
        run(args.datasets, args.seeds, args.methods, args.iterations, args.runs_dir, results)
    plot(results, args.datasets)
    text = table(results)
    atomic_write_text(RESULTS / "density.txt", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
