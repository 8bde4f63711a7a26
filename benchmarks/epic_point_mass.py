"""Benchmark: EPIC between the learned and the true cost of the point-mass runs of a control sweep.

For every `irlgan/PointMass-v0` trial of the control sweep (`irlgan sweep
benchmarks/sweeps/control.toml --out runs/sweep-control`) the script loads the trained model and
measures EPIC (`irlgan.epic.epic_sampled`, Gleave et al., ICLR 2021) between the learned reward
-step_cost(x, u) (AIRL: g; GAN-GCL, GCL: -c; GAIL: its logit) and the true reward
-(|x - g|^2 + 0.1 |u|^2), with gamma 0.95 (the generators' discount), under two stated coverage
distributions:

* ``box``: states uniform on the arena [-3, 3]^2, actions uniform on [-1, 1]^2, s' by the point
  mass's dynamics; D_S and D_A the same uniform distributions.
* ``expert``: the transitions of the expert's 50 demonstrations; D_S their states and D_A their
  actions (what the expert visits, where the costs were trained).

The presets learn state-only costs, which cannot represent the action term 0.1 |u|^2: the
``floor`` row is EPIC between the true reward and its state part -|x - g|^2, the distance the
best state-only cost would have. Results: benchmarks/results/epic_point_mass.{json,txt}.

Usage:
    python benchmarks/epic_point_mass.py [--sweep runs/sweep-control]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
ENV = "irlgan/PointMass-v0"
GAMMA = 0.95
METHODS = ("airl", "gan-gcl", "gcl", "gail")


def true_reward(obs, act, next_obs):
    from irlgan.envs import point_mass_true_cost

    return -point_mass_true_cost(obs, act.clamp(-1, 1))


def state_part(obs, act, next_obs):
    from irlgan.envs import POINT_MASS_GOAL

    return -(obs - torch.tensor(POINT_MASS_GOAL, dtype=obs.dtype)).square().sum(-1)


def coverages(demos_dir: Path) -> dict:
    """The two coverage distributions as keyword arguments of `epic_sampled`."""
    from irlgan.data import Demonstrations
    from irlgan.envs import PointMassEnv

    env = PointMassEnv()
    arena, step = 3.0, 0.2

    def box_states(n, g):
        return (torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1) * arena

    def box_actions(n, g):
        return torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1

    def box_coverage(n, g):
        s, a = box_states(n, g), box_actions(n, g)
        return s, a, (s + step * a).clamp(-arena, arena)

    assert (env.observation_space.high == arena).all()
    obs, act, next_obs, _ = Demonstrations.load(demos_dir).transitions()
    obs, act, next_obs = obs.double(), act.double().clamp(-1, 1), next_obs.double()

    def pick(n, g):
        return torch.randint(obs.shape[0], (n,), generator=g)

    def expert_states(n, g):
        return obs[pick(n, g)]

    def expert_actions(n, g):
        return act[pick(n, g)]

    def expert_coverage(n, g):
        i = pick(n, g)
        return obs[i], act[i], next_obs[i]

    return {"box": dict(sample_states=box_states, sample_actions=box_actions,
                        sample_coverage=box_coverage),
            "expert": dict(sample_states=expert_states, sample_actions=expert_actions,
                           sample_coverage=expert_coverage)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", default=str(ROOT / "runs" / "sweep-control"))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    import irlgan
    from irlgan.epic import epic_sampled

    trials = Path(args.sweep) / "trials"
    slug = ENV.replace("/", "-")
    demos = trials / f"expert-{slug}-s0"
    if not (demos / "expert.json").is_file():
        raise SystemExit(f"no point-mass expert in {demos}: run the control sweep first")
    kinds = coverages(demos)
    settings = dict(n_mean=512, n_coverage=8192, seed=0)
    rows = [{"method": "floor (true state part)", "seed": None,
             **{k: epic_sampled(true_reward, state_part, GAMMA, **kw, **settings)
                for k, kw in kinds.items()}}]
    for method in METHODS:
        for seed in args.seeds:
            path = trials / f"{method}-{slug}-s{seed}" / "model.pt"
            if not path.is_file():
                print(f"missing {path}; skipped")
                continue
            model = irlgan.load(path)
            summary = json.loads((path.parent / "summary.json").read_text())

            def learned(obs, act, next_obs, model=model):
                return -model.step_cost(obs.float(), act.float()).double()

            rows.append({"method": method, "seed": seed,
                         "normalized_return": summary.get("normalized_return"),
                         **{k: epic_sampled(true_reward, learned, GAMMA, **kw, **settings)
                            for k, kw in kinds.items()}})
            print(rows[-1], flush=True)
    lines = [f"EPIC to the true point-mass reward (gamma {GAMMA}; {settings['n_mean']} samples per "
             f"canonicalising mean, {settings['n_coverage']} coverage transitions, sample seed 0)",
             "box: states uniform on [-3, 3]^2, actions uniform on [-1, 1]^2, s' by the dynamics;",
             "expert: the transitions of the expert's 50 demonstrations (D_S, D_A their states and "
             "actions).", "",
             f"{'method':<26}{'seed':>5}{'EPIC box':>10}{'EPIC expert':>13}{'norm. return':>14}"]
    for r in rows:
        seed = "" if r["seed"] is None else r["seed"]
        norm = r.get("normalized_return")
        lines.append(f"{r['method']:<26}{seed:>5}{r['box']:>10.3f}{r['expert']:>13.3f}"
                     f"{'' if norm is None else f'{norm:.3f}':>14}")
    lines.append("")
    for method in METHODS:
        rs = [r for r in rows if r["method"] == method]
        if rs:
            lines.append(f"{method:<26} mean EPIC box {sum(r['box'] for r in rs) / len(rs):.3f}, "
                         f"expert {sum(r['expert'] for r in rs) / len(rs):.3f} ({len(rs)} seeds)")
    text = "\n".join(lines) + "\n"
    out = Path(args.results)
    (out / "epic_point_mass.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "epic_point_mass.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
