"""Benchmark: time per iteration and memory of the density models against the dimension.

For each device, dimension d (the dataset ``8gaussians-x<d/2>``, or ``8gaussians`` at d = 2)
and method it builds a `irlgan.density.DensityTrainer` with the default settings in a fresh
process (one torch thread), runs ``--warmup`` iterations, then times ``--iterations`` more
(on a GPU with a synchronisation before each clock reading), then times one validation and one
AIS estimate of the final size (the per-run evaluation's largest part above 2-D). It writes

* ``benchmarks/results/ebm_scaling.json``: one record per (device, d, method), added as each
  finishes (a record already there is skipped);
* ``benchmarks/results/ebm_scaling.txt`` and ``_table.md``: s/iteration, the time of 3000
  iterations, validation and final AIS, and peak memory (the process's resident set on the CPU;
  ``torch.cuda.max_memory_allocated`` on a GPU).

Usage::

    python benchmarks/ebm_scaling.py --dims 2 4 8 16 32 64            # CPU
    python benchmarks/ebm_scaling.py --device cuda --dims 2 4 8 16 32 64
    python benchmarks/ebm_scaling.py --table-only
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from pathlib import Path

from irlgan._io import atomic_write_text, read_json_object, update_json

RESULTS = Path(__file__).parent / "results"
JSON = RESULTS / "ebm_scaling.json"
METHODS = {
    "ebm": {"algorithm": "ebm"},
    "nce-gaussian": {"algorithm": "nce", "noise": "gaussian"},
    "nce-flow": {"algorithm": "nce", "noise": "flow", "pretrain_iterations": 0},
    "flow": {"algorithm": "flow"},
}


def _dataset(dim: int) -> str:
    if dim % 2 or dim < 2:
        raise ValueError(f"dimensions are even (d = 2k), got {dim}")
    return "8gaussians" if dim == 2 else f"8gaussians-x{dim // 2}"


def key_of(device: str, dim: int, method: str) -> str:
    return f"{device}/d{dim}/{method}"


def _load() -> dict:
    return read_json_object(JSON)


def _one(job: tuple[str, int, str, int, int]) -> tuple[str, dict]:
    """Measures one (device, d, method) in its own process."""
    import torch

    from irlgan.density import DensityConfig, DensityTrainer

    torch.set_num_threads(1)
    device, dim, method, warmup, iterations = job
    cuda = device.startswith("cuda")

    def clock() -> float:
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    config = DensityConfig(dataset=_dataset(dim), **METHODS[method])
    start = clock()
    trainer = DensityTrainer(config, 0, device=device)
    build_s = clock() - start
    for _ in range(warmup):
        trainer.step()
    start = clock()
    for _ in range(iterations):
        trainer.step()
    per_iteration = (clock() - start) / iterations
    start = clock()
    trainer.validate()
    validate_s = clock() - start
    ais_s = None
    if config.algorithm != "flow":
        start = clock()
        trainer.ais(config.ais_chains, config.ais_steps, 0)
        ais_s = clock() - start
    record = {
        "device": str(trainer.device), "dim": dim, "method": method,
        "s_per_iteration": per_iteration, "iterations_timed": iterations,
        "s_per_3000_iterations": per_iteration * 3000, "build_s": build_s,
        "validate_s": validate_s, "ais_final_s": ais_s,
        "ais_chains": config.ais_chains, "ais_steps": config.ais_steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_cuda_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name() if cuda else None,
    }
    key = key_of(record["device"].split(":")[0], dim, method)
    update_json(JSON, key, record)
    return key, record


def run(device: str, dims: list[int], methods: list[str], warmup: int, iterations: int) -> None:
    done = _load()
    kind = device.split(":")[0]
    jobs = [(device, d, m, warmup, iterations) for d in dims for m in methods
            if key_of(kind, d, m) not in done]
    print(f"{len(jobs)} measurements to do ({len(done)} already in {JSON.name})", flush=True)
    ctx = multiprocessing.get_context("spawn")
    for job in jobs:  # one at a time: the figures are times
        with ctx.Pool(1) as pool:
            key, r = pool.apply(_one, (job,))
        extra = "" if r["ais_final_s"] is None else f", final AIS {r['ais_final_s']:.1f} s"
        memory = (f"{r['peak_cuda_mb']:.0f} MB on the GPU" if r["peak_cuda_mb"] is not None
                  else f"{r['peak_rss_mb']:.0f} MB resident")
        print(f"{key:24s} {r['s_per_iteration'] * 1e3:8.1f} ms/iteration, validation "
              f"{r['validate_s']:.2f} s{extra}, {memory}", flush=True)


def table(results: dict) -> str:
    def fmt(x: float | None, spec: str) -> str:
        return "" if x is None else format(x, spec)

    rows = sorted(results.values(), key=lambda r: (r["device"], r["dim"],
                                                   list(METHODS).index(r["method"])))
    lines = ["| device | d | method | ms / iteration | 3000 iterations (min) | validation (s) "
             "| final AIS (s) | peak memory (MB) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        memory = r["peak_cuda_mb"] if r["peak_cuda_mb"] is not None else r["peak_rss_mb"]
        lines.append(f"| {r['device'].split(':')[0]} | {r['dim']} | {r['method']} | "
                     f"{r['s_per_iteration'] * 1e3:.1f} | {r['s_per_3000_iterations'] / 60:.1f} "
                     f"| {r['validate_s']:.2f} | {fmt(r['ais_final_s'], '.1f')} | "
                     f"{memory:.0f} |")
    return "\n".join(lines) + "\n"


def write_tables() -> None:
    results = _load()
    if not results:
        return
    body = table(results)
    header = ("# Density models: time and memory against the dimension\n\n"
              "Default settings, batch 512, one torch thread, seed 0, `8gaussians-x<d/2>`. "
              "Peak memory: resident set of the process (CPU) or torch's peak allocation "
              "(GPU). The final AIS is 1024 chains x 500 steps; a whole run adds one final "
              "evaluation to 3000 iterations and 12 validations.\n\n")
    atomic_write_text(RESULTS / "ebm_scaling.txt", header + body)
    atomic_write_text(RESULTS / "ebm_scaling_table.md", body)
    print(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    if not args.table_only:
        run(args.device, args.dims, args.methods, args.warmup, args.iterations)
    write_tables()


if __name__ == "__main__":
    main()
