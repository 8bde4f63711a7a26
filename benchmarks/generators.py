"""MaxEnt PPO against SAC as generators on the true reward: time to a normalised return.

Both generators run through the `irlgan.protocols.Generator` interface (`learn_from`) with the
environment's own reward as the reward function (a table from each stored transition to the
reward the environment paid for it, so SAC's relabelling recomputes exactly that reward).
Every `--ppo-eval-every` / `--sac-eval-every` environment steps the deterministic (mode) policy
plays 20 episodes on held-out reset seeds (from `irlgan.rl.EVAL_SEED_BASE`); its mean return is
normalised, (R - R_random) / (R_expert - R_random), with R_random the mean of
`irlgan.rl.random_returns` (50 episodes) and R_expert the deterministic return of the PPO expert
(`default_expert_config`, seed 100, trained to the end of `irlgan expert`'s default budget) on
the same 50 seeds, or `--expert-return`. Wall and process CPU seconds count training only (not
the evaluations).

    python benchmarks/generators.py                      # Pendulum-v1, seeds 0 1 2
    python benchmarks/generators.py --env HalfCheetah-v5 --seeds 0 --steps 200000 \\
        --sac-steps 30000 --ppo-eval-every 20480 --sac-eval-every 5000 --expert-return 5836 \\
        --sac-set q_hidden=256,256 --sac-set learning_rate=3e-4 --sac-set learning_starts=5000
    python benchmarks/generators.py --render generators_pendulum   # table from the JSON

Settings: PPO is `default_expert_config(env)` (16 envs x 64 steps, learning rates annealed to 0
over `--steps`). SAC: one environment, one gradient step per environment step, the same
tanh-Gaussian policy (64x64), `SACConfig` defaults except learning rates 1e-3 and (64, 64)
critics (`--sac-set` changes more; the overrides are printed with the table).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from irlgan.config import apply_overrides
from irlgan.rl import (
    EVAL_EPISODES,
    EVAL_SEED_BASE,
    MaxEntPPO,
    Rollout,
    RolloutCollector,
    SACConfig,
    SoftActorCritic,
    VecEnv,
    default_expert_config,
    evaluate_policy,
    make_policy,
    normalized_return,
    random_returns,
    train_expert,
)
from irlgan.rl.commands import DEFAULT_EXPERT_STEPS

RESULTS = Path(__file__).parent / "results"
CURVE_EPISODES = 20
"""Evaluation episodes behind each point of a learning curve."""
THRESHOLD = 0.9
"""The normalised return whose first crossing is timed."""


class RewardTable:
    """The environment's reward as a `RewardFn`: looks up each (obs, act, next_obs) it stored.

    Transitions of continuous environments are distinct with probability one, so the table
    gives back exactly the reward the environment paid (SAC recomputes rewards of stored
    transitions at every gradient step; this makes that the true reward).
    """

    def __init__(self) -> None:
        self.table: dict[bytes, float] = {}

    @staticmethod
    def _keys(obs: Tensor, act: Tensor, next_obs: Tensor) -> list[bytes]:
        rows = torch.cat([obs, act, next_obs], -1).reshape(-1, obs.shape[-1] * 2 + act.shape[-1])
        return [row.tobytes() for row in rows.to(torch.float32).numpy()]

    def record(self, rollout: Rollout) -> None:
        """Stores the rewards of a rollout's transitions."""
        keys = self._keys(rollout.obs, rollout.actions, rollout.next_obs)
        self.table.update(zip(keys, rollout.env_reward.reshape(-1).tolist(), strict=True))

    def __call__(self, obs: Tensor, act: Tensor, next_obs: Tensor, terminated: Tensor) -> Tensor:
        values = [self.table[key] for key in self._keys(obs, act, next_obs)]
        return torch.tensor(values, dtype=torch.float32).reshape(terminated.shape)


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def run_generator(
    kind: str,
    env_id: str,
    steps: int,
    seed: int,
    eval_every: int,
    score: Callable[[float], float],
    sac_config: SACConfig,
    sac_alpha: float,
    threshold: float = THRESHOLD,
    ppo_overrides: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Trains one generator for `steps` environment steps and records its learning curve.

    Returns:
        dict with `curve` (rows: env_steps, wall_s, cpu_s, return, normalized) and the time to
        the first normalised return >= `threshold` (None if never).
    """
    load = os.getloadavg()[0]
    expert = apply_overrides(default_expert_config(env_id), ppo_overrides or {})
    init = torch.Generator().manual_seed(seed)
    if kind == "ppo":
        num_envs, steps_per_env, alpha = expert.num_envs, expert.steps_per_env, None
    else:
        num_envs, steps_per_env, alpha = 1, 1, sac_alpha
    vec_env = VecEnv(env_id, num_envs)
    policy = make_policy(vec_env.observation_space, vec_env.action_space, expert.hidden,
                         expert.log_std_init, generator=init,
                         normalize_obs=expert.normalize_obs)
    if kind == "ppo":
        generator: Any = MaxEntPPO(policy, vec_env.obs_dim, expert.ppo, generator=init)
        alpha = expert.ppo.entropy_weight
    else:
        generator = SoftActorCritic(policy, vec_env.obs_dim, vec_env.act_dim, sac_config,
                                    generator=init)
    collector = RolloutCollector(vec_env, policy, steps_per_env, seed)
    rewards = RewardTable()
    per_call = num_envs * steps_per_env
    calls = math.ceil(steps / per_call)
    curve: list[dict[str, float]] = []
    wall = cpu = 0.0
    next_eval = 0
    for call in range(calls + 1):
        if collector.total_steps >= next_eval or call == calls:
            returns = evaluate_policy(policy, env_id, CURVE_EPISODES, EVAL_SEED_BASE)
            mean = float(returns.mean())
            curve.append({"env_steps": collector.total_steps, "wall_s": wall, "cpu_s": cpu,
                          "return": mean, "normalized": score(mean)})
            next_eval += eval_every
        if call == calls:
            break
        wall0, cpu0 = _clocks()
        if kind == "ppo" and expert.anneal_lr:
            generator.set_learning_rate_fraction(1.0 - call / calls)
        rollout = collector.collect()
        rewards.record(rollout)
        generator.learn_from(rollout, rewards, alpha)
        wall1, cpu1 = _clocks()
        wall += wall1 - wall0
        cpu += cpu1 - cpu0
    vec_env.close()
    first = next((row for row in curve if row["normalized"] >= threshold), None)
    return {"kind": kind, "seed": seed, "env_steps": collector.total_steps, "curve": curve,
            "first": first, "final": curve[-1], "load_average_at_start": load}


def _fmt(value: float | None, spec: str) -> str:
    return "never" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=500_000, help="PPO budget per seed")
    parser.add_argument("--sac-steps", type=int, default=20_000, help="SAC budget per seed")
    parser.add_argument("--ppo-eval-every", type=int, default=10_240)
    parser.add_argument("--sac-eval-every", type=int, default=1_000)
    parser.add_argument("--sac-alpha", type=float, default=0.05, help="SAC's entropy weight")
    parser.add_argument("--sac-set", action="append", default=[], metavar="KEY=VALUE",
                        help="SACConfig override (numbers, or comma-separated widths)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD,
                        help="the normalised return both generators are timed to")
    parser.add_argument("--ppo-set", action="append", default=[], metavar="KEY=VALUE",
                        help="ExpertConfig override for PPO (ppo.entropy_weight=0.01, ...)")
    parser.add_argument("--generators", nargs="+", default=["ppo", "sac"],
                        choices=["ppo", "sac"])
    parser.add_argument("--expert-return", type=float, default=None,
                        help="fixed R_expert (default: train the PPO expert, seed 100)")
    parser.add_argument("--out", default=None,
                        help="results name under benchmarks/results (generators_<env>)")
    parser.add_argument("--render", metavar="NAME", default=None,
                        help="only rewrite benchmarks/results/NAME.txt from NAME.json")
    args = parser.parse_args()
    if args.render:
        payload = json.loads((RESULTS / f"{args.render}.json").read_text())
        text = render(payload)
        print(text)
        (RESULTS / f"{args.render}.txt").write_text(text + "\n")
        return
    torch.set_num_threads(1)
    # (64, 64) critics: on Pendulum-v1 (seed 0) as sample-efficient as the default (256, 256)
    # ones (0.9 at 4,000 steps with both, final 1.002 / 1.003) and 2.6x faster per update
    overrides: dict[str, Any] = {"learning_rate": 1e-3, "q_learning_rate": 1e-3,
                                 "learning_starts": 1_000, "q_hidden": (64, 64)}
    for item in args.sac_set:
        key, text = item.split("=", 1)
        overrides[key] = (tuple(int(w) for w in text.split(",")) if key == "q_hidden"
                          else type(getattr(SACConfig(), key))(float(text)))
    sac_config = dataclasses.replace(SACConfig(), **overrides)
    ppo_overrides = dict(item.split("=", 1) for item in args.ppo_set)

    r_random = float(random_returns(args.env, EVAL_EPISODES, EVAL_SEED_BASE).mean())
    if args.expert_return is None:
        expert_steps = DEFAULT_EXPERT_STEPS.get(args.env, 500_000)
        start = time.perf_counter()
        reference = train_expert(args.env, expert_steps, 100)
        r_expert = float(evaluate_policy(reference.policy, args.env, EVAL_EPISODES,
                                         EVAL_SEED_BASE).mean())
        expert_note = (f"PPO expert, seed 100, {reference.env_steps:,} steps "
                       f"({time.perf_counter() - start:.0f} s)")
    else:
        r_expert = float(args.expert_return)
        expert_note = "fixed by --expert-return"
    print(f"{args.env}: R_expert {r_expert:.1f} ({expert_note}), R_random {r_random:.1f}",
          flush=True)

    def score(mean: float) -> float:
        return float(normalized_return(mean, r_expert, r_random))

    runs = []
    for kind in args.generators:
        for seed in args.seeds:
            budget = args.steps if kind == "ppo" else args.sac_steps
            every = args.ppo_eval_every if kind == "ppo" else args.sac_eval_every
            run = run_generator(kind, args.env, budget, seed, every, score, sac_config,
                                args.sac_alpha, args.threshold, ppo_overrides)
            runs.append(run)
            first, final = run["first"], run["final"]
            print(f"{kind} seed {seed}: first >= {args.threshold} at "
                  f"{_fmt(first and first['env_steps'], ',')} steps, "
                  f"{_fmt(first and first['wall_s'], '.1f')} s; final "
                  f"{final['normalized']:.3f} after {final['env_steps']:,} steps, "
                  f"{final['wall_s']:.1f} s", flush=True)

    payload = {"env_id": args.env, "expert_return": r_expert, "random_return": r_random,
               "expert_note": expert_note, "threshold": args.threshold,
               "ppo_overrides": ppo_overrides,
               "curve_episodes": CURVE_EPISODES, "ppo_steps": args.steps,
               "ppo_entropy_weight": apply_overrides(default_expert_config(args.env),
                                                     ppo_overrides).ppo.entropy_weight,
               "ppo_eval_every": args.ppo_eval_every, "sac_steps": args.sac_steps,
               "sac_alpha": args.sac_alpha, "sac_eval_every": args.sac_eval_every,
               "sac_overrides": {k: list(v) if isinstance(v, tuple) else v
                                 for k, v in overrides.items()},
               "sac_config": {k: list(v) if isinstance(v, tuple) else v
                              for k, v in dataclasses.asdict(sac_config).items()},
               "runs": runs}
    name = args.out or "generators_" + args.env.split("-")[0].split("/")[-1].lower()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    text = render(payload)
    print(text)
    (RESULTS / f"{name}.txt").write_text(text + "\n")


def render(payload: dict[str, Any]) -> str:
    """The results table of a run's JSON payload."""
    threshold = payload["threshold"]
    lines = [
        f"{payload['env_id']}: environment steps and training seconds (wall and process CPU) "
        f"to a normalised return >= {threshold}",
        f"(deterministic policy, {payload['curve_episodes']} held-out episodes per point), "
        "and the normalised and raw return at the end of the budget.",
        f"R_expert {payload['expert_return']:.1f} ({payload['expert_note']}), "
        f"R_random {payload['random_return']:.1f}",
        f"PPO: default_expert_config, entropy weight {payload['ppo_entropy_weight']}, budget "
        f"{payload['ppo_steps']:,} steps, evaluated every {payload['ppo_eval_every']:,}"
        + (f", overrides {payload['ppo_overrides']}" if payload.get("ppo_overrides") else ""),
        f"SAC: entropy weight {payload['sac_alpha']}, budget {payload['sac_steps']:,} steps, "
        f"evaluated every {payload['sac_eval_every']:,}, SACConfig overrides "
        f"{payload['sac_overrides']}",
        "",
        f"  {'gen':4} {'seed':>4} {'steps@' + str(threshold):>10} "
        f"{'wall@' + str(threshold):>9} {'cpu@' + str(threshold):>8} "
        f"{'final':>6} {'return':>8} {'steps':>8} {'wall_s':>7} {'cpu_s':>7}",
    ]
    for kind in ("ppo", "sac"):
        runs = [run for run in payload["runs"] if run["kind"] == kind]
        for run in runs:
            first, final = run["first"], run["final"]
            lines.append(
                f"  {kind:4} {run['seed']:>4} {_fmt(first and first['env_steps'], ','):>10} "
                f"{_fmt(first and first['wall_s'], '.1f'):>9} "
                f"{_fmt(first and first['cpu_s'], '.1f'):>8} {final['normalized']:>6.3f} "
                f"{final['return']:>8.1f} {final['env_steps']:>8,} {final['wall_s']:>7.1f} "
                f"{final['cpu_s']:>7.1f}")
        firsts = [run["first"] for run in runs]
        if len(runs) > 1 and all(firsts):
            mean = {key: sum(f[key] for f in firsts) / len(firsts)
                    for key in ("env_steps", "wall_s", "cpu_s")}
            final = sum(run["final"]["normalized"] for run in runs) / len(runs)
            lines.append(f"  {kind:4} {'mean':>4} {mean['env_steps']:>10,.0f} "
                         f"{mean['wall_s']:>9.1f} {mean['cpu_s']:>8.1f} {final:>6.3f}")
    return "\n".join(lines)

if __name__ == "__main__":
    main()
