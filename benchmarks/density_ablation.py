"""Ablation: adaptive against fixed noise when the energy network is too small for the data.

The energy step's gradient is a likelihood gradient weighted by w = q / (p_θ + q)
(`derivations/ebm.py`, records ``ebm/weighted-gradient`` and ``ebm/matched-sampler-likelihood``):
when the sampler q equals the model p_θ the weight is 1/2 everywhere and the energy's stationary
points are those of maximum likelihood, also when no energy of the family fits the data; a fixed
noise gives a q-weighted fit instead. When the family can fit the data, every noise has the same
optimum (p_θ = p), which is the regime of the main benchmark (`benchmarks/density.py`).

This script makes the family too small on purpose (energy MLP 32-32) and trains, per dataset and
seed, with otherwise default settings:

* ``ebm``: the default EBM (its generator step includes the flow's maximum-likelihood term, which
  pulls q towards the data rather than towards the model);
* ``ebm-tracking``: the same with ``flow_ml_weight=0``, so the generator only minimises
  KL(q || p_θ) (the paper's generator loss) and tracks the model;
* ``nce-gaussian`` and ``nce-flow``: the fixed-noise baselines of the main benchmark.

Writes ``benchmarks/results/density_ablation.json`` (accumulated, safe for parallel processes)
and ``density_ablation.txt``. Usage, one thread per process (about 9 minutes per dataset and
seed)::

    python benchmarks/density_ablation.py --datasets 2spirals checkerboard --seeds 0 1 &
    python benchmarks/density_ablation.py --datasets 2spirals checkerboard --seeds 2
    python benchmarks/density_ablation.py --table-only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from density import train_and_store  # noqa: E402  (locked, accumulating JSON)

from irlgan._io import atomic_write_text  # noqa: E402
from irlgan.density import DensityConfig  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SMALL = {"energy_hidden": (32, 32)}
METHODS = {
    "ebm": {"algorithm": "ebm"},
    "ebm-tracking": {"algorithm": "ebm", "flow_ml_weight": 0.0},
    "nce-gaussian": {"algorithm": "nce", "noise": "gaussian"},
    "nce-flow": {"algorithm": "nce", "noise": "flow"},
}


def run(datasets: list[str], seeds: list[int], runs_dir: Path, results: dict) -> None:
    path = RESULTS / "density_ablation.json"
    for seed in seeds:
        for dataset in datasets:
            for method, fields in METHODS.items():
                key = f"{dataset}/{method}/s{seed}"
                if key in results:
                    continue
                config = DensityConfig(dataset=dataset, **SMALL, **fields)
                out = runs_dir / key.replace("/", "-")
                summary = train_and_store(config, seed, out, key, results, path)
                print(f"{key:36s} gap {summary['kl_gap']:+.4f}  {summary['total_s']:.0f}s",
                      flush=True)


def _learned_error(summary: dict) -> float:
    return summary["log_z_learned"] - summary["log_z_quadrature"]


def table(results: dict) -> str:
    lines = [
        "Energy MLP 32-32 (too small for the data): KL gap (nats) by method, seed by seed.",
        "ebm-tracking = the EBM without the flow's maximum-likelihood term (q tracks p_theta).",
        "",
        f"{'dataset':13s} {'seed':>4s} " + " ".join(f"{m:>13s}" for m in METHODS) + "  best",
    ]
    lines += _gap_rows(results)
    lines += [
        "",
        "Learned log Z - quadrature log Z (nats): the discriminator's optimal log Z is the true",
        "one when the model matches the data or when the sampler matches the model.",
        "",
        f"{'dataset':13s} {'seed':>4s} " + " ".join(f"{m:>13s}" for m in METHODS),
    ]
    datasets = sorted({k.split("/")[0] for k in results})
    seeds = sorted({int(k.split("/")[2][1:]) for k in results})
    for dataset in datasets:
        for seed in seeds:
            keys = [f"{dataset}/{m}/s{seed}" for m in METHODS]
            if not any(k in results for k in keys):
                continue
            lines.append(f"{dataset:13s} {seed:4d} " + " ".join(
                f"{_learned_error(results[k]):+13.4f}" if k in results else f"{'-':>13s}"
                for k in keys))
    return "\n".join(lines) + "\n"


def _gap_rows(results: dict) -> list[str]:
    lines = []
    datasets = sorted({k.split("/")[0] for k in results})
    seeds = sorted({int(k.split("/")[2][1:]) for k in results})
    for dataset in datasets:
        for seed in seeds:
            gaps = {m: results[f"{dataset}/{m}/s{seed}"]["kl_gap"] for m in METHODS
                    if f"{dataset}/{m}/s{seed}" in results}
            if not gaps:
                continue
            best = min(gaps, key=gaps.get)
            lines.append(f"{dataset:13s} {seed:4d} " + " ".join(
                f"{gaps[m]:+13.4f}" if m in gaps else f"{'-':>13s}" for m in METHODS)
                + f"  {best}")
        means = {}
        for m in METHODS:
            g = [results[k]["kl_gap"] for k in results if k.startswith(f"{dataset}/{m}/")]
            if g:
                means[m] = sum(g) / len(g)
        lines.append(f"{dataset:13s} mean " + " ".join(
            f"{means[m]:+13.4f}" if m in means else f"{'-':>13s}" for m in METHODS)
            + f"  {min(means, key=means.get)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["2spirals", "checkerboard"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/benchmark-density-ablation"))
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    path = RESULTS / "density_ablation.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    if not args.table_only:
        run(args.datasets, args.seeds, args.runs_dir, results)
        results = json.loads(path.read_text())
    text = table(results)
    atomic_write_text(RESULTS / "density_ablation.txt", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
