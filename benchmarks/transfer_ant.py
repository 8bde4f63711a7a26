"""Benchmark: reward transfer to AIRL's disabled Ant, one torch thread per process.

A reward is learned from the Ant-v5 expert's 50 demonstrations with the Ant presets of
`irlgan train` (`irlgan/presets/control.toml`: the discriminator sees the 27 joint positions and
velocities, not the contact forces, and a fall does not end a training episode). Then a fresh
MaxEnt-PPO policy is trained on that reward alone in `irlgan/DisabledAnt-v0` (both front legs
shortened to a quarter beyond the hip), and its true return there is set beside RL on the true
reward in the same task with the same trainer, settings and budget (`irlgan.rl.train_expert`
with the Ant expert's preset; ``reward_fn`` for a learned reward). As in the learning runs, a
fall does not end a transfer-training episode (``--terminate`` keeps Ant's own rule); every
policy is scored on the registered task, falls included, over the same 50 held-out reset seeds.

Two policies are moved without retraining ("policy transfer"): GAIL's, which learns no reward
meant for transfer (as in the AIRL paper), and the Ant expert's own, which shows what the
changed body costs a policy that is not retrained.

The disabled Ant has no expert of its own here, so returns are reported raw, as a fraction of
RL on the true reward (mean over its seeds; the target is AIRL state-only >= 0.5), and
normalised between uniform actions (0) and RL on the true reward (1).

Every stage is kept in the run folder, so a killed run repeats at most the stage it was in:
the adversarial run resumes from its checkpoints, a finished transfer policy is saved
(`transfer_policy.pt`, `transfer.json`), and a finished run is a line in the results file.

A learning stage can also come from a finished imitation run of `benchmarks/control.py`
(``--reuse DIR``), taken only where its recorded settings equal the method's exactly.

Usage:
    python benchmarks/transfer_ant.py --methods airl rl-true --seeds 0
    python benchmarks/transfer_ant.py --methods airl-sa --seeds 0 --reuse runs/ant-noterm-lr3e3-3m
    python benchmarks/transfer_ant.py --methods expert           # evaluation only (minutes)
    python benchmarks/transfer_ant.py --diagnose        # whose fault a failed transfer is
    python benchmarks/transfer_ant.py --table-only
Writes benchmarks/results/transfer_ant.{json,txt} and docs/assets/transfer/ant_transfer.png.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from control import (  # benchmarks/control.py, beside this script
    ensure_expert,
    learned_reward_along,
    run_children,
)

ROOT = Path(__file__).resolve().parents[1]
TRAIN_ENV = "Ant-v5"
TEST_ENV = "irlgan/DisabledAnt-v0"
METHODS = {  # name: (algorithm, overrides on top of the algorithm's Ant preset)
    "airl": ("airl", {"state_only": "true"}),
    "airl-sa": ("airl", {"state_only": "false"}),
    "gan-gcl": ("gan-gcl", {"state_only": "true"}),
    "gan-gcl-sa": ("gan-gcl", {"state_only": "false"}),
    "gail": ("gail", {"state_only": "false"}),
}
LABELS = {"airl": "AIRL state-only", "airl-sa": "AIRL state-action",
          "gan-gcl": "GAN-GCL state-only", "gan-gcl-sa": "GAN-GCL state-action",
          "gail": "GAIL (policy transfer)", "expert": "Ant expert (policy transfer)",
          "rl-true": "RL on the true reward"}
# Fu, Luo and Levine (ICLR 2018), table 1: true return in the disabled Ant (their Ant-v1 model,
# reward and scale).
PAPER = {"gan-gcl-sa": -44.8, "gan-gcl": -43.4, "airl-sa": -41.4, "airl": 130.3,
         "gail": -58.8, "rl-true": 315.5}
EVAL_EPISODES = 50


def transfer_env(terminate: bool):
    """The disabled Ant that transfer policies train in (its falls end episodes only with
    `terminate`)."""
    import functools

    import gymnasium

    import irlgan.envs  # noqa: F401  (registers irlgan/DisabledAnt-v0)

    if terminate:
        return TEST_ENV
    return functools.partial(gymnasium.make, TEST_ENV, terminate_when_unhealthy=False)


def forward_progress(policy, seeds: list[int]) -> tuple[list[float], list[int]]:
    """Per episode of `policy`'s mode in the registered disabled Ant: the sum of its forward
    reward (the distance walked along x, over the 0.05 s step) and the episode's length.

    Ant-v5 pays 1 for every step alive, so a policy that only stands still scores about the
    length of its episode (close to 1000); the forward reward is the part that needs walking."""
    import gymnasium
    import torch

    import irlgan.envs  # noqa: F401

    env = gymnasium.make(TEST_ENV)
    forward, lengths = [], []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        total, steps, done = 0.0, 0, False
        while not done:
            with torch.no_grad():
                action = policy.mode(torch.as_tensor(obs, dtype=torch.float32)[None])[0]
            obs, _, terminated, truncated, info = env.step(action.numpy())
            total += float(info["reward_forward"])
            steps += 1
            done = terminated or truncated
        forward.append(total)
        lengths.append(steps)
    env.close()
    return forward, lengths


def learned_reward_on(model, policy, episodes: int = 3, seed_base: int = 2_000_000) -> float:
    """Mean learned reward a step, -``model.step_cost``, along `policy`'s mode in the disabled
    Ant as the transfer policies train in it (no termination; 1000 steps an episode), on reset
    seeds apart from the evaluation's. Beside the same number for RL on the true reward's policy
    it says whether a failed transfer is the reward's fault (it prefers what the policy does) or
    the optimiser's (it prefers walking, and the policy did not find it)."""
    import gymnasium

    import irlgan.envs  # noqa: F401

    env = gymnasium.make(TEST_ENV, terminate_when_unhealthy=False)
    value, _ = learned_reward_along(model, policy, env, episodes, seed_base)
    env.close()
    return value


# Ant-v5's observation without contact forces: 0 torso height, 1-4 its orientation, 5-12 joint
# angles, 13-15 the torso's velocity (13 forward), 16-18 its angular velocity, 19-26 joint speeds.
VELOCITIES = slice(13, 27)
JOINT_SPEEDS = slice(19, 27)
GAIT_SEED = 2_000_000  # reset seed of `diagnose`'s episodes, apart from the evaluation's


def mode_episode(policy, env, seed: int):
    """One episode of `policy`'s mode in `env` reset with `seed`: its observations [T, d_obs]
    and actions [T, d_act] as float32 tensors."""
    import numpy as np
    import torch

    obs, _ = env.reset(seed=seed)
    observations, actions, done = [], [], False
    while not done:
        with torch.no_grad():
            action = policy.mode(torch.as_tensor(obs, dtype=torch.float32)[None])[0]
        observations.append(np.asarray(obs, dtype=np.float32))
        actions.append(action.numpy())
        obs, _, terminated, truncated, _ = env.step(action.numpy())
        done = terminated or truncated
    return torch.as_tensor(np.stack(observations)), torch.as_tensor(np.stack(actions))


def gait_of(model, o, a, velocities=None) -> dict:
    """`gait` of an episode already rolled out (`mode_episode`'s observations and actions)."""
    import torch

    with torch.no_grad():
        out = {"reward": float(-model.step_cost(o, a).mean()),
               "height": float(o[:, 0].mean()), "forward_velocity": float(o[:, 13].mean()),
               "joint_speed": float(o[:, JOINT_SPEEDS].abs().mean()),
               "action_sq": float((a.double() ** 2).sum(1).mean()),
               "velocities": [float(v) for v in o[:, VELOCITIES].mean(0)]}
        if velocities is not None:
            swapped = o.clone()
            swapped[:, VELOCITIES] = torch.as_tensor(velocities, dtype=swapped.dtype)
            out["reward_at_velocities"] = float(-model.step_cost(swapped, a).mean())
    return out


def gait(model, policy, env, seed: int, velocities=None) -> dict:
    """Along one episode of `policy`'s mode in `env` (reset with `seed`): the learned reward a
    step, -``model.step_cost`` (``reward``); the same with the velocity components (13-26) of
    every observation set to `velocities` (``reward_at_velocities``, when given); the mean
    torso height, forward velocity, absolute joint speed and squared action norm; and the mean
    of the velocity components (to hand to another call as `velocities`). It shows which part of
    the state a learned reward pays for."""
    return gait_of(model, *mode_episode(policy, env, seed), velocities)


def diagnose(table: dict, runs: str, experts: str) -> None:
    """Adds to every learned-reward row whose model, transfer policy and same-seed RL policy are
    on disk ``learned_reward_own`` and ``learned_reward_rl`` (`learned_reward_on`), and
    ``gait``: `gait` along the Ant expert on the healthy Ant-v5, its own transfer policy and
    RL's in the disabled Ant (one episode each, no termination, the last two also with their
    velocities set to the expert's mean)."""
    import gymnasium

    import irlgan
    import irlgan.envs  # noqa: F401
    from irlgan.rl import load_policy

    expert_episode = None  # the expert's episode on the healthy Ant: rolled out once, scored
    # by each row's reward
    for r in table["runs"]:
        if r["method"] not in METHODS or r["method"] == "gail" or "gait" in r:
            continue
        own = Path(runs) / f"{r['method']}-s{r['seed']}" / "transfer_policy.pt"
        rl = Path(runs) / f"rl-true-s{r['seed']}" / "transfer_policy.pt"
        model_path = Path(r["run_dir"]) / "model.pt"
        expert = Path(experts) / "Ant-v5"
        if not (own.is_file() and rl.is_file() and model_path.is_file() and expert.is_dir()):
            print(f"{r['method']} seed {r['seed']}: not diagnosed (a model or policy is missing)")
            continue
        model = irlgan.load(model_path)
        own_policy, rl_policy = load_policy(own), load_policy(rl)
        if "learned_reward_rl" not in r:
            r["learned_reward_own"] = learned_reward_on(model, own_policy)
            r["learned_reward_rl"] = learned_reward_on(model, rl_policy)
        own_value, rl_value = r["learned_reward_own"], r["learned_reward_rl"]
        print(f"{LABELS[r['method']]} seed {r['seed']}: learned reward a step on its own "
              f"transfer policy {own_value:.3f}, on RL's {rl_value:.3f}", flush=True)
        if expert_episode is None:
            healthy = gymnasium.make(TRAIN_ENV, terminate_when_unhealthy=False)
            expert_episode = mode_episode(load_policy(expert), healthy, GAIT_SEED)
            healthy.close()
        ref = gait_of(model, *expert_episode)
        r["gait"] = {"expert_healthy": ref}
        disabled = gymnasium.make(TEST_ENV, terminate_when_unhealthy=False)
        for name, policy in (("own", own_policy), ("rl", rl_policy)):
            r["gait"][name] = gait(model, policy, disabled, GAIT_SEED, ref["velocities"])
        disabled.close()


# ----------------------------------------------------------------------------------------------
# One run (in its own process)
# ----------------------------------------------------------------------------------------------


def _train_policy(folder: Path, args: argparse.Namespace, seed: int, reward_fn) -> tuple:
    """A MaxEnt-PPO policy trained in the disabled Ant (kept in `folder`, reused if there)."""
    from irlgan.rl import default_expert_config, load_policy, save_policy, train_expert

    policy_path, info_path = folder / "transfer_policy.pt", folder / "transfer.json"
    if policy_path.is_file() and info_path.is_file():
        info = json.loads(info_path.read_text())
        if (info["env_steps_requested"] == args.transfer_steps
                and info["terminate"] == args.terminate):
            return load_policy(policy_path), info
    config = default_expert_config(TRAIN_ENV)
    curve: list[list[float]] = []

    def record(row: dict) -> None:
        if row["episode_return"] == row["episode_return"]:  # not NaN
            curve.append([row["env_steps"], row["episode_return"]])

    trained = train_expert(transfer_env(args.terminate), args.transfer_steps, seed + 100,
                           config, callback=record, reward_fn=reward_fn)
    folder.mkdir(parents=True, exist_ok=True)
    save_policy(policy_path, trained.policy, TEST_ENV, config.hidden)
    info = {"env_steps_requested": args.transfer_steps, "env_steps": trained.env_steps,
            "terminate": args.terminate, "wall_s": trained.wall_s, "seed": seed + 100,
            "curve": curve[:: max(1, len(curve) // 100)]}
    info_path.write_text(json.dumps(info) + "\n")
    return trained.policy, info


def reusable_run(config, demos, algo: str, seed: int, folders: list[str]) -> Path | None:
    """A finished imitation run (`benchmarks/control.py`'s ``<algo>-Ant-v5-s<seed>``) in one of
    `folders` whose recorded settings are exactly `config`'s and whose demonstrations are
    `demos` (by content hash), else None."""
    from irlgan.config import config_to_dict

    wanted = config_to_dict(config)
    for base in folders:
        run_dir = Path(base) / f"{algo}-Ant-v5-s{seed}"
        if not ((run_dir / "summary.json").is_file() and (run_dir / "model.pt").is_file()):
            continue
        recorded = json.loads((run_dir / "config.json").read_text())
        same_demos = (recorded.get("inputs") or {}).get("demos_sha256") == demos.content_hash()
        if same_demos and all(recorded.get(key) == value for key, value in wanted.items()):
            return run_dir
        print(f"not reused: {run_dir} was trained with other settings or demonstrations",
              file=sys.stderr)
    return None


def run_single(args: argparse.Namespace) -> None:
    """One method and seed: learn on Ant-v5, transfer to the disabled Ant; one JSON line."""
    import dataclasses

    import torch

    torch.set_num_threads(1)
    import irlgan
    from irlgan.control import train_run
    from irlgan.control.commands import build_config, load_demos
    from irlgan.rl import EVAL_SEED_BASE, evaluate_policy, load_policy

    method, seed = args.methods[0], args.seeds[0]
    folder = Path(args.runs) / f"{method}-s{seed}"
    result: dict = {"method": method, "seed": seed, "load_avg_1min_before": os.getloadavg()[0]}
    if method == "expert":
        policy, info = load_policy(args.demos), None
    elif method == "rl-true":
        policy, info = _train_policy(folder, args, seed, None)
    else:
        algo, overrides = METHODS[method]
        demos, expert, rand = load_demos(args.demos, TRAIN_ENV)
        overrides = {**overrides, **dict(s.split("=", 1) for s in args.set)}
        config = build_config(algo, TRAIN_ENV, args.steps or None, seed, overrides)
        run_dir = reusable_run(config, demos, algo, seed, args.reuse) or folder / "learn"
        if (run_dir / "summary.json").is_file():
            summary = json.loads((run_dir / "summary.json").read_text())
        else:
            checkpoints = run_dir / "checkpoints"
            resume = checkpoints.is_dir() and any(checkpoints.iterdir())
            if run_dir.exists() and not resume:
                import shutil

                shutil.rmtree(run_dir)
            summary = train_run(config, demos, run_dir, demos_dir=args.demos,
                                expert_return=expert, random_return=rand,
                                reference_seeds=demos.reference_seeds, progress=False,
                                resume=resume)
        result.update({
            "algorithm": algo, "config": dataclasses.asdict(config.algo),
            "train_normalized_return": summary["normalized_return"],
            "train_return": summary["return_mean"], "train_env_steps": summary["env_steps"],
            "train_wall_s": summary["wall_s"], "run_dir": str(run_dir),
            "reused": run_dir != folder / "learn"})
        model = irlgan.load(run_dir / "model.pt")
        if method == "gail":
            policy, info = model.policy, None
        else:
            def reward_fn(rollout, model=model):
                return -model.step_cost(rollout.obs, rollout.actions)

            policy, info = _train_policy(folder, args, seed, reward_fn)
    returns = evaluate_policy(policy, TEST_ENV, EVAL_EPISODES, EVAL_SEED_BASE)
    forward, lengths = forward_progress(policy, [EVAL_SEED_BASE + i for i in range(EVAL_EPISODES)])
    result.update({"test_return": float(returns.mean()), "test_return_std": float(returns.std()),
                   "test_returns": [float(r) for r in returns],
                   "test_forward": sum(forward) / len(forward), "test_forwards": forward,
                   "test_length": sum(lengths) / len(lengths),
                   "load_avg_1min_after": os.getloadavg()[0]})
    if info is not None:
        result.update({"transfer_wall_s": info["wall_s"], "transfer_env_steps": info["env_steps"],
                       "transfer_terminate": info["terminate"], "transfer_curve": info["curve"]})
    print("RESULT " + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def references(table: dict) -> tuple[float | None, float]:
    """(mean return of RL on the true reward over its seeds or None, uniform actions' return)."""
    rl = [r["test_return"] for r in table["runs"] if r["method"] == "rl-true"]
    return (_mean(rl) if rl else None), table["random_return"]


def format_table(table: dict) -> str:
    """Seed-by-seed rows, then means, with the paper's numbers beside them."""
    rl, rand = references(table)
    expert = table["expert"]
    lines = [
        "Disabled Ant: learn on Ant-v5 from its expert's 50 demonstrations, then a fresh policy on",
        "the learned reward alone in irlgan/DisabledAnt-v0; true return over 50 held-out episodes.",
        f"Ant-v5: R_expert {expert['expert_return']:.1f}, R_random {expert['random_return']:.1f};"
        f" disabled Ant: uniform actions {rand:.1f}, RL on the true reward "
        + ("(not run)" if rl is None else f"{rl:.1f} (mean over seeds)") + ".",
        "of RL: return / RL's mean return; norm: (return - uniform) / (RL's mean - uniform).",
        "forward: the forward reward's sum (x distance walked / 0.05 s), of which RL's share in",
        "'fwd of RL'; length: mean steps before a fall or the 1000-step limit. Ant-v5 pays 1 a",
        "step alive, so standing still for 1000 steps already returns about 1000.",
        "",
        f"{'method':<30}{'seed':>5}{'train norm':>12}{'test return':>13}{'± sd':>8}"
        f"{'of RL':>8}{'norm':>8}{'forward':>9}{'fwd of RL':>10}{'length':>8}{'train s':>9}"
        f"{'transfer s':>12}"]
    order = list(LABELS)
    runs = sorted(table["runs"], key=lambda r: (order.index(r["method"]), r["seed"]))

    def ratios(ret: float) -> tuple[str, str]:
        if rl is None:
            return "", ""
        return f"{ret / rl:.3f}", f"{(ret - rand) / (rl - rand):.3f}"

    rl_forward = [r["test_forward"] for r in table["runs"] if r["method"] == "rl-true"]

    def forward_share(value: float) -> str:
        return f"{value / _mean(rl_forward):.3f}" if rl_forward else ""

    for r in runs:
        train = r.get("train_normalized_return")
        of_rl, norm = ratios(r["test_return"])
        lines.append(
            f"{LABELS[r['method']]:<30}{r['seed']:>5}"
            f"{'' if train is None else f'{train:.3f}':>12}{r['test_return']:>13.1f}"
            f"{r['test_return_std']:>8.1f}{of_rl:>8}{norm:>8}{r['test_forward']:>9.1f}"
            f"{forward_share(r['test_forward']):>10}{r['test_length']:>8.0f}"
            f"{r.get('train_wall_s', 0):>9.0f}{r.get('transfer_wall_s', 0):>12.0f}")
    probed = [r for r in runs if "learned_reward_rl" in r]
    if probed:
        lines += ["", "The learned reward a step (3 episodes of 1000 steps, no termination) along",
                  "the policy trained on it and along RL on the true reward's policy (same seed):"]
        for r in probed:
            verdict = ("prefers its own policy: the reward" if
                       r["learned_reward_own"] >= r["learned_reward_rl"] else
                       "prefers RL's policy: the optimiser")
            own, rl_value = r["learned_reward_own"], r["learned_reward_rl"]
            lines.append(f"{LABELS[r['method']]:<30}{r['seed']:>5}  own {own:9.3f}"
                         f"  RL's {rl_value:9.3f}  ({verdict})")
    walked = [r for r in runs if "gait" in r]
    if walked:
        lines += ["", "What the learned reward pays for (`gait`, one 1000-step episode each): "
                  "reward a step, the same",
                  "with the velocities (components 13-26) set to the expert's mean on the "
                  "healthy Ant, torso",
                  "height, forward velocity, mean |joint speed|, mean squared action:"]
        for r in walked:
            for name, label in (("expert_healthy", "the expert, healthy Ant"),
                                ("own", "its own policy, disabled"), ("rl", "RL's, disabled")):
                g = r["gait"][name]
                at = g.get("reward_at_velocities")
                lines.append(
                    f"{LABELS[r['method']]:<22}{r['seed']:>3}  {label:<25}"
                    f" reward {g['reward']:7.3f}"
                    f"  at the expert's velocities {'' if at is None else f'{at:7.3f}':>7}"
                    f"  height {g['height']:.3f}  forward {g['forward_velocity']:6.3f}"
                    f"  |joint speed| {g['joint_speed']:.2f}  a^2 {g['action_sq']:.2f}")
    lines += ["", "Means over seeds (the paper's return, its Ant-v1 model and scale, beside):"]
    for method in order:
        rs = [r for r in runs if r["method"] == method]
        if not rs:
            continue
        ret = _mean([r["test_return"] for r in rs])
        fwd = _mean([r["test_forward"] for r in rs])
        of_rl, norm = ratios(ret)
        paper = f"paper {PAPER[method]}" if method in PAPER else "not in the paper"
        lines.append(f"{LABELS[method]:<30} test return {ret:8.1f}"
                     + (f"  of RL {of_rl}  normalised {norm}" if of_rl else "")
                     + f"  forward {fwd:7.1f}"
                     + (f" ({forward_share(fwd)} of RL's)" if rl_forward else "")
                     + f"  ({len(rs)} seeds; {paper})")
    return "\n".join(lines) + "\n"


def plot(table: dict, path: Path) -> None:
    """Bars of the true return in the disabled Ant (dots: seeds) beside the paper's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    order = [m for m in LABELS if any(r["method"] == m for r in table["runs"])]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for ax, key, ylabel in ((axes[0], "test_return", "true return in the disabled Ant"),
                            (axes[1], "test_forward", "forward reward (distance / 0.05 s)")):
        for i, method in enumerate(order):
            values = [r[key] for r in table["runs"] if r["method"] == method]
            ax.bar(i, np.mean(values), color="k" if method == "rl-true" else "C0", alpha=0.6)
            ax.scatter([i] * len(values), values, color="k", s=10, zorder=3)
        ax.set_xticks(range(len(order)), [LABELS[m] for m in order], rotation=30, ha="right",
                      fontsize=8)
        ax.set_ylabel(ylabel)
    axes[0].axhline(table["random_return"], color="grey", ls=":", lw=1, label="uniform actions")
    axes[0].axhline(1000, color="grey", ls="--", lw=1, label="standing for 1000 steps")
    axes[0].set_title("irlgan, Ant-v5 (bars: mean, dots: seeds)")
    axes[0].legend(fontsize=7)
    axes[1].set_title("the part of the return that needs walking")
    ax = axes[2]
    paper = [m for m in LABELS if m in PAPER]
    ax.bar(range(len(paper)), [PAPER[m] for m in paper],
           color=["k" if m == "rl-true" else "C1" for m in paper], alpha=0.6)
    ax.set_xticks(range(len(paper)), [LABELS[m] for m in paper], rotation=30, ha="right",
                  fontsize=8)
    ax.set_title("Fu et al. 2018, table 1 (Ant-v1, their scale)")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    choices = list(METHODS) + ["expert", "rl-true"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["airl", "gan-gcl", "gail", "expert",
                                                         "rl-true"], choices=choices)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=None,
                        help="override the adversarial runs' environment steps (preset: AIRL "
                             "3,000,000, GAN-GCL and GAIL 1,000,000)")
    parser.add_argument("--transfer-steps", type=int, default=1_000_000,
                        help="environment steps of every policy trained in the disabled Ant "
                             "(the Ant expert's budget)")
    parser.add_argument("--terminate", action="store_true",
                        help="let a fall end a transfer-training episode (Ant's own rule)")
    parser.add_argument("--set", action="append", default=[],
                        help="KEY=VALUE override of the adversarial runs (as `irlgan train`)")
    parser.add_argument("--reuse", action="append", default=[], metavar="DIR",
                        help="a `benchmarks/control.py --runs` folder whose finished Ant runs "
                             "serve as the learning stage where their settings are exactly the "
                             "method's (e.g. the state-action AIRL imitation runs)")
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side")
    parser.add_argument("--redo", action="store_true",
                        help="evaluate again what the JSON holds (stages kept in the run "
                             "folder are reused: delete the folder to train again)")
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--diagnose", action="store_true",
                        help="measure each learned reward along its own transfer policy and "
                             "along RL's (from the run folders), then write the table")
    parser.add_argument("--tag", default="transfer_ant",
                        help="results file stem (plot only for the default)")
    parser.add_argument("--experts", default=str(ROOT / "runs" / "experts"))
    parser.add_argument("--runs", default=str(ROOT / "runs" / "transfer-ant"))
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--demos", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        run_single(args)
        return
    results_path = Path(args.results) / f"{args.tag}.json"

    def load() -> dict:
        return (json.loads(results_path.read_text()) if results_path.is_file()
                else {"runs": []})

    table = load()

    def finish() -> None:
        if "expert" not in table:
            raise SystemExit(f"{results_path} holds no runs yet: run the benchmark first")
        text = format_table(table)
        (Path(args.results) / f"{args.tag}.txt").write_text(text)
        print(text)
        if args.tag == "transfer_ant":
            plot(table, ROOT / "docs" / "assets" / "transfer" / "ant_transfer.png")

    if args.diagnose:
        diagnose(table, args.runs, args.experts)
        results_path.write_text(json.dumps(table, indent=1) + "\n")
    if args.table_only or args.diagnose:
        finish()
        return
    folder = ensure_expert(TRAIN_ENV, Path(args.experts))
    info = json.loads((folder / "expert.json").read_text())
    table["expert"] = {k: info.get(k) for k in (
        "expert_return", "random_return", "env_steps", "train_wall_s", "demo_episodes",
        "demo_normalized_return")}
    if "random_return" not in table:
        import irlgan.envs  # noqa: F401
        from irlgan.rl import EVAL_SEED_BASE, random_returns

        table["random_return"] = float(random_returns(TEST_ENV, EVAL_EPISODES,
                                                      EVAL_SEED_BASE).mean())
    todo = [(m, s) for m in args.methods for s in ([0] if m == "expert" else args.seeds)
            if args.redo or not any(r["method"] == m and r["seed"] == s for r in table["runs"])]
    print(f"{len(todo)} runs to do ({len(table['runs'])} already in {results_path.name})",
          flush=True)
    def command(item: tuple[str, int]) -> list[str]:
        method, seed = item
        print(f"started {LABELS[method]} seed {seed}", flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--single", "--methods", method,
               "--seeds", str(seed), "--demos", str(folder), "--runs", args.runs,
               "--transfer-steps", str(args.transfer_steps)]
        if args.steps:
            cmd += ["--steps", str(args.steps)]
        if args.terminate:
            cmd.append("--terminate")
        for run_folder in args.reuse:
            cmd += ["--reuse", run_folder]
        for override in args.set:
            cmd += ["--set", override]
        return cmd

    def record(item: tuple[str, int], result: dict) -> None:
        nonlocal table
        method, seed = item
        result["overrides"] = args.set
        on_disk = load()  # another invocation may have added runs meanwhile
        on_disk.update({k: v for k, v in table.items() if k != "runs"})
        on_disk["runs"] = [r for r in on_disk["runs"]
                           if not (r["method"] == method and r["seed"] == seed)]
        on_disk["runs"].append(result)
        table = on_disk
        print(f"{LABELS[method]:<30} seed {seed}: test return {result['test_return']:.1f} "
              f"± {result['test_return_std']:.1f}", flush=True)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(table, indent=1) + "\n")
        (Path(args.results) / f"{args.tag}.txt").write_text(format_table(table))

    run_children(todo, args.jobs, command, record)
    finish()


if __name__ == "__main__":
    main()
