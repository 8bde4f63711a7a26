"""Benchmark: where a MuJoCo training run's time goes, and the throughput its settings allow.

The MuJoCo issue's throughput goal is a training run at least half as fast, in environment steps
per second, as the bare environment. This script measures, in one process with one torch thread
(so that every figure shares the machine's load of the moment):

1. ``raw``: one bare gymnasium environment under uniform random actions drawn beforehand (the
   reference of `benchmarks/control.py`, ``raw_env_steps_per_s``);
2. ``vec``: the training run's own `irlgan.rl.VecEnv` of ``num_envs`` copies, stepped with
   actions drawn beforehand and reset where episodes end (the environment part of a rollout);
3. ``train``: the algorithm at its preset (`irlgan.control.default_config`), ``--iterations``
   iterations after ``--warmup`` unmeasured ones, split as the trainer splits them: rollout
   (policy sampling and stepping), discriminator, generator (the PPO update);
4. ``grad_step``: the smallest piece of the PPO update, one forward, backward, gradient clipping
   and Adam step of the policy's mean network alone on one minibatch, with torch's default
   (single-tensor) Adam and with its fused CPU kernel (not bit-identical, so not used by
   irlgan: every recorded result would stop reproducing).

From these it prints the training throughput as a fraction of ``raw`` and two ceilings: the
fraction if the discriminator and the generator cost nothing (the rollout alone), and the
largest cost per PPO gradient step (policy and value network, each minibatch) that would still
allow half of ``raw`` with the rollout and discriminator as measured.

Usage:
    python benchmarks/throughput.py --task halfcheetah --algo airl \\
        --demos runs/experts/HalfCheetah-v5 --out benchmarks/results/throughput_halfcheetah.json
    python benchmarks/throughput.py --task swimmer --demos runs/experts/Swimmer-v5 \\
        --out benchmarks/results/throughput_swimmer.json

Writes the JSON and a .txt table beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from control import TASKS, raw_env_steps_per_s  # noqa: E402


def vec_env_steps_per_s(env_id: str, num_envs: int, steps: int, seed: int = 0) -> float:
    """Environment steps per second of the training run's `VecEnv` (all `num_envs` stepped
    together, actions drawn beforehand, finished episodes reset as the rollout resets them)."""
    import numpy as np

    from irlgan.rl import VecEnv

    vec = VecEnv(env_id, num_envs)
    rng = np.random.default_rng(seed)
    space = vec.action_space
    rounds = max(1, steps // num_envs)
    actions = rng.uniform(space.low, space.high,
                          (rounds, num_envs, *space.shape)).astype(space.dtype)
    vec.reset([int(s) for s in rng.integers(0, 1_000_000, num_envs)])
    t0 = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated = vec.step(action)
        done = [int(i) for i in np.flatnonzero(terminated | truncated)]
        if done:
            vec.reset_some(done, [int(s) for s in rng.integers(0, 1_000_000, len(done))])
    rate = rounds * num_envs / (time.perf_counter() - t0)
    vec.vector.close()
    return rate


def grad_step_ms(obs_dim: int, act_dim: int, hidden: tuple[int, ...], batch: int,
                 fused: bool, steps: int = 300) -> float:
    """Milliseconds of one forward + backward + clip + Adam step of an MLP on one minibatch."""
    import torch

    from irlgan.models import mlp

    generator = torch.Generator().manual_seed(0)
    net = mlp(obs_dim, act_dim, hidden, torch.nn.Tanh, generator=generator)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-4, eps=1e-5,
                                 **({"fused": True} if fused else {}))
    x = torch.randn(batch, obs_dim, generator=generator)
    y = torch.randn(batch, act_dim, generator=generator)

    def one() -> None:
        loss = (net(x) - y).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        optimizer.step()

    for _ in range(20):
        one()
    t0 = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - t0) / steps * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="halfcheetah", choices=sorted(TASKS))
    parser.add_argument("--algo", default="airl", choices=["airl", "gan-gcl", "gcl", "gail"])
    parser.add_argument("--demos", default=None,
                        help="demonstrations folder (default: runs/experts/<env>)")
    parser.add_argument("--iterations", type=int, default=20, help="measured iterations")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured iterations first")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override over the preset (as `irlgan train --set`), e.g. "
                             "ppo.epochs=1 to measure a cheaper learner")
    parser.add_argument("--out", default=None, help="JSON to write (a .txt table beside it)")
    args = parser.parse_args()
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be >= 1 and --warmup >= 0")
    from irlgan.config import parse_overrides

    try:
        overrides = parse_overrides(args.set)
    except ValueError as error:
        parser.error(str(error))

    import torch

    torch.set_num_threads(1)
    from irlgan.control import build_algorithm
    from irlgan.control.commands import build_config, load_demos

    env_id = TASKS[args.task]
    demos_dir = Path(args.demos or ROOT / "runs" / "experts" / env_id.replace("/", "-"))
    if not demos_dir.exists():
        parser.error(f"no demonstrations at {demos_dir} (train them with `irlgan expert --env "
                     f"{env_id} --out {demos_dir}`)")
    demos, _, _ = load_demos(demos_dir, env_id)
    run = build_config(args.algo, env_id, None, args.seed, overrides)
    cfg = run.algo
    load_before = os.getloadavg()[0]

    raw = raw_env_steps_per_s(env_id)
    per_iteration = cfg.num_envs * cfg.steps_per_env
    vec = vec_env_steps_per_s(env_id, cfg.num_envs, max(per_iteration * 4, 8_192))

    algo = build_algorithm(run, demos)
    try:
        for _ in range(args.warmup):
            algo.step()
        before = dict(algo.progress.times)
        t0 = time.perf_counter()
        for _ in range(args.iterations):
            algo.step()
        wall = time.perf_counter() - t0
        times = {key: algo.progress.times[key] - before.get(key, 0.0)
                 for key in ("rollout", "disc", "gen")}
        # the discriminator phase's fixed part: log pi of every demonstrated transition, which
        # the trainer computes each iteration (transition discriminators only)
        demo_log_pi_s = None
        if getattr(algo, "discriminates", None) != "episodes":
            d_obs, d_act = algo.demo_transitions[0], algo.demo_transitions[1]
            trials = []
            for _ in range(5):
                t_lp = time.perf_counter()
                with torch.no_grad():
                    whole = algo.policy.log_prob(d_obs, d_act)
                trials.append(time.perf_counter() - t_lp)
            demo_log_pi_s = sorted(trials)[2]
            demo_rows = int(d_obs.shape[0])
            # is a row's log pi the same when computed in a smaller batch? (if it were, computing
            # it for the sampled rows only would change no result)
            with torch.no_grad():
                chunked = torch.cat([algo.policy.log_prob(d_obs[k:k + 1000], d_act[k:k + 1000])
                                     for k in range(0, demo_rows, 1000)])
            chunk_differ = int((whole != chunked).sum())
            chunk_max_diff = float((whole - chunked).abs().max())
    finally:
        algo.close()
    steps = args.iterations * per_iteration
    ppo = cfg.ppo
    minibatches = per_iteration // min(ppo.minibatch_size, per_iteration)
    gen_steps = args.iterations * ppo.epochs * minibatches
    policy = algo.policy
    hidden = tuple(m.out_features for m in policy.mean_net if isinstance(m, torch.nn.Linear))[:-1]
    plain = grad_step_ms(policy.obs_dim, policy.act_dim, hidden, ppo.minibatch_size, False)
    fused = grad_step_ms(policy.obs_dim, policy.act_dim, hidden, ppo.minibatch_size, True)

    train_rate = steps / wall
    rollout_only = steps / times["rollout"]
    # half of raw: the whole iteration may take 2 / raw per step; what is left for the update
    budget_s = 2.0 * steps / raw - times["rollout"] - times["disc"]
    result = {
        "schema": "irlgan.throughput",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "env": env_id, "algo": args.algo, "seed": args.seed, "overrides": args.set,
        "disc_steps": cfg.disc_steps, "disc_batch": cfg.disc_batch,
        "num_envs": cfg.num_envs, "steps_per_env": cfg.steps_per_env,
        "ppo_epochs": ppo.epochs, "ppo_minibatch_size": ppo.minibatch_size,
        "policy_hidden": list(hidden), "value_hidden": list(ppo.value_hidden),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "load_avg_1min_before": load_before, "load_avg_1min_after": os.getloadavg()[0],
        "raw_env_steps_per_s": raw,
        "vec_env_steps_per_s": vec,
        "iterations": args.iterations, "env_steps": steps, "train_wall_s": wall,
        "train_steps_per_s": train_rate,
        "time_rollout_s": times["rollout"], "time_disc_s": times["disc"],
        "time_gen_s": times["gen"],
        "ppo_gradient_steps": gen_steps,
        "ppo_ms_per_gradient_step": times["gen"] / gen_steps * 1e3,
        "demo_log_pi_ms": None if demo_log_pi_s is None else demo_log_pi_s * 1e3,
        "demo_log_pi_chunked_rows_differing": None if demo_log_pi_s is None else chunk_differ,
        "demo_log_pi_chunked_max_abs_diff": None if demo_log_pi_s is None else chunk_max_diff,
        "demo_log_pi_share_of_disc": (None if demo_log_pi_s is None
                                      else demo_log_pi_s * args.iterations / times["disc"]),
        "mlp_step_ms_adam": plain, "mlp_step_ms_fused_adam": fused,
        "fraction_of_raw": train_rate / raw,
        "fraction_of_raw_rollout_only": rollout_only / raw,
        "fraction_of_raw_update_free": steps / (times["rollout"] + times["disc"]) / raw,
        "update_over_bare_step": times["gen"] / steps * raw,
        "ppo_ms_per_gradient_step_for_half_raw": (budget_s / gen_steps * 1e3
                                                  if budget_s > 0 else 0.0),
    }
    lines = [
        f"{env_id}, {args.algo} at its preset"
        + (f" with {' '.join(args.set)}" if args.set else "")
        + f", seed {args.seed}, one torch thread "
        f"(load {load_before:.1f} -> {result['load_avg_1min_after']:.1f})",
        f"  discriminator: {cfg.disc_steps} steps on {cfg.disc_batch} rows per iteration",
        f"  bare environment (one copy):          {raw:8.0f} steps/s",
        f"  the run's VecEnv ({cfg.num_envs} copies):         {vec:8.0f} steps/s",
        f"  training ({args.iterations} iterations, {steps} steps): {train_rate:8.0f} steps/s "
        f"= {train_rate / raw:.3f} of bare",
        f"    rollout {times['rollout']:.2f} s ({times['rollout'] / wall:.0%}), discriminator "
        f"{times['disc']:.2f} s ({times['disc'] / wall:.0%}), generator {times['gen']:.2f} s "
        f"({times['gen'] / wall:.0%})",
        *([] if demo_log_pi_s is None else [
            f"    of the discriminator phase, log pi of all {demo_rows} demonstrated transitions: "
            f"{demo_log_pi_s * 1e3:.1f} ms an iteration "
            f"({result['demo_log_pi_share_of_disc']:.0%}; median of 5); in 1,000-row chunks "
            f"{chunk_differ} of the {demo_rows} values differ from the whole batch's (by up to "
            f"{chunk_max_diff:.2g})"]),
        f"  rollout alone (update free):          {rollout_only:8.0f} steps/s "
        f"= {rollout_only / raw:.3f} of bare",
        f"  PPO: {gen_steps} gradient steps ({ppo.epochs} epochs x {minibatches} minibatches "
        f"of {ppo.minibatch_size} per iteration), "
        f"{result['ppo_ms_per_gradient_step']:.2f} ms each (policy and value network)",
        f"  the PPO update alone: {times['gen'] / steps * 1e6:.0f} us per environment step, "
        f"{result['update_over_bare_step']:.2f} times a bare step ({1e6 / raw:.0f} us)",
        f"  rollout and discriminator alone (PPO update free): "
        f"{result['fraction_of_raw_update_free']:.3f} of bare",
        (f"  half of bare needs <= {result['ppo_ms_per_gradient_step_for_half_raw']:.2f} ms per "
         f"gradient step with the rollout and discriminator as measured" if budget_s > 0 else
         "  half of bare is out of reach at these settings even with a free PPO update"),
        f"  one MLP {hidden} step on {ppo.minibatch_size} rows, forward + backward + clip + Adam: "
        f"{plain:.2f} ms (fused Adam {fused:.2f} ms)",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        out.with_suffix(".txt").write_text(result["command"] + "\n\n" + text + "\n")
        print(f"wrote {out} and {out.with_suffix('.txt')}")


if __name__ == "__main__":
    main()
