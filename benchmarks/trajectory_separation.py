"""Benchmark: how far apart demonstrations and generated episodes are in log q(tau) alone.

GAN-GCL's trajectory discriminator has the logit -c(tau) - log Z(x_0) - log q(tau). Its
-log q(tau) term is a sum over the episode's steps of -log pi(u_t | x_t) under the generator, so
it grows with the horizon: when the demonstrations are far less likely under the generator than
its own episodes, that term alone classifies every episode before the cost has learned anything,
and the discriminator loss gives the cost (nearly) no gradient.

For each given run folder (`irlgan train` / `benchmarks/control.py` runs) and for the policy at
its start and at its newest checkpoint, the script samples episodes with the policy (seeded,
reset seeds from 2_000_000) and scores them and the run's demonstrations under that same policy:

    log q(tau) = sum_t log pi(u_t | x_t)     (start and transition factors cancel in D),

and reports both sides' means and spreads, per episode and per step, and the AUC of log q alone as
a classifier (the fraction of (generated, demonstrated) pairs in which the generated episode has
the higher log q: 1 means log q alone separates every pair).

When the demonstrations were sampled from an `irlgan expert` policy (its folder holds
`policy.pt` and `expert.json` says `demo_deterministic: false`), the data's density is known
exactly, p(tau) = sum_t log pi_E(u_t | x_t) up to the same start and transition factors, and so
is the optimal discriminator, D*(tau) = p / (p + q) = sigmoid(log p - log q) (both normalised:
Z = 1). The script then also reports the exact log-ratio log r = log p - log q on both sides
(its mean over the samples is -KL(q || p), over the demonstrations KL(p || q)), the fraction of
episodes on which D* is not saturated (0.01 < D* < 0.99), and log E_p[1 - D*], the total weight
of the discriminator step's pull on the demonstrations at the optimum (0: full weight; minus
hundreds: the logistic loss gives the cost no gradient even at its own optimum).

Usage:
    python benchmarks/trajectory_separation.py RUN_DIR [RUN_DIR ...] [--episodes 16]
        [--tag trajectory_separation]
Writes benchmarks/results/<tag>.json and <tag>.txt.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESET_SEED_BASE = 2_000_000


def _episodes(policy, env_id: str, count: int, seed: int):
    """`count` episodes of `policy` (sampled actions): a list of (obs [L, d], act [L, a])."""
    import gymnasium as gym
    import numpy as np
    import torch

    import irlgan.envs  # noqa: F401  (registers the irlgan/ ids)

    env = gym.make(env_id)
    generator = torch.Generator().manual_seed(seed)
    out = []
    try:
        for i in range(count):
            obs, _ = env.reset(seed=RESET_SEED_BASE + i)
            observations, actions = [], []
            done = False
            while not done:
                o = torch.as_tensor(np.asarray(obs, dtype=np.float32)).unsqueeze(0)
                with torch.no_grad():
                    act, _ = policy.sample(o, generator)
                observations.append(o[0])
                actions.append(act[0])
                obs, _, terminated, truncated, _ = env.step(act[0].numpy())
                done = terminated or truncated
            out.append((torch.stack(observations), torch.stack(actions)))
    finally:
        env.close()
    return out


def _log_pi(policy, obs, act):
    """Per-step log pi(u_t | x_t), float64 Tensor[L]."""
    import torch

    with torch.no_grad():
        return policy.log_prob(obs, act).double()


def _expert_policy(demos_dir: Path):
    """The expert policy the demonstrations were sampled from, or None (unknown, or its mode)."""
    summary = demos_dir / "expert.json"
    if not (demos_dir / "policy.pt").is_file() or not summary.is_file():
        return None
    if json.loads(summary.read_text()).get("demo_deterministic", True):
        return None
    from irlgan.rl import load_policy

    return load_policy(demos_dir)


def _optimal_discriminator(expert, gen, data, pi_gen, pi_data) -> dict:
    """The exact log-ratio and optimal discriminator on both sides (see the module's doc), given
    the generator's per-step log pi of each episode (`pi_gen`, `pi_data`)."""
    import math

    import torch

    ratio_gen = [_log_pi(expert, o, a) - p for (o, a), p in zip(gen, pi_gen, strict=True)]
    ratio_data = [_log_pi(expert, o, a) - p for (o, a), p in zip(data, pi_data, strict=True)]
    log_r_gen = [float(r.sum()) for r in ratio_gen]
    log_r_data = [float(r.sum()) for r in ratio_data]
    # the same log-ratio step by step: pi_E / pi, the policy part of a per-step discriminator's
    # optimum (AIRL's and GAIL's also carry the ratio of the state marginals)
    steps = torch.cat(ratio_gen + ratio_data)
    per_step_unsaturated = float((steps.abs() < math.log(99)).double().mean())
    both = torch.tensor(log_r_gen + log_r_data, dtype=torch.float64)
    d_star = torch.sigmoid(both)
    unsaturated = float(((d_star > 0.01) & (d_star < 0.99)).double().mean())
    pull = torch.nn.functional.logsigmoid(-torch.tensor(log_r_data, dtype=torch.float64))
    log_pull = float(torch.logsumexp(pull, 0)) - math.log(len(log_r_data))
    return {"log_r_gen": _stats(log_r_gen), "log_r_data": _stats(log_r_data),
            "d_star_unsaturated": unsaturated, "log_pull_at_optimum": log_pull,
            "per_step_unsaturated": per_step_unsaturated}


def _stats(values: list[float]) -> dict[str, float]:
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max())}


def measure(run_dir: Path, episodes: int, seed: int = 0) -> list[dict]:
    """Rows for the run's initial and newest-checkpoint policies."""
    import torch

    from irlgan.control._run import build_algorithm, config_from_run_dict, load_newest
    from irlgan.control.commands import load_demos
    from irlgan.runs import read_config

    config = read_config(run_dir)
    run = config_from_run_dict(config)
    demos, _, _ = load_demos(config["demos"], run.env_id)
    data = [(torch.as_tensor(o[:len(a)], dtype=torch.float32),
             torch.as_tensor(a, dtype=torch.float32))
            for o, a in zip(demos.observations, demos.actions, strict=True)]
    expert = _expert_policy(Path(config["demos"]))
    rows = []
    initial = build_algorithm(run, demos)
    try:
        newest, ckpt = load_newest(run_dir, run, demos, config["inputs"], "measure")
    except BaseException:
        initial.close()
        raise
    try:
        for label, algo in (("initial", initial), (f"newest ({ckpt.name})", newest)):
            policy = algo.policy
            gen = _episodes(policy, run.env_id, episodes, seed)
            pi_gen = [_log_pi(policy, o, a) for o, a in gen]
            pi_data = [_log_pi(policy, o, a) for o, a in data]
            log_q_gen = [float(p.sum()) for p in pi_gen]
            log_q_data = [float(p.sum()) for p in pi_data]
            steps_gen = sum(len(a) for _, a in gen)
            steps_data = sum(len(a) for _, a in data)
            pairs = [g > d for g in log_q_gen for d in log_q_data]
            g, d = _stats(log_q_gen), _stats(log_q_data)
            spread = max(g["sd"], d["sd"], 1e-12)
            rows.append({
                "run": str(run_dir.name), "env_id": run.env_id, "algorithm": run.algorithm,
                "policy": label, "env_steps": int(algo.progress.env_steps),
                "episodes_gen": len(gen), "episodes_data": len(data),
                "mean_length_gen": steps_gen / len(gen), "mean_length_data": steps_data / len(data),
                "log_q_gen": g, "log_q_data": d,
                "per_step_gen": sum(log_q_gen) / steps_gen,
                "per_step_data": sum(log_q_data) / steps_data,
                "gap": g["mean"] - d["mean"], "gap_in_sd": (g["mean"] - d["mean"]) / spread,
                "auc": sum(pairs) / len(pairs),
            })
            if expert is not None:
                rows[-1].update(_optimal_discriminator(expert, gen, data, pi_gen, pi_data))
    finally:
        initial.close()
        newest.close()
    return rows


def _pm(stats: dict, width: int) -> str:
    """'mean ± sd' of a `_stats` dict, the mean right-aligned in `width`."""
    return f"{stats['mean']:>{width}.1f} ± {stats['sd']:>5.1f}"


def table(rows: list[dict]) -> str:
    lines = [
        "log q(tau) = sum_t log pi(u_t | x_t) under the run's generator, of its own sampled",
        "episodes (gen) and of the demonstrations (data); AUC: fraction of (gen, data) pairs with",
        "log q(gen) > log q(data) (1: log q alone separates every pair)",
        "",
        f"{'run':<28} {'policy':<24} {'steps':>8} {'T':>5} {'log q gen':>18} "
        f"{'log q data':>20} {'per step g/d':>14} {'gap':>9} {'gap/sd':>7} {'AUC':>5}",
    ]
    for r in rows:
        g, d = r["log_q_gen"], r["log_q_data"]
        lines.append(
            f"{r['run']:<28} {r['policy']:<24} {r['env_steps']:>8} "
            f"{r['mean_length_data']:>5.0f} {_pm(g, 10)} {_pm(d, 12)} "
            f"{r['per_step_gen']:>6.2f}/{r['per_step_data']:>6.2f} {r['gap']:>9.1f} "
            f"{r['gap_in_sd']:>7.1f} {r['auc']:>5.2f}")
    exact = [r for r in rows if "log_r_gen" in r]
    if exact:
        lines += [
            "",
            "The exact optimal discriminator D* = sigmoid(log p - log q), p the expert's",
            "trajectory density: log r = log p - log q on the samples (mean: -KL(q||p)) and on the",
            "demonstrations (mean: KL(p||q)); the fraction of episodes with 0.01 < D* < 0.99; and",
            "log E_p[1 - D*], the log of the total weight of the pull on the demonstrations;",
            "per step: the fraction of steps (both sides) whose policy log-ratio",
            "log pi_E - log pi lies within +-log 99 (0.01 < D < 0.99 for that ratio alone)",
            "",
            f"{'run':<28} {'policy':<24} {'log r gen':>18} {'log r data':>18} "
            f"{'unsaturated':>11} {'log pull at D*':>14} {'per step':>8}",
        ]
        for r in exact:
            g, d = r["log_r_gen"], r["log_r_data"]
            lines.append(
                f"{r['run']:<28} {r['policy']:<24} {_pm(g, 10)} {_pm(d, 10)} "
                f"{r['d_star_unsaturated']:>11.2f} "
                f"{r['log_pull_at_optimum']:>14.1f} {r['per_step_unsaturated']:>8.2f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders (config.json and checkpoints)")
    parser.add_argument("--episodes", type=int, default=16, help="generated episodes per policy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--tag", default="trajectory_separation", help="results file stem")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    rows = []
    for run in args.runs:
        folder = Path(run)
        if not (folder / "config.json").is_file():
            print(f"error: {folder} is not a run folder (no config.json)", file=sys.stderr)
            return 2
        rows.extend(measure(folder, args.episodes, args.seed))
        print(table(rows[-2:]), end="", flush=True)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.tag}.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / f"{args.tag}.txt").write_text(table(rows))
    print(f"wrote {out / (args.tag + '.txt')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
