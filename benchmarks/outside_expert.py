"""An expert irlgan did not train: stable-baselines3's PPO or SAC, at its own default settings.

Every imitation benchmark should also run on demonstrations from an expert that irlgan's own
generator did not produce, so that defaults are not fitted to one expert's habits. This script
trains stable-baselines3's `PPO("MlpPolicy", env)` with every setting at the library's default
(one environment, 2048-step rollouts, 10 epochs, two 64-unit tanh layers, no observation
normalisation) except, with `--batch-size`, the minibatch size (SB3's default is 64; 256 makes
the update about four times cheaper on a CPU), or with `--algo sac` its `SAC("MlpPolicy", env)`
at every default (a tanh-squashed Gaussian, two 256-unit ReLU layers, replay of 1,000,000,
learning after 100 steps, batch 256, automatic entropy tuning). `--gamma` replaces the
discount (0.99 by default in both), the one setting the RL Zoo changes for Swimmer (0.9999).
Every 10,000 steps it prints the mean return of the last training episodes. It then writes a
demonstrations folder in the format `benchmarks/control.py --experts DIR` reads:

* 50 episodes recorded with `irlgan.data.record`, actions *sampled* from the policy (as
  irlgan's own experts' demonstrations are), on the reset seeds 3,000,000 onwards (never used
  for training or for evaluation);
* references measured with `Demonstrations.measure_references` on the held-out evaluation
  seeds (`irlgan.rl.EVAL_SEED_BASE` onwards, 50 of them): the expert is SB3's deterministic
  policy, random is uniform actions;
* `expert.json`, a summary (`schema: irlgan.outside-expert`) with the training time, and the
  SB3 model itself (`sb3_ppo.zip` or `sb3_sac.zip`).

Usage:
    pip install -e ".[sb3,mujoco]"
    python benchmarks/outside_expert.py --env HalfCheetah-v5 \\
        --out runs/outside-experts/HalfCheetah-v5
    python benchmarks/control.py --tasks halfcheetah --algos airl --seeds 0 \\
        --experts runs/outside-experts --tag control_mujoco_sb3 --runs runs/mujoco-sb3
    python benchmarks/outside_expert.py --env Pendulum-v1 --algo sac --steps 20000 \\
        --out runs/outside-experts/Pendulum-v1
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import time
from pathlib import Path

DEMO_SEED_BASE = 3_000_000
DEMO_EPISODES = 50


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="gymnasium id")
    parser.add_argument("--algo", choices=("ppo", "sac"), default="ppo",
                        help="the SB3 learner (default: ppo)")
    parser.add_argument("--steps", type=int, default=1_000_000, help="training steps")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="minibatch (SB3's default: 64 for PPO, 256 for SAC)")
    parser.add_argument("--gamma", type=float, default=None,
                        help="discount (SB3's default: 0.99)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="folder to write (must not exist)")
    args = parser.parse_args(argv)

    out = Path(args.out)
    if out.exists():
        print(f"error: {out} exists; give a new folder", file=sys.stderr)
        return 2
    try:
        from stable_baselines3 import PPO, SAC
    except ImportError:
        print("error: stable-baselines3 is not installed (pip install -e \".[sb3]\")",
              file=sys.stderr)
        return 2
    import gymnasium as gym
    import numpy as np
    import torch

    import irlgan
    import irlgan.envs  # noqa: F401  (registers the irlgan/ ids)
    from irlgan._io import software_versions
    from irlgan.rl import EVAL_EPISODES, EVAL_SEED_BASE

    torch.set_num_threads(1)
    env = gym.make(args.env)
    learner = {"ppo": PPO, "sac": SAC}[args.algo]
    batch = {"ppo": 64, "sac": 256}[args.algo] if args.batch_size is None else args.batch_size
    if args.gamma is not None and not 0.0 < args.gamma < 1.0:
        print(f"error: --gamma must lie in (0, 1), got {args.gamma}", file=sys.stderr)
        return 2
    extra = {} if args.gamma is None else {"gamma": args.gamma}
    model = learner("MlpPolicy", env, batch_size=batch, seed=args.seed, device="cpu", verbose=0,
                    **extra)
    start = time.perf_counter()
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % 10_000 == 0:
                recent = [info["r"] for info in self.model.ep_info_buffer]
                mean = f"{np.mean(recent):.1f}" if recent else "n/a"
                print(f"  {self.num_timesteps:>9,} steps, {time.perf_counter() - start:6.0f} s: "
                      f"last {len(recent)} training episodes' mean return {mean}", flush=True)
            return True

    model.learn(total_timesteps=args.steps, progress_bar=False, callback=Progress())
    train_s = time.perf_counter() - start
    env.close()

    def sampled(obs):
        return model.predict(obs, deterministic=False)

    def mode(obs):
        return model.predict(obs, deterministic=True)

    start = time.perf_counter()
    demos = irlgan.data.record(args.env, sampled, episodes=DEMO_EPISODES, seed=DEMO_SEED_BASE,
                               references=False)
    seeds = [EVAL_SEED_BASE + i for i in range(EVAL_EPISODES)]
    demos = demos.measure_references(args.env, mode, seeds)
    out.mkdir(parents=True)
    demos.save(out)
    model.save(out / f"sb3_{args.algo}.zip")
    summary = {
        "schema": "irlgan.outside-expert", "schema_version": 1, "env_id": args.env,
        "learner": f"stable-baselines3 {args.algo.upper()}, default settings"
                   + ("" if args.gamma is None else f" but gamma {args.gamma}"),
        "batch_size": batch, "gamma": float(model.gamma),
        "seed": args.seed,
        "env_steps": args.steps, "expert_return": demos.expert_return,
        "random_return": demos.random_return, "eval_seed_base": EVAL_SEED_BASE,
        "eval_episodes": EVAL_EPISODES, "demo_episodes": DEMO_EPISODES,
        "demo_seed_base": DEMO_SEED_BASE, "demo_deterministic": False,
        "demo_return_mean": float(np.mean(demos.returns)), "train_wall_s": train_s,
        "record_wall_s": time.perf_counter() - start,
        "software": {**software_versions(),
                     "stable-baselines3": importlib.metadata.version("stable-baselines3")},
    }
    (out / "expert.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{args.env}: SB3 {args.algo.upper()} expert {demos.expert_return:.1f} (random "
          f"{demos.random_return:.1f}), demonstrations {summary['demo_return_mean']:.1f}, "
          f"trained in {train_s:.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
