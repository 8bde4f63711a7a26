"""Benchmark: energy models beyond two dimensions, with log Z from annealed importance sampling.

For each dimension d (the dataset ``<name>-x<d/2>``, d/2 independent copies of a 2-D dataset,
whose entropy is d/2 times the 2-D one), seed and method it trains one run with
`irlgan.density.train_run` on the default settings, and writes

* ``benchmarks/results/ebm_dimensions.json``: every run's summary, added as each run finishes
  (a run already in the file is skipped, so the benchmark can be extended seed by seed and
  split over sessions; a run folder left by a killed benchmark is resumed);
* ``benchmarks/results/ebm_dimensions.txt``: the table, run by run, then per dimension across
  seeds (mean KL gap with a 95% Student-t interval, and the paired EBM-minus-baseline gap);
* ``benchmarks/results/ebm_dimensions_table.md``: the compact table the docs include;
* ``benchmarks/results/ebm_dimensions.png``: KL gap against d for each method (symlog scale).

The methods are those of the 2-D benchmark: ``ebm`` (the flow as adaptive noise, section 4 of
the paper), ``nce-gaussian`` (a fixed Gaussian fitted to the data's mean and covariance),
``nce-flow`` (a fixed flow first trained by maximum likelihood) and ``flow`` (the flow alone by
maximum likelihood, log Z = 0 exactly). Above 2-D every NLL but the flow's uses the AIS log Z
(a stochastic lower bound: the NLL is optimistic by its slack), and the table shows its
spread and effective sample size; in 2-D it uses the quadrature, and AIS is shown against it.

Usage (one torch thread per run; ``--workers 2`` runs two at a time on a 2-core machine)::

    python benchmarks/ebm_dimensions.py --dims 4 8 16 --seeds 0 --workers 2
    python benchmarks/ebm_dimensions.py --dims 32 --seeds 0 --workers 2
    python benchmarks/ebm_dimensions.py --datasets digits --seeds 0   # real data, d = 64
    python benchmarks/ebm_dimensions.py --table-only

``digits`` (scikit-learn's 8 x 8 digits, dequantised; the extra ``irlgan[digits]``) has no
known entropy: its rows give the test NLL and bits per dimension instead of a KL gap, and the
comparisons across seeds use the NLL (whose differences between methods are those of the KL
gaps). ``--dims`` does not apply to it.

Measured times per run on this 2-core machine (two runs at a time) are printed with each result
and kept in the table (``total_s``).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from irlgan._io import atomic_write_text, read_json_object, update_json  # noqa: E402
from irlgan.sweep import t_interval  # noqa: E402

RESULTS = Path(__file__).parent / "results"
JSON = RESULTS / "ebm_dimensions.json"
METHODS = {
    "ebm": {"algorithm": "ebm"},
    "nce-gaussian": {"algorithm": "nce", "noise": "gaussian"},
    "nce-flow": {"algorithm": "nce", "noise": "flow"},
    "flow": {"algorithm": "flow"},
    # the EBM with a fully autoregressive flow (d conditioner passes per sample and layer, the
    # 2-D default) instead of coupling layers; not run by default (at d = 32 a sample costs
    # 16 times the coupling flow's passes)
    "ebm-ar": {"algorithm": "ebm", "flow_passes": 0},
}
DEFAULT_METHODS = ["ebm", "nce-gaussian", "nce-flow", "flow"]


DIGITS_DIM = 64


def dims_of(base: str, dims: list[int]) -> list[int]:
    """The dimensions a dataset runs at: the given ones, or 64 for digits (real data)."""
    return [DIGITS_DIM] if base == "digits" else dims


def dataset_name(base: str, dim: int) -> str:
    if base == "digits":
        return "digits"
    if dim % 2 or dim < 2:
        raise ValueError(f"dimensions are even (d = 2k), got {dim}")
    return base if dim == 2 else f"{base}-x{dim // 2}"


def key_of(base: str, dim: int, method: str, seed: int) -> str:
    return f"{base}/d{dim}/{method}/s{seed}"


def _load() -> dict:
    return read_json_object(JSON)


def _one(job: tuple[str, int, str, int, int | None, str]) -> tuple[str, dict]:
    """Trains one run in its own process (one torch thread) and stores its summary."""
    import torch

    from irlgan.density import DensityConfig, train_run

    torch.set_num_threads(1)
    base, dim, method, seed, iterations, runs_dir = job
    key = key_of(base, dim, method, seed)
    kwargs = dict(METHODS[method], dataset=dataset_name(base, dim))
    if iterations is not None:
        kwargs["iterations"] = iterations
    out = Path(runs_dir) / key.replace("/", "-")
    resume = (out / "config.json").is_file()
    start = time.perf_counter()
    summary = train_run(DensityConfig(**kwargs), out, seed=seed, quiet=True, resume=resume)
    summary["total_s"] = time.perf_counter() - start
    summary["resumed"] = resume
    # the worker runs one job (maxtasksperchild=1): its peak resident memory is the run's
    summary["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    update_json(JSON, key, summary)  # under a lock: the worker processes share the file
    return key, summary


def _score(s: dict) -> float:
    """The KL gap, or for real data (no known entropy) the test NLL."""
    return s["kl_gap"] if s.get("kl_gap") is not None else s["nll"]


def _line(key: str, s: dict) -> str:
    learned = s["log_z_learned"] - s["log_z_ais"]
    score = (f"gap {s['kl_gap']:+.4f}" if s.get("kl_gap") is not None
             else f"NLL {s['nll']:.4f} ({s['bits_per_dim']:.4f} bits/dim)")
    return (f"{key:32s} {score}  logZ learned-AIS {learned:+.4f}  AIS sd "
            f"{s['log_z_ais_std']:.4f} ESS {s['log_z_ais_ess_fraction']:.2f}  "
            f"{s.get('total_s', float('nan')):.0f}s")


def run(bases: list[str], dims: list[int], seeds: list[int], methods: list[str],
        iterations: int | None, runs_dir: Path, workers: int) -> None:
    done = _load()
    jobs = [(b, d, m, s, iterations, str(runs_dir)) for s in seeds for b in bases
            for d in dims_of(b, dims) for m in methods if key_of(b, d, m, s) not in done]
    # the longest first (ebm, then large d), so two workers finish together
    jobs.sort(key=lambda j: (j[2] != "ebm", -j[1]))
    print(f"{len(jobs)} runs to do ({len(done)} already in {JSON.name})", flush=True)
    if not jobs:
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, maxtasksperchild=1) as pool:
        for key, summary in pool.imap_unordered(_one, jobs):
            print(_line(key, summary), flush=True)


def _mean_interval(values: list[float]) -> tuple[float, float]:
    """(mean, half-width of its 95% Student-t interval; NaN for one value)."""
    mean, _, high = t_interval(values)
    return mean, high - mean


def table(results: dict) -> str:
    lines = ["# EBM trained as a GAN against NCE and the flow, by dimension", "",
             "NLL = E_test[E] + log Z: log Z from quadrature (d = 2), exactly 0 (flow) or AIS "
             "(otherwise; a stochastic lower bound, so such NLLs are optimistic by its slack).",
             "KL gap = NLL - the data's entropy (digits, real data of unknown entropy: the KL "
             "gap column gives bits per dimension instead, and the comparisons across seeds "
             "use the test NLL, whose differences are those of the KL gaps). logZ learned-AIS: "
             "the model's own log Z minus AIS. AIS sd: its Monte-Carlo standard error; ESS: "
             "effective sample size fraction.",
             "", "## Run by run", "",
             "| dataset | d | method | seed | NLL | KL gap | log Z | learned - AIS | AIS sd | "
             "AIS ESS | IS - AIS | MMD² | s/iteration | total s | peak MB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
             "--- | --- |"]

    def sort_key(k: str) -> tuple:
        base, d, method, seed = k.split("/")
        return base, int(d[1:]), list(METHODS).index(method), int(seed[1:])

    for key in sorted(results, key=sort_key):
        base, d, method, seed = key.split("/")
        s = results[key]
        per_it = s["wall_s"] / max(1, s["iterations"])
        gap = (f"{s['kl_gap']:+.4f}" if s.get("kl_gap") is not None
               else f"{s['bits_per_dim']:.4f} bits/dim")
        lines.append(
            f"| {base} | {d[1:]} | {method} | {seed[1:]} | {s['nll']:.4f} | {gap} | "
            f"{s['nll_log_z']} | {s['log_z_learned'] - s['log_z_ais']:+.4f} | "
            f"{s['log_z_ais_std']:.4f} | {s['log_z_ais_ess_fraction']:.2f} | "
            f"{s['log_z_importance'] - s['log_z_ais']:+.4f} | {s['mmd']:.4f} | {per_it:.3f} | "
            f"{s.get('total_s', math.nan):.0f} | {s.get('peak_rss_mb', math.nan):.0f} |")
    lines += ["", "## Across seeds (mean KL gap, 95% t-interval where there are 2 seeds or more)",
              "", "| dataset | d | " + " | ".join(METHODS) + " | EBM - NCE-Gaussian gap (paired) "
              "| gap ratio EBM / NCE-Gaussian |",
              "| --- | --- | " + " | ".join("---" for _ in METHODS) + " | --- | --- |"]
    groups = sorted({tuple(k.split("/")[:2]) for k in results},
                    key=lambda g: (g[0], int(g[1][1:])))
    for base, d in groups:
        cells, gaps = [], {}
        for method in METHODS:
            values = {k.split("/")[3]: _score(v) for k, v in results.items()
                      if k.startswith(f"{base}/{d}/{method}/")}
            gaps[method] = values
            if not values:
                cells.append("")
                continue
            mean, half = _mean_interval(list(values.values()))
            cells.append(f"{mean:+.4f}" + ("" if math.isnan(half) else f" ± {half:.4f}")
                         + f" (n={len(values)})")
        shared = sorted(set(gaps["ebm"]) & set(gaps["nce-gaussian"]))
        paired = ratio = ""
        if shared:
            diffs = [gaps["ebm"][s] - gaps["nce-gaussian"][s] for s in shared]
            mean, half = _mean_interval(diffs)
            paired = f"{mean:+.4f}" + ("" if math.isnan(half) else f" ± {half:.4f}")
            ebm = sum(gaps["ebm"][s] for s in shared) / len(shared)
            nce = sum(gaps["nce-gaussian"][s] for s in shared) / len(shared)
            ratio = ("n/a (real data)" if base == "digits" else
                     f"{ebm / nce:.2f}" if nce > 0 else "n/a (NCE gap <= 0)")
        lines.append(f"| {base} | {d[1:]} | " + " | ".join(cells) + f" | {paired} | {ratio} |")
    return "\n".join(lines) + "\n"


def compact_table(results: dict) -> str:
    """The docs' table: per dataset and d, each method's KL gap (seeds separated by " / ") and
    the EBM's learned log Z minus AIS with the AIS effective-sample-size fraction."""
    lines = ["| data | d | entropy | EBM | NCE-Gaussian | NCE-flow | flow | "
             "EBM log Z: learned − AIS (AIS ESS) | EBM, autoregressive flow |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    groups = sorted({tuple(k.split("/")[:2]) for k in results},
                    key=lambda g: (g[0], int(g[1][1:])))
    for base, d in groups:
        runs = {m: [results[k] for k in sorted(results) if k.startswith(f"{base}/{d}/{m}/")]
                for m in METHODS}
        any_run = next(r for rs in runs.values() for r in rs)
        def gaps(method: str, runs: dict = runs, base: str = base) -> str:
            if base == "digits":  # no entropy: bits per dimension
                return " / ".join(f"{r['bits_per_dim']:.3f} b/d" for r in runs[method])
            return " / ".join(f"{r['kl_gap']:+.3f}" if abs(r["kl_gap"]) < 10 else
                              f"{r['kl_gap']:+.1f}" for r in runs[method])

        cells = [gaps(m) for m in DEFAULT_METHODS]
        ebm = " / ".join(f"{r['log_z_learned'] - r['log_z_ais']:+.2f} "
                         f"({r['log_z_ais_ess_fraction']:.3f})" for r in runs["ebm"])
        entropy = ("unknown" if any_run.get("reference_nll") is None
                   else f"{any_run['reference_nll']:.2f}")
        lines.append(f"| {base} | {d[1:]} | {entropy} | "
                     + " | ".join(cells) + f" | {ebm} | {gaps('ebm-ar')} |")
    return "\n".join(lines) + "\n"


def plot(results: dict) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for method in METHODS:
        points: dict[int, list[float]] = {}
        for key, s in results.items():
            _, d, m, _ = key.split("/")
            if m == method and s.get("kl_gap") is not None:  # real data has no KL gap
                points.setdefault(int(d[1:]), []).append(s["kl_gap"])
        if not points:
            continue
        dims = sorted(points)
        means = [sum(points[d]) / len(points[d]) for d in dims]
        (line,) = ax.plot(dims, means, marker="o", label=method)
        for d in dims:
            ax.scatter([d] * len(points[d]), points[d], s=8, alpha=0.5, color=line.get_color())
    ax.set_xscale("log", base=2)
    ax.set_yscale("symlog", linthresh=0.01)  # gaps from 0.01 to 100 nats
    ax.set_xlabel("dimension d")
    ax.set_ylabel("KL gap (nats): NLL - entropy")
    ax.axhline(0, color="grey", lw=0.5)
    lowest = min((s["kl_gap"] for s in results.values() if s.get("kl_gap") is not None),
                 default=0.0)
    ax.set_ylim(bottom=0.0 if lowest >= 0 else 2 * lowest)
    ax.legend(fontsize=8)
    ax.set_title("energy models by dimension (seeds as dots)", fontsize=9)
    fig.savefig(RESULTS / "ebm_dimensions.png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["8gaussians"])
    parser.add_argument("--dims", nargs="+", type=int, default=[4, 8, 16, 32])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--methods", nargs="+", default=DEFAULT_METHODS, choices=list(METHODS))
    parser.add_argument("--iterations", type=int, default=None,
                        help="override the training iterations (default: the setting's default)")
    parser.add_argument("--runs", type=Path, default=Path("runs/ebm_dimensions"),
                        help="folder of the run folders")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args(argv)
    for base in args.datasets:
        for d in dims_of(base, args.dims):
            dataset_name(base, d)
    if not args.table_only:
        run(args.datasets, args.dims, args.seeds, args.methods, args.iterations, args.runs,
            args.workers)
    results = _load()
    if not results:
        print("no results yet")
        return 0
    text = table(results)
    atomic_write_text(RESULTS / "ebm_dimensions.txt", text)
    atomic_write_text(RESULTS / "ebm_dimensions_table.md", compact_table(results))
    plot(results)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
