"""Benchmark: the throughput of `irlgan sweep` with two workers against the same trials run one
after another, on this machine, in one run.

The trials are AIRL on the point mass (scripted-expert demonstrations written here), seeds
0..N-1, each `--steps` environment steps. The sequential baseline runs each trial's own command
(`irlgan train ...`, as the sweep does) one after another; the sweep runs them on a local Ray
cluster with `--workers 2`. The ideal speed-up with two workers is 2; the figures are the
speed-up measured end to end (the sweep's wall time includes starting Ray) and over the trials
alone (from the first trial's start to the last one's end, read from the trials' logs).

Usage:
    python benchmarks/sweep_overhead.py                    # 8 trials of 60,000 steps
    python benchmarks/sweep_overhead.py --trials 4 --steps 20000
Writes benchmarks/results/sweep_overhead.json and .txt.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = """[sweep]
methods = ["airl"]
seeds = {seeds}

[[tasks]]
env = "irlgan/PointMass-v0"
steps = {steps}
demos = "{demos}"
set = {{ num_envs = 4, steps_per_env = 50, eval_episodes = 20 }}
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["IRLGAN_THREADS"] = "1"
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--steps", type=int, default=60_000)
    parser.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from irlgan.control._point_mass_expert import point_mass_expert_demonstrations
    from irlgan.sweep import load_spec, plan_trials

    work = Path(args.work or tempfile.mkdtemp(prefix="sweep-overhead-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    demos = work / "demos"
    point_mass_expert_demonstrations(episodes=16, seed=0, eval_episodes=20).save(demos)
    spec = work / "sweep.toml"
    spec.write_text(SPEC.format(seeds=list(range(args.trials)), steps=args.steps, demos=demos))

    start = time.perf_counter()
    for trial in plan_trials(load_spec(spec), work / "sequential"):
        subprocess.run([sys.executable, "-m", "irlgan.cli", *trial.argv], check=True,
                       env=_env())
    sequential = time.perf_counter() - start
    print(f"sequential: {args.trials} trials in {sequential:.1f} s", flush=True)

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "irlgan.cli", "sweep", str(spec), "--out",
                    str(work / "sweep"), "--workers", "2", "--quiet"], check=True, env=_env())
    swept = time.perf_counter() - start
    logs = sorted((work / "sweep" / "logs").glob("*.log"))
    first = min(p.stat().st_ctime for p in logs)
    last = max((work / "sweep" / "trials" / p.stem / "summary.json").stat().st_mtime
               for p in logs)
    span = last - first
    print(f"sweep, 2 workers: {swept:.1f} s end to end, {span:.1f} s from the first trial's "
          f"start to the last one's end", flush=True)
    result = {
        "trials": args.trials, "steps": args.steps, "sequential_s": sequential,
        "sweep_s": swept, "sweep_trials_span_s": span, "ray_and_driver_s": swept - span,
        "speedup_end_to_end": sequential / swept, "speedup_trials": sequential / span,
        "ideal_speedup": 2.0, "cpus": os.cpu_count(),
    }
    text = (f"{args.trials} AIRL point-mass trials of {args.steps} steps, 1 torch thread each, "
            f"{os.cpu_count()} CPUs\n"
            f"sequential (irlgan train one after another): {sequential:8.1f} s\n"
            f"irlgan sweep --workers 2, end to end:         {swept:8.1f} s  "
            f"speed-up {sequential / swept:.2f} (ideal 2)\n"
            f"  of which the trials (first start to last end): {span:6.1f} s  "
            f"speed-up {sequential / span:.2f}\n"
            f"  Ray start-up, planning and shutdown:            {swept - span:6.1f} s\n")
    print(text)
    out = ROOT / "benchmarks" / "results"
    (out / "sweep_overhead.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "sweep_overhead.txt").write_text(text)


if __name__ == "__main__":
    main()
