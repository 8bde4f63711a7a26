"""Benchmark: the peer library `imitation` (1.0.1)'s AIRL on irlgan demonstrations.

So that irlgan's AIRL can be compared with an outside implementation on the same
demonstrations, on the same machine, scored the same way, this script trains
`imitation.algorithms.adversarial.airl.AIRL` once per seed in a separate virtualenv (imitation
needs gymnasium 0.29 and cannot share irlgan's environment): it writes the demonstrations to an
.npz, runs `benchmarks/_imitation_worker.py` with that virtualenv's python (``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``), and scores each seed's policy as irlgan does.

The settings are imitation's own for ``python -m imitation.scripts.train_adversarial airl with
pendulum`` (imitation 1.0.1, scripts/config/train_adversarial.py and scripts/ingredients/), set
through the Python API, except the number of environment steps (``--steps``; the script's
default is 1,000,000):

* environment: 8 copies of the task in a `SubprocVecEnv` (``num_vec = 8``, ``parallel = True``),
  the registry's time limit, no observation normalisation (no `VecNormalize`);
* generator: stable-baselines3 PPO with imitation's `FeedForward32Policy` (``net_arch=[32, 32]``,
  which SB3 2.x builds as separate policy and value MLPs of two 32-unit tanh layers, although
  the class's docstring says shared; state-independent log-std), ``n_steps`` 256 per
  environment (``batch_size`` 2048 per round), learning rate 3e-4, minibatch 64, 10 epochs,
  entropy coefficient 0, the other PPO settings at SB3's defaults (gamma 0.99, GAE lambda 0.95,
  clip 0.2);
* discriminator: `BasicShapedRewardNet` (ReLU reward MLP (32,) on state and action, ReLU
  potential MLP (32, 32) on the state, shaping discount 0.99) with `RunningNorm` on its inputs,
  wrapped in `NormalizedRewardNet(RunningNorm)` for the reward the generator sees; Adam at
  torch's defaults (lr 1e-3); 4 discriminator updates per round, each on 1,024 demonstration
  and 1,024 generator transitions; generator replay capacity 2,048 (the last round's samples
  only).

Seed ``s``: python's, numpy's and torch's global generators seeded with ``s`` before anything is
built (as Sacred does for the script), PPO ``seed=s``, the environments' reset seeds drawn from
``numpy.random.default_rng(s)``; a run is then reproducible, with or without ``--serial-envs``.

Demonstrations: every episode of ``--demos`` (an `irlgan.Demonstrations` folder), as
`imitation.data.types.Trajectory` objects with ``terminal`` from the demonstrations' terminated
flags (False where a time limit cut the episode, as for every Pendulum episode). imitation itself
marks every episode end terminal, time limits included, in its own rollouts and in AIRL's
generator samples (its shaping term then drops the next state's potential there);
``--ends-terminal`` does the same to the demonstrations. Evaluation, as
`irlgan eval`: deterministic actions on the 50 held-out reset seeds `irlgan.rl.EVAL_SEED_BASE`
(1,000,000) onwards in a plain ``gymnasium.make`` of the task, true return, normalised as
(R - random_return) / (expert_return - random_return) with the demonstrations' references (given
only where the references were measured on those same seeds).

Usage (the virtualenv first, once; torch first, so that pip keeps the CPU wheel):
    python -m venv .venv-imitation
    .venv-imitation/bin/pip install torch==2.13.0
    .venv-imitation/bin/pip install imitation==1.0.1
    python benchmarks/peer_imitation.py --demos /tmp/pend-sac-test --seeds 0 1 2 \\
        --steps 1000000 --out benchmarks/results/peer_imitation_pendulum.json
    python benchmarks/peer_imitation.py --demos /tmp/pend-sac-test --seeds 0 --steps 400000 \\
        --eval-at 100000 200000 300000 --out /tmp/peer_imitation_curve.json

``--irlgan`` runs irlgan's AIRL at its preset on the same demonstrations and seed just before
each imitation run (one process at a time), so that the two are timed under the same load.

``--eval-at`` also scores the policy at those step counts of the same run (rounded up to whole
2,048-step rounds): the evaluation draws nothing from the training's generators, so each point is
what a run of that budget would end with, and its time is left out of the training time.

Writes the JSON and a .txt table beside it after every seed: per seed the normalised return,
the return mean ± std, environment steps, wall time of training, of training + evaluation (both
measured inside the worker) and of the whole worker process, and the library versions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "_imitation_worker.py"
DEFAULT_PYTHON = str(ROOT / ".venv-imitation" / "bin" / "python")
_VERSIONS = ("import json, gymnasium, imitation, stable_baselines3, torch; print(json.dumps("
             "{'imitation': imitation.__version__, 'stable_baselines3': "
             "stable_baselines3.__version__, 'torch': torch.__version__, "
             "'gymnasium': gymnasium.__version__}))")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    env.pop("PYTHONPATH", None)  # nothing of irlgan's environment leaks into the virtualenv
    return env


def _write_npz(demos, path: Path) -> None:
    import numpy as np

    np.savez(path,
             observations=np.concatenate(demos.observations).astype(np.float32),
             actions=np.concatenate(demos.actions).astype(np.float32),
             lengths=np.array([len(a) for a in demos.actions], dtype=np.int64),
             terminated=np.asarray(demos.episode_terminated, dtype=bool))


def _irlgan_run(env_id: str, demos_dir: Path, seed: int, work: Path,
                steps: int | None = None) -> dict | None:
    """irlgan's AIRL at its preset for `env_id` on `demos_dir`, as `benchmarks/control.py` runs
    one (task, algorithm, seed): the normalised return, the training's wall time (as the
    imitation worker's `train_s`, setup and evaluation excluded) and the whole process's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_control", ROOT / "benchmarks" /
                                                  "control.py")
    control = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(control)
    tasks = {v: k for k, v in control.TASKS.items()}
    if env_id not in tasks:
        print(f"error: benchmarks/control.py has no task for {env_id}", file=sys.stderr)
        return None
    cmd = [sys.executable, str(ROOT / "benchmarks" / "control.py"), "--single", "--tasks",
           tasks[env_id], "--algos", "airl", "--seeds", str(seed), "--demos", str(demos_dir),
           "--runs", str(work / "irlgan-runs")]
    if steps:
        cmd += ["--steps", str(steps)]
    print(f"seed {seed}, irlgan: {' '.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    process_s = time.perf_counter() - t0
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        print(proc.stderr[-3000:], file=sys.stderr)
        return None
    r = json.loads(line[-1][len("RESULT "):])
    return {"normalised": r["normalized_return"], "return_mean": r["return_mean"],
            "return_std": r["return_std"], "env_steps": r["env_steps"], "train_s": r["wall_s"],
            "process_s": process_s, "load_before": r["load_avg_1min_before"]}


def _run_line(env_id: str, run: dict) -> str:
    norm = "    n/a" if run["normalised"] is None else f"{run['normalised']:7.3f}"
    return (f"{env_id:14s} imitation-airl seed {run['seed']:2d}  norm {norm}  "
            f"return {run['return_mean']:9.1f} ± {run['return_std']:6.1f}  "
            f"steps {run['env_steps']:8d}  train {run['train_s']:7.1f} s  "
            f"train+eval {run['train_eval_s']:7.1f} s  process {run['process_s']:7.1f} s  "
            f"load {run['load_before']:.1f}/{run['load_after']:.1f}")


def _curve_line(point: dict) -> str:
    norm = "    n/a" if point["normalised"] is None else f"{point['normalised']:7.3f}"
    return (f"{'':14s}   curve at {point['env_steps']:8d} steps: norm {norm}  return "
            f"{point['return_mean']:9.1f} ± {point['return_std']:6.1f}  train "
            f"{point['train_s']:7.1f} s")


def _table(report: dict) -> str:
    d = report["demonstrations"]
    lines = [
        "Peer benchmark: imitation's AIRL (train_adversarial airl with pendulum settings) on "
        "irlgan demonstrations",
        f"demos {d['path']}: {d['episodes']} episodes, {d['transitions']} transitions; "
        f"R_expert {d['expert_return']}, R_random {d['random_return']} "
        f"({d['reference_seeds']})",
        f"versions: {report['versions']}",
        f"evaluation: {report['eval_episodes']} episodes, deterministic, reset seeds "
        f"{report['eval_seed_base']}+",
        "",
    ]
    for run in report["runs"]:
        lines += [_curve_line(point) for point in run["curve"]]
        lines.append(_run_line(report["env"], run))
        ours = run.get("irlgan")
        if ours:
            lines.append(f"{report['env']:14s} irlgan-airl    seed {run['seed']:2d}  norm "
                         f"{ours['normalised']:7.3f}  return {ours['return_mean']:9.1f} ± "
                         f"{ours['return_std']:6.1f}  steps {ours['env_steps']:8d}  train "
                         f"{ours['train_s']:7.1f} s  process {ours['process_s']:7.1f} s  "
                         f"({ours['train_s'] / run['train_s']:.2f} of imitation's training "
                         f"time)")
    s = report.get("summary")
    if s:
        lines += ["", f"mean over {s['seeds']} seeds: norm {s['normalised_mean']} ± "
                      f"{s['normalised_std']}, train {s['train_s_mean']:.1f} s"]
        if "irlgan_normalised_mean" in s:
            lines.append(f"irlgan's AIRL on the same seeds: norm {s['irlgan_normalised_mean']}, "
                         f"train {s['irlgan_train_s_mean']:.1f} s, "
                         f"{s['train_time_ratio']:.2f} of imitation's training time")
    return "\n".join(lines) + "\n"


def _summary(runs: list[dict]) -> dict:
    norms = [r["normalised"] for r in runs if r["normalised"] is not None]
    mean = sum(norms) / len(norms) if norms else None
    std = (math.sqrt(sum((x - mean) ** 2 for x in norms) / len(norms)) if norms else None)
    out = {"seeds": len(runs),
           "normalised_mean": None if mean is None else round(mean, 4),
           "normalised_std": None if std is None else round(std, 4),
           "train_s_mean": sum(r["train_s"] for r in runs) / len(runs)}
    ours = [r["irlgan"] for r in runs if r.get("irlgan")]
    if ours:
        out["irlgan_normalised_mean"] = round(sum(o["normalised"] for o in ours) / len(ours), 4)
        out["irlgan_train_s_mean"] = sum(o["train_s"] for o in ours) / len(ours)
        out["train_time_ratio"] = out["irlgan_train_s_mean"] / out["train_s_mean"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demos", required=True, help="an irlgan.Demonstrations folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=1_000_000,
                        help="environment steps per seed (imitation's default: 1,000,000)")
    parser.add_argument("--out", default="benchmarks/results/peer_imitation.json",
                        help="the JSON to write (a .txt table goes beside it)")
    parser.add_argument("--python", default=DEFAULT_PYTHON,
                        help=f"python of the imitation virtualenv (default: {DEFAULT_PYTHON})")
    parser.add_argument("--env", default=None,
                        help="gymnasium id (default: the demonstrations' env_id)")
    parser.add_argument("--eval-at", type=int, nargs="*", default=[],
                        help="also evaluate each seed at these step counts of the same run "
                             "(a learning curve; the policy there is the one a run of that "
                             "budget ends with)")
    parser.add_argument("--ends-terminal", action="store_true",
                        help="mark every demonstration episode's end terminal, as imitation's "
                             "own rollouts (and AIRL's generator samples) do; default: the "
                             "demonstrations' terminated flags")
    parser.add_argument("--irlgan", action="store_true",
                        help="before each seed's imitation run, run irlgan's AIRL at its preset "
                             "on the same demonstrations and seed (benchmarks/control.py's "
                             "single run), so that both are timed under the same load")
    parser.add_argument("--irlgan-steps", type=int, default=None,
                        help="irlgan's budget with --irlgan (default: its preset for the task)")
    parser.add_argument("--serial-envs", action="store_true",
                        help="step the 8 environments in one process (DummyVecEnv) instead of "
                             "the script's SubprocVecEnv; same results, different wall time")
    args = parser.parse_args(argv)

    python = Path(args.python)
    if not (python.is_file() and os.access(python, os.X_OK)):
        return _fail(f"no imitation virtualenv python at {python} (give --python)")
    demos_dir = Path(args.demos)
    if not demos_dir.is_dir():
        return _fail(f"no demonstrations folder at {demos_dir}")
    if args.steps < 2048:
        return _fail("--steps must be at least 2048 (one round of imitation's generator)")
    sys.path.insert(0, str(ROOT))
    import irlgan
    from irlgan.rl import EVAL_EPISODES, EVAL_SEED_BASE

    try:
        demos = irlgan.Demonstrations.load(demos_dir)
    except Exception as exc:  # noqa: BLE001 - any unreadable folder is reported the same way
        return _fail(f"cannot load demonstrations from {demos_dir}: {exc}")
    env_id = args.env or demos.env_id
    if env_id is None:
        return _fail("the demonstrations name no environment; give --env")
    probe = subprocess.run([str(python), "-c", _VERSIONS], capture_output=True, text=True,
                           env=_worker_env())
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return _fail(f"{python} cannot import imitation/stable_baselines3/torch: {last}")
    versions = json.loads(probe.stdout.strip().splitlines()[-1])

    eval_seeds = list(range(EVAL_SEED_BASE, EVAL_SEED_BASE + EVAL_EPISODES))
    refs_ok = (demos.expert_return is not None and demos.random_return is not None
               and demos.reference_seeds is not None
               and sorted(demos.reference_seeds) == eval_seeds)
    if not refs_ok:
        print("warning: the demonstrations' references were not measured on the evaluation "
              "seeds; reporting returns without a normalised score", file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "schema": "irlgan.peer-imitation",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "env": env_id,
        "steps": args.steps,
        "eval_seed_base": EVAL_SEED_BASE,
        "eval_episodes": EVAL_EPISODES,
        "versions": versions,
        "demonstrations": {
            "path": str(demos_dir), "episodes": len(demos.actions),
            "transitions": int(sum(len(a) for a in demos.actions)),
            "expert_return": demos.expert_return, "random_return": demos.random_return,
            "reference_seeds": irlgan.data.describe_seeds(demos.reference_seeds),
            "references_on_eval_seeds": refs_ok,
        },
        "demo_ends_terminal": "all" if args.ends_terminal else "terminated flags",
        "settings": None,
        "runs": [],
    }

    def score(ret: float) -> float | None:
        if not refs_ok:
            return None
        return (ret - demos.random_return) / (demos.expert_return - demos.random_return)

    work = Path(tempfile.mkdtemp(prefix="peer-imitation-"))
    try:
        npz = work / "demos.npz"
        _write_npz(demos, npz)
        for seed in args.seeds:
            result_path, log_path = work / f"seed{seed}.json", work / f"seed{seed}.log"
            cmd = [str(python), str(WORKER), "--npz", str(npz), "--env", env_id,
                   "--seed", str(seed), "--steps", str(args.steps),
                   "--eval-seed-base", str(EVAL_SEED_BASE),
                   "--eval-episodes", str(EVAL_EPISODES), "--result", str(result_path)]
            if args.serial_envs:
                cmd.append("--serial-envs")
            if args.ends_terminal:
                cmd.append("--ends-terminal")
            if args.eval_at:
                cmd += ["--eval-at", *map(str, args.eval_at)]
            ours = (_irlgan_run(env_id, demos_dir, seed, work, args.irlgan_steps)
                    if args.irlgan else None)
            if args.irlgan and ours is None:
                return _fail(f"irlgan's AIRL failed for seed {seed} (see the lines above)")
            print(f"seed {seed}: {' '.join(cmd)}", flush=True)
            load_before = os.getloadavg()[0]
            t0 = time.perf_counter()
            with open(log_path, "w") as log:
                rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                                    env=_worker_env(), cwd=work).returncode
            process_s = time.perf_counter() - t0
            if rc != 0 or not result_path.exists():
                tail = log_path.read_text(errors="replace").splitlines()[-15:]
                print("\n".join(tail), file=sys.stderr)
                return _fail(f"the imitation worker failed for seed {seed} (exit {rc})")
            res = json.loads(result_path.read_text())
            norm = score(res["return_mean"])
            curve = [dict(point, normalised=score(point["return_mean"]))
                     for point in res["curve"]]
            report["settings"] = res["settings"]
            report["versions"] = res["versions"]
            report["runs"].append({
                "seed": seed, "normalised": norm,
                "return_mean": res["return_mean"], "return_std": res["return_std"],
                "returns": res["returns"], "env_steps": res["env_steps"],
                "rounds": res["rounds"], "curve": curve, "train_s": res["train_s"],
                "train_eval_s": res["train_eval_s"], "eval_s": res["eval_s"],
                "setup_s": res["setup_s"], "process_s": process_s,
                "load_before": load_before, "load_after": os.getloadavg()[0],
                "irlgan": ours,
            })
            report["summary"] = _summary(report["runs"])
            out.write_text(json.dumps(report, indent=1) + "\n")
            out.with_suffix(".txt").write_text(_table(report))
            print(_run_line(env_id, report["runs"][-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out} and {out.with_suffix('.txt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
