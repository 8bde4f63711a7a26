"""Benchmark: GAN-GCL, GCL and AIRL on control tasks, 3 seeds, one torch thread per process.

For each task the expert and its demonstrations come from `irlgan expert` (trained here if the
folder is missing): R_expert is the expert's deterministic mean return and R_random that of
uniform actions, both over 50 episodes on held-out reset seeds (from EVAL_SEED_BASE), and every
run is scored on those same 50 episodes:

    normalised return = (R - R_random) / (R_expert - R_random).

Each (task, algorithm, seed) runs in its own process (`--single`), seeds one after another. For
the point mass the script also measures the correlation of the learned and the true cost on the
expert's state-action pairs, and trains a fresh policy on the learned cost alone.

Every run also records the bare environment's steps per second, measured in the same process
before training (`raw_env_steps_per_s`), beside the training throughput.

Usage:
    python benchmarks/control.py                       # the full table (hours on 2 cores)
    python benchmarks/control.py --tasks pointmass --algos airl --seeds 0
    python benchmarks/control.py --tasks halfcheetah --algos airl --seeds 0 --tag control_mujoco
    python benchmarks/control.py --compare TAG1 TAG2   # runs of several result files together
Writes benchmarks/results/control.json and control.txt, and docs/assets/control/*.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = {
    "pendulum": "Pendulum-v1",
    "pointmass": "irlgan/PointMass-v0",
    "mountaincar": "MountainCarContinuous-v0",
    "halfcheetah": "HalfCheetah-v5",
    "hopper": "Hopper-v5",
    "swimmer": "Swimmer-v5",
    "ant": "Ant-v5",
}
ALGOS = ("airl", "gan-gcl", "gcl", "gail")


def _slug(env_id: str) -> str:
    return env_id.replace("/", "-")


def ensure_expert(env_id: str, experts: Path, seed: int = 0) -> Path:
    """The expert folder of `env_id`, trained with `irlgan expert` if missing (`irlgan expert`
    cannot resume, so the folder of a training that was killed before its `expert.json` is
    started again)."""
    folder = experts / _slug(env_id)
    if not (folder / "expert.json").is_file():
        if folder.is_dir() and any(folder.iterdir()):
            import shutil

            print(f"{folder} holds an unfinished expert training; starting it again", flush=True)
            shutil.rmtree(folder)
        print(f"training the {env_id} expert into {folder} ...", flush=True)
        subprocess.run([sys.executable, "-m", "irlgan.cli", "expert", "--env", env_id, "--seed",
                        str(seed), "--out", str(folder), "--quiet"], check=True,
                       env=_child_env())
    return folder


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def learned_reward_along(model, policy, env, episodes: int, seed_base: int
                         ) -> tuple[float, list[list[float]]]:
    """The mean learned reward a step, -``model.step_cost``, along `policy`'s mode in `env` over
    `episodes` episodes reset with seeds ``seed_base``, ``seed_base + 1``, ...; and each
    episode's last observation. The transfer scripts ask with it whose fault a failed transfer
    is: the learned reward's (it prefers what the policy does) or the optimiser's."""
    import torch

    total, steps, ends = 0.0, 0, []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed_base + i)
        done = False
        while not done:
            o = torch.as_tensor(obs, dtype=torch.float32)[None]
            with torch.no_grad():
                action = policy.mode(o)
                total += float(-model.step_cost(o, action)[0])
            obs, _, terminated, truncated, _ = env.step(action[0].numpy())
            steps += 1
            done = terminated or truncated
        ends.append([float(v) for v in obs])
    return total / steps, ends


def run_children(todo: list, jobs: int, command, on_result) -> None:
    """Runs ``command(item)`` (an argv list) for every item of `todo` as child processes, `jobs`
    at a time, and calls ``on_result(item, result)`` with the dict of each child's last
    ``RESULT {json}`` line, ``process_wall_s`` added. A child that fails, or prints no result,
    has the end of its stderr printed and is skipped; the others go on."""
    todo = list(todo)
    running: list[tuple[object, subprocess.Popen, float]] = []
    while todo or running:
        while todo and len(running) < jobs:
            item = todo.pop(0)
            proc = subprocess.Popen(command(item), env=_child_env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            running.append((item, proc, time.perf_counter()))
        time.sleep(1.0)
        for entry in list(running):
            item, proc, t0 = entry
            if proc.poll() is None:
                continue
            running.remove(entry)
            out, err = proc.communicate()
            line = [x for x in out.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                print(err[-3000:], file=sys.stderr)
                print(f"run {item} failed", file=sys.stderr, flush=True)
                continue
            result = json.loads(line[-1][len("RESULT "):])
            result["process_wall_s"] = time.perf_counter() - t0
            on_result(item, result)


def raw_env_steps_per_s(env_id: str, steps: int = 5_000, seed: int = 0) -> float:
    """Steps per second of one bare gymnasium environment under uniform random actions (resets
    included), the ceiling a training run's throughput is set beside. The actions are drawn
    before the clock starts (gymnasium's own `action_space.sample()` costs about 90 µs a call
    here, more than half a HalfCheetah step)."""
    import gymnasium as gym
    import numpy as np

    import irlgan.envs  # noqa: F401  (registers the irlgan/ ids)

    env = gym.make(env_id)
    space = env.action_space
    actions = np.random.default_rng(seed).uniform(space.low, space.high,
                                                  (steps, *space.shape)).astype(space.dtype)
    env.reset(seed=seed)
    t0 = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    rate = steps / (time.perf_counter() - t0)
    env.close()
    return rate


def point_mass_cost_landscape(cost, points: int = 81) -> dict:
    """Where a learned point-mass cost is lowest: the cost on a `points` x `points` grid over the
    whole arena at u = 0 (the presets' costs see the state only), its minimum and where it lies,
    and the cost at the goal. Off the demonstrations' starts ([-2, 2]^2) the cost is the
    network's extrapolation, and a fresh policy finds a minimum there."""
    import torch

    from irlgan.envs import PointMassEnv

    env = PointMassEnv()
    side = torch.linspace(-env.arena, env.arena, points)
    xs, ys = torch.meshgrid(side, side, indexing="xy")
    grid = torch.stack([xs.reshape(-1), ys.reshape(-1)], -1)
    goal = torch.tensor([env.goal], dtype=torch.float32)
    with torch.no_grad():
        values = cost(grid, torch.zeros_like(grid))
        at_goal = float(cost(goal, torch.zeros_like(goal))[0])
    low = int(values.argmin())
    where = [float(grid[low, 0]), float(grid[low, 1])]
    return {"cost_grid_min": float(values[low]), "cost_grid_argmin": where,
            "cost_at_goal": at_goal, "cost_grid_max": float(values.max()),
            "cost_argmin_to_goal": float(((grid[low] - goal[0]).square().sum()).sqrt())}


def run_single(args: argparse.Namespace) -> None:
    """One (task, algorithm, seed) run; prints one JSON line."""
    import torch

    torch.set_num_threads(1)
    import irlgan
    from irlgan.control import cost_correlation, train_on_cost, train_run
    from irlgan.control.commands import build_config, load_demos
    from irlgan.rl import EVAL_SEED_BASE, evaluate_policy, normalized_return

    env_id = TASKS[args.tasks[0]]
    algo = args.algos[0]
    seed = args.seeds[0]
    demos, expert, rand = load_demos(args.demos, env_id)
    config = build_config(algo, env_id, args.steps or None, seed,
                          dict(s.split("=", 1) for s in args.set))
    out = Path(args.runs) / f"{algo}-{_slug(env_id)}-s{seed}"
    resume = bool(args.resume and (out / "checkpoints").is_dir()
                  and any((out / "checkpoints").iterdir()))
    if out.exists() and not resume:
        import shutil

        shutil.rmtree(out)
    load_before = os.getloadavg()[0]
    raw_rate = raw_env_steps_per_s(env_id)
    summary = train_run(config, demos, out, demos_dir=args.demos, expert_return=expert,
                        random_return=rand, reference_seeds=demos.reference_seeds,
                        progress=False, resume=resume)
    summary["load_avg_1min_before"] = load_before
    summary["load_avg_1min_after"] = os.getloadavg()[0]
    summary["raw_env_steps_per_s"] = raw_rate
    summary["run_dir"] = str(out)
    summary["curve"] = learning_curve(out)
    if env_id == "irlgan/PointMass-v0":
        from irlgan.envs import point_mass_true_cost

        model = irlgan.load(out / "model.pt")
        cost = model.step_cost
        summary["cost_correlation"] = cost_correlation(
            cost, lambda o, a: point_mass_true_cost(o, a.clamp(-1, 1)), demos)

        def fresh(policy_seed: int):
            # the fresh policy optimises the objective the generator optimised: -cost with the
            # run's own entropy weight (the learned cost's scale is the one that weight set)
            return train_on_cost(cost, env_id, config.total_steps, policy_seed,
                                 num_envs=config.algo.num_envs,
                                 steps_per_env=config.algo.steps_per_env, ppo=config.algo.ppo,
                                 entropy_weight=config.algo.entropy_weight)

        policy, seconds = fresh(seed + 100)
        summary["fresh_policy_entropy_weight"] = config.algo.entropy_weight
        summary.update(point_mass_cost_landscape(cost))
        returns = evaluate_policy(policy, env_id, config.eval_episodes, EVAL_SEED_BASE)
        summary["fresh_policy_normalized_return"] = float(
            normalized_return(float(returns.mean()), expert, rand))
        summary["fresh_policy_wall_s"] = seconds
        if args.restarts > 1:
            import gymnasium

            # the choice among fresh policies uses the learned reward only (10 episodes of the
            # mode from reset seeds apart from the evaluation's), as a user without the true
            # reward could make it; each candidate's true score is kept beside it
            probe = gymnasium.make(env_id)
            candidates = []
            for k in range(1, args.restarts + 1):
                if k > 1:
                    policy, _ = fresh(seed + 100 * k)
                    returns = evaluate_policy(policy, env_id, config.eval_episodes,
                                              EVAL_SEED_BASE)
                value, _ = learned_reward_along(model, policy, probe, 10, 2_000_000)
                candidates.append({"seed": seed + 100 * k, "learned_reward": value,
                                   "normalized_return": float(normalized_return(
                                       float(returns.mean()), expert, rand))})
            probe.close()
            summary["fresh_restarts"] = candidates
            summary["fresh_restart_normalized_return"] = max(
                candidates, key=lambda c: c["learned_reward"])["normalized_return"]
    print("RESULT " + json.dumps(summary), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["pendulum", "pointmass", "mountaincar"],
                        choices=list(TASKS), help="default: the three classic-control tasks")
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=list(ALGOS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=None, help="override total env steps")
    parser.add_argument("--set", action="append", default=[],
                        help="KEY=VALUE override (as `irlgan train --set`)")
    parser.add_argument("--experts", default=str(ROOT / "runs" / "experts"))
    parser.add_argument("--runs", default=str(ROOT / "runs" / "benchmark-control"))
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--tag", default="control", help="results file stem")
    parser.add_argument("--markdown", nargs="*", default=None, metavar="TAG",
                        help="print the named result files as markdown tables and exit")
    parser.add_argument("--compare", nargs="+", default=None, metavar="TAG",
                        help="plot the learning curves of the named result files together, one "
                             "figure per task (docs/assets/control/<task>_settings.png), and exit")
    parser.add_argument("--figure", default="settings", metavar="STEM",
                        help="with --compare: name the figures docs/assets/control/<task>_STEM.png "
                             "and the text file <first tag>_STEM.txt (default: settings)")
    parser.add_argument("--restarts", type=int, default=1,
                        help="point mass: train the fresh policy from this many seeds (seed + "
                             "100, seed + 200, ...) and also report the one whose mode earns the "
                             "most learned reward (default 1)")
    parser.add_argument("--resume", action="store_true",
                        help="continue a run whose folder has checkpoints (one killed, e.g. at "
                             "the end of a session) instead of starting it afresh; the settings "
                             "must be the same")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--demos", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.restarts <= 20:
        parser.error(f"--restarts must be 1 to 20, got {args.restarts}")
    if args.single:
        run_single(args)
        return
    if args.compare is not None:
        tables = {tag: json.loads((Path(args.results) / f"{tag}.json").read_text())
                  for tag in args.compare}
        text = format_compare(tables)
        (Path(args.results) / f"{args.compare[0]}_{args.figure}.txt").write_text(text)
        print(text, end="")
        plot_compare(tables, ROOT / "docs" / "assets" / "control", args.figure)
        return
    if args.markdown is not None:
        tables = [json.loads((Path(args.results) / f"{tag}.json").read_text())
                  for tag in args.markdown or ["control"]]
        print(format_markdown(tables))
        return

    results_path = Path(args.results) / f"{args.tag}.json"
    table = json.loads(results_path.read_text()) if results_path.is_file() else {"runs": []}
    for task in args.tasks:
        env_id = TASKS[task]
        folder = ensure_expert(env_id, Path(args.experts))
        expert_info = json.loads((folder / "expert.json").read_text())
        table.setdefault("experts", {})[env_id] = {
            k: expert_info.get(k) for k in ("expert_return", "random_return", "env_steps",
                                            "train_wall_s", "demo_episodes",
                                            "demo_normalized_return")}
        for algo in args.algos:
            for seed in args.seeds:
                cmd = [sys.executable, str(Path(__file__).resolve()), "--single", "--tasks",
                       task, "--algos", algo, "--seeds", str(seed), "--demos", str(folder),
                       "--runs", args.runs]
                if args.steps:
                    cmd += ["--steps", str(args.steps)]
                if args.resume:
                    cmd.append("--resume")
                if args.restarts != 1:
                    cmd += ["--restarts", str(args.restarts)]
                for item in args.set:
                    cmd += ["--set", item]
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, env=_child_env(), capture_output=True, text=True)
                line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
                if proc.returncode != 0 or not line:
                    print(proc.stderr[-3000:], file=sys.stderr)
                    raise SystemExit(f"run {task} {algo} seed {seed} failed")
                result = json.loads(line[-1][len("RESULT "):])
                result["process_wall_s"] = time.perf_counter() - t0
                result["overrides"] = args.set
                if results_path.is_file():  # another invocation may have added runs meanwhile
                    on_disk = json.loads(results_path.read_text())
                    on_disk.setdefault("experts", {}).update(table.get("experts", {}))
                    table = on_disk
                table["runs"] = [r for r in table["runs"] if not (
                    r["env_id"] == env_id and r["algorithm"] == algo and r["seed"] == seed)]
                table["runs"].append(result)
                print(_row(result), flush=True)
                results_path.parent.mkdir(parents=True, exist_ok=True)
                results_path.write_text(json.dumps(table, indent=2) + "\n")
    (Path(args.results) / f"{args.tag}.txt").write_text(format_table(table))
    print(format_table(table))
    plot(table, ROOT / "docs" / "assets" / "control")


def _row(r: dict) -> str:
    split = r["time_split_s"]
    raw = f" of raw {r['raw_env_steps_per_s']:.0f}" if "raw_env_steps_per_s" in r else ""
    extra = ""
    if "cost_correlation" in r:
        extra = (f"  cost r={r['cost_correlation']:.3f}  fresh policy "
                 f"{r['fresh_policy_normalized_return']:.3f}")
        if "fresh_policy_entropy_weight" in r:
            extra += f" (alpha {r['fresh_policy_entropy_weight']:g})"
        if "fresh_restarts" in r:
            extra += ("; restarts " + " / ".join(
                f"{c['normalized_return']:.3f}" for c in r["fresh_restarts"])
                + f", the one the learned reward picks {r['fresh_restart_normalized_return']:.3f}")
        if "cost_grid_argmin" in r:
            x, y = r["cost_grid_argmin"]
            extra += (f"  cost min {r['cost_grid_min']:.2f} at ({x:.2f}, {y:.2f}), at the goal "
                      f"{r['cost_at_goal']:.2f}")
    return (f"{r['env_id']:<26} {r['algorithm']:<8} seed {r['seed']}  norm "
            f"{r['normalized_return']:7.3f}  return {r['return_mean']:9.1f} ± "
            f"{r['return_std']:6.1f}  steps {r['env_steps']:>7}  wall {r['wall_s']:6.1f} s  "
            f"({r['env_steps_per_s']:5.0f} steps/s{raw}; rollout {split['rollout']:.0f} s, gen "
            f"{split['gen']:.0f} s, disc {split['disc']:.0f} s)  load "
            f"{r['load_avg_1min_before']:.1f}{extra}")


def format_table(table: dict) -> str:
    """The results as text, seed by seed, then mean per (task, algorithm)."""
    lines = ["Control benchmark (normalised return: expert = 1, random = 0; 50 held-out "
             "episodes)", ""]
    for env_id, info in table.get("experts", {}).items():
        lines.append(f"{env_id}: R_expert {info['expert_return']:.1f}, R_random "
                     f"{info['random_return']:.1f}")
    lines.append("")
    runs = sorted(table["runs"], key=lambda r: (r["env_id"], r["algorithm"], r["seed"]))
    lines += [_row(r) for r in runs]
    lines.append("")
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["env_id"], r["algorithm"]), []).append(r)
    for (env_id, algo), rs in groups.items():
        norm = [r["normalized_return"] for r in rs]
        wall = [r["wall_s"] for r in rs]
        lines.append(f"{env_id:<26} {algo:<8} mean norm {sum(norm) / len(norm):.3f} over "
                     f"{len(rs)} seeds ({', '.join(f'{x:.3f}' for x in norm)}); mean wall "
                     f"{sum(wall) / len(wall):.0f} s")
    return "\n".join(lines) + "\n"


def format_markdown(tables: list[dict]) -> str:
    """Seed-by-seed markdown tables of several result files (for the docs page)."""
    lines = ["| task | algorithm | seed | normalised return | return | wall (s) | steps/s | "
             "rollout / generator / discriminator (s) | load | cost r | fresh policy |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for table in tables:
        for r in sorted(table["runs"], key=lambda r: (r["env_id"], r["algorithm"], r["seed"])):
            t = r["time_split_s"]
            corr = f"{r['cost_correlation']:.3f}" if "cost_correlation" in r else ""
            rate = f"{r['env_steps_per_s']:.0f}"
            if "raw_env_steps_per_s" in r:
                rate += f" (raw env {r['raw_env_steps_per_s']:.0f})"
            fresh = (f"{r['fresh_policy_normalized_return']:.3f}"
                     if "fresh_policy_normalized_return" in r else "")
            lines.append(
                f"| {r['env_id']} | {r['algorithm']} | {r['seed']} | "
                f"{r['normalized_return']:.3f} | {r['return_mean']:.1f} ± {r['return_std']:.1f} "
                f"| {r['wall_s']:.0f} | {rate} | {t['rollout']:.0f} / "
                f"{t['gen']:.0f} / {t['disc']:.0f} | {r['load_avg_1min_before']:.1f} | {corr} "
                f"| {fresh} |")
    return "\n".join(lines) + "\n"


def learning_curve(run_dir: Path) -> list[list[float]]:
    """[(environment steps, mean true return of the episodes that ended)] from metrics.csv,
    stored in the results so the plots do not need the run folders."""
    import csv

    with (Path(run_dir) / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return [[float(x["env_steps"]), float(x["env_return"])] for x in rows
            if x["env_return"] not in ("", "nan")]  # rollouts that ended episodes


def plot(table: dict, folder: Path) -> None:
    """Learning curves (true return of training episodes) per task, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    by_env: dict[str, list[dict]] = {}
    for r in table["runs"]:
        by_env.setdefault(r["env_id"], []).append(r)
    colors = {"airl": "C0", "gan-gcl": "C1", "gcl": "C2", "gail": "C3"}
    for env_id, rs in by_env.items():
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for r in rs:
            points = r.get("curve")
            if points is None:  # results written before curves were stored
                if not (Path(r["run_dir"]) / "metrics.csv").is_file():
                    continue
                points = learning_curve(Path(r["run_dir"]))
            steps = [p[0] for p in points]
            ret = [p[1] for p in points]
            ax.plot(steps, ret, color=colors.get(r["algorithm"], "k"), lw=1,
                    label=f"{r['algorithm']} s{r['seed']}")
        _finish_figure(fig, ax, env_id, table.get("experts", {}).get(env_id),
                       "return of training episodes", folder / f"{_slug(env_id)}.png",
                       fontsize=7, ncol=2)


def _finish_figure(fig, ax, env_id: str, info: dict | None, ylabel: str, path: Path,
                   **legend: int) -> None:
    """The expert and random lines, labels and legend of a learning-curve figure; saves it."""
    import matplotlib.pyplot as plt

    if info:
        ax.axhline(info["expert_return"], color="k", ls="--", lw=1, label="expert")
        ax.axhline(info["random_return"], color="grey", ls=":", lw=1, label="random")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    ax.set_title(env_id)
    ax.legend(**legend)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def format_compare(tables: dict[str, dict]) -> str:
    """The runs of several result files, each with its file's tag and its `--set` overrides."""
    lines = ["Settings compared (normalised return: expert = 1, random = 0; 50 held-out "
             "episodes; overrides: `--set` over the task's preset)", ""]
    experts = {}
    for table in tables.values():
        experts.update(table.get("experts", {}))
    for env_id, info in sorted(experts.items()):
        lines.append(f"{env_id}: R_expert {info['expert_return']:.1f}, R_random "
                     f"{info['random_return']:.1f}")
    for tag, table in tables.items():
        lines += ["", f"{tag}:"]
        for r in sorted(table["runs"], key=lambda r: (r["env_id"], r["algorithm"], r["seed"])):
            lines.append(_row(r))
            lines.append(f"    overrides: {' '.join(r.get('overrides') or []) or 'none'}")
    return "\n".join(lines) + "\n"


def plot_compare(tables: dict[str, dict], folder: Path, stem: str = "settings") -> None:
    """Learning curves of several result files (settings) per task, one colour per file and the
    deterministic policy's final return as a dot at the end of each curve; saved as
    `folder/<task>_<stem>.png`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    envs = sorted({r["env_id"] for t in tables.values() for r in t["runs"]})
    for env_id in envs:
        fig, ax = plt.subplots(figsize=(7, 4))
        for i, (tag, table) in enumerate(tables.items()):
            for r in (r for r in table["runs"] if r["env_id"] == env_id):
                points = r.get("curve") or []
                label = f"{tag}: {r['algorithm']} s{r['seed']} ({r['normalized_return']:.3f})"
                ax.plot([p[0] for p in points], [p[1] for p in points], color=f"C{i}", lw=1,
                        label=label)
                ax.plot([r["env_steps"]], [r["return_mean"]], "o", color=f"C{i}", ms=4)
        info = next((t["experts"][env_id] for t in tables.values()
                     if env_id in t.get("experts", {})), None)
        _finish_figure(fig, ax, env_id, info,
                       "return (lines: training episodes; dots: final policy)",
                       folder / f"{_slug(env_id)}_{stem}.png", fontsize=6)


if __name__ == "__main__":
    main()
