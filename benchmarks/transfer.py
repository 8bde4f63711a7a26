"""Benchmark: reward transfer on AIRL's shifting point-mass maze, 3 seeds, one thread per run.

A reward is learned from demonstrations in `irlgan/PointMazeLeft-v0` (the wall's opening on the
left); then a fresh MaxEnt-PPO policy is trained on that reward alone in
`irlgan/PointMazeRight-v0` (the opening on the right), and its true return there is set beside
RL on the true reward in the same task, with the same trainer, settings and budget
(`irlgan.rl.train_expert`, the maze's expert preset, with ``reward_fn``). GAIL learns no reward
meant for transfer: its policy is moved to the new maze as it is ("policy transfer", as in the
AIRL paper).

For every learned reward the script also measures EPIC (`irlgan.epic.epic_sampled`) against the
true reward, with a stated coverage distribution: states uniform on the box [-1, 1]^2, actions
uniform on [-1, 1]^2, and transitions (s, a, s') with s, a drawn so and s' the test maze's move.
The true reward is -|s' - goal|; a reward of the state before the move, r(s), is
EPIC-equivalent to it when r = -|s - goal| (r(s') = r(s) / gamma + shaping with
Phi = r / gamma), so the learned g(s) of AIRL and -c(s) of GAN-GCL are compared as they are.

Normalised return on either maze: (R - R_random) / (R_expert - R_random), with R_expert the
return of that maze's expert (trained on the true reward by `irlgan expert`) and R_random that
of uniform actions, both on the 50 held-out reset seeds every policy is evaluated on.

Usage:
    python benchmarks/transfer.py                          # the whole table (about 1 h, 2 cores)
    python benchmarks/transfer.py --methods airl --seeds 0 --jobs 1
    python benchmarks/transfer.py --table-only             # text, JSON and plots from results
    python benchmarks/transfer.py --diagnose               # whose fault a failed transfer is
Writes benchmarks/results/transfer_maze.{json,txt} and docs/assets/transfer/*.png; results are
written as each run finishes, and a run already in the JSON is skipped (``--redo`` runs it
again).
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
TRAIN_ENV = "irlgan/PointMazeLeft-v0"
TEST_ENV = "irlgan/PointMazeRight-v0"
METHODS = {  # name: (algorithm, overrides)
    "airl": ("airl", {"state_only": "true"}),
    "airl-sa": ("airl", {"state_only": "false"}),
    "gan-gcl": ("gan-gcl", {"state_only": "true"}),
    "gan-gcl-sa": ("gan-gcl", {"state_only": "false"}),
    "gail": ("gail", {"state_only": "false"}),
}
LABELS = {"airl": "AIRL state-only", "airl-sa": "AIRL state-action",
          "gan-gcl": "GAN-GCL state-only", "gan-gcl-sa": "GAN-GCL state-action",
          "gail": "GAIL (policy transfer)", "rl-true": "RL on the true reward"}
# Fu, Luo and Levine (ICLR 2018), table 1: true return in the shifted maze (their scale).
PAPER = {"gan-gcl-sa": -40.2, "gan-gcl": -41.8, "airl-sa": -31.2, "airl": -8.82,
         "gail": -29.9, "rl-true": -8.45}
EPIC_N_MEAN, EPIC_N_COVERAGE, EPIC_SEED = 512, 4096, 0
MAZE_GOAL_TEXT = "(+0.00, +0.70)"


# ----------------------------------------------------------------------------------------------
# One run (in its own process)
# ----------------------------------------------------------------------------------------------


def maze_transitions(states, actions, opening: str = "right"):
    """s' of the maze's move for batches of states and actions (numpy [N, 2] each)."""
    import numpy as np

    from irlgan.envs import PointMazeEnv

    env = PointMazeEnv(opening=opening)
    out = np.empty_like(states, dtype=np.float64)
    for i, (s, a) in enumerate(zip(states, actions, strict=True)):
        env.state = np.asarray(s, dtype=np.float64)
        out[i] = env.step(a)[0]
    return out


def true_reward(obs, act, next_obs):
    """The maze's reward -|s' - goal| on batched tensors."""
    import torch

    from irlgan.envs import MAZE_GOAL

    return -(next_obs - torch.tensor(MAZE_GOAL, dtype=next_obs.dtype)).norm(dim=-1)


def epic_to_truth(reward, discount: float) -> float:
    """EPIC between `reward(obs, act, next_obs)` and the true reward, coverage as documented."""
    import torch

    from irlgan.epic import epic_sampled

    def states(n, g):
        return torch.rand(n, 2, generator=g, dtype=torch.float64) * 2 - 1

    def coverage(n, g):
        s, a = states(n, g), states(n, g)
        s_next = torch.as_tensor(maze_transitions(s.numpy(), a.numpy()))
        return s, a, s_next

    return epic_sampled(reward, true_reward, discount, sample_states=states,
                        sample_actions=states, sample_coverage=coverage, n_mean=EPIC_N_MEAN,
                        n_coverage=EPIC_N_COVERAGE, seed=EPIC_SEED)


def reward_map(model, n: int = 41) -> list[list[float]]:
    """The learned reward -step_cost(x, 0) on an n x n grid of the box (rows: y, columns: x)."""
    import torch

    axis = torch.linspace(-1, 1, n)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    obs = torch.stack([xs, ys], -1).reshape(-1, 2)
    values = -model.step_cost(obs, torch.zeros_like(obs))
    return values.reshape(n, n).tolist()


def run_single(args: argparse.Namespace) -> None:
    """One method and seed: learn on the training maze, transfer to the test maze; one JSON line."""
    import dataclasses

    import torch

    torch.set_num_threads(1)
    import irlgan
    from irlgan.control import train_run
    from irlgan.control.commands import build_config, load_demos
    from irlgan.rl import (
        EVAL_SEED_BASE,
        default_expert_config,
        evaluate_policy,
        normalized_return,
        train_expert,
    )

    method, seed = args.methods[0], args.seeds[0]
    test_info = json.loads((Path(args.test_expert) / "expert.json").read_text())
    result: dict = {"method": method, "seed": seed, "load_avg_1min_before": os.getloadavg()[0]}
    if method == "rl-true":
        config = default_expert_config(TEST_ENV)
        trained = train_expert(TEST_ENV, args.transfer_steps, seed + 100, config)
        policy, seconds = trained.policy, trained.wall_s
    else:
        algo, overrides = METHODS[method]
        demos, expert, rand = load_demos(args.demos, TRAIN_ENV)
        overrides = {**overrides, **dict(s.split("=", 1) for s in args.set)}
        config = build_config(algo, TRAIN_ENV, args.steps or None, seed, overrides)
        out = Path(args.runs) / f"{method}-s{seed}"
        if out.exists():
            import shutil

            shutil.rmtree(out)
        summary = train_run(config, demos, out, demos_dir=args.demos, expert_return=expert,
                            random_return=rand, reference_seeds=demos.reference_seeds,
                            progress=False)
        result.update({
            "algorithm": algo, "config": dataclasses.asdict(config.algo),
            "train_normalized_return": summary["normalized_return"],
            "train_return": summary["return_mean"], "train_env_steps": summary["env_steps"],
            "train_wall_s": summary["wall_s"], "run_dir": str(out)})
        model = irlgan.load(out / "model.pt")
        if method == "gail":
            policy, seconds = model.policy, 0.0
        else:
            config_rl = default_expert_config(TEST_ENV)
            trained = fresh_policy(model, seed + 100, args.transfer_steps, config_rl)
            policy, seconds = trained.policy, trained.wall_s
            gamma = config_rl.ppo.gamma

            def learned(obs, act, next_obs, model=model):
                return -model.step_cost(obs.float(), act.float()).double()

            result["epic"] = epic_to_truth(learned, gamma)
            result["reward_map"] = reward_map(model)
    returns = evaluate_policy(policy, TEST_ENV, 50, EVAL_SEED_BASE)
    result.update({
        "test_return": float(returns.mean()), "test_return_std": float(returns.std()),
        "test_normalized_return": float(normalized_return(
            float(returns.mean()), test_info["expert_return"], test_info["random_return"])),
        "transfer_wall_s": seconds, "transfer_env_steps": args.transfer_steps,
        "load_avg_1min_after": os.getloadavg()[0]})
    print("RESULT " + json.dumps(result), flush=True)


def fresh_policy(model, seed: int, transfer_steps: int, config):
    """A MaxEnt-PPO policy trained in the test maze on the learned reward alone,
    -``model.step_cost``, from PPO seed `seed` (the run's own fresh policy: ``run seed + 100``);
    also how `diagnose` trains it again."""
    from irlgan.rl import train_expert

    def reward_fn(rollout):
        return -model.step_cost(rollout.obs, rollout.actions)

    return train_expert(TEST_ENV, transfer_steps, seed, config, reward_fn=reward_fn)


def learned_reward_on(model, policy, episodes: int = 10, seed_base: int = 2_000_000
                      ) -> tuple[float, list[float]]:
    """The mean learned reward a step, -``model.step_cost``, along `policy`'s mode in the test
    maze (100-step episodes, reset seeds apart from the evaluation's), and the mean position
    where its episodes end. Beside the same for RL on the true reward's policy it says whether
    a failed transfer is the reward's fault (it prefers what the fresh policy does) or the
    optimiser's (it prefers the way to the goal, and the fresh policy did not find it)."""
    import gymnasium

    import irlgan.envs  # noqa: F401

    env = gymnasium.make(TEST_ENV)
    value, ends = learned_reward_along(model, policy, env, episodes, seed_base)
    env.close()
    return value, [sum(e[k] for e in ends) / len(ends) for k in range(2)]


def select_by_learned_reward(candidates: list[dict]) -> dict:
    """Of fresh policies trained on one learned reward from different seeds, the one whose mode
    earns the most learned reward a step (``learned_reward``): the choice needs nothing but
    the learned reward, so it is open to a user who has no true reward."""
    return max(candidates, key=lambda c: c["learned_reward"])


def diagnose(table: dict, transfer_steps: int, methods: list[str] | None = None,
             restarts: int = 1) -> None:
    """Adds ``learned_reward_own``, ``learned_reward_rl``, ``end_own`` and ``end_rl``
    (`learned_reward_on`) to every learned-reward row whose model is on disk. The fresh policy
    is trained again as the run trained it (same seed, budget and reward) and RL on the true
    reward's policy of the same seed likewise; the fresh policy's return over the 50 held-out
    episodes is kept as ``retrained_test_return``: on the machine that made the run it equals
    ``test_return``, and where it does not (another CPU) the diagnosis describes another
    policy, which the table says.

    With ``restarts`` > 1 the fresh policy is also trained from seeds ``seed + 200``, ``seed +
    300``, ...; every candidate's learned reward a step and held-out return go into
    ``restarts``, and ``restart_return`` is the return of the one that
    `select_by_learned_reward` picks."""
    import torch

    import irlgan
    from irlgan.rl import EVAL_SEED_BASE, default_expert_config, evaluate_policy, train_expert

    torch.set_num_threads(1)
    config = default_expert_config(TEST_ENV)
    rl_policies: dict[int, object] = {}
    for r in table["runs"]:
        if r["method"] in ("gail", "rl-true") or (methods and r["method"] not in methods):
            continue
        if "learned_reward_rl" in r and (restarts == 1 or len(r.get("restarts", [])) == restarts):
            continue
        model_path = Path(r.get("run_dir", "")) / "model.pt"
        if not model_path.is_file() or r.get("transfer_env_steps") != transfer_steps:
            print(f"{LABELS[r['method']]} seed {r['seed']}: not diagnosed (no model at "
                  f"{model_path}, or another transfer budget)", flush=True)
            continue
        model = irlgan.load(model_path)
        seed = r["seed"]
        if "learned_reward_rl" not in r:  # a row diagnosed before keeps its first policy's numbers
            own = fresh_policy(model, seed + 100, transfer_steps, config).policy
            if seed not in rl_policies:
                rl_policies[seed] = train_expert(TEST_ENV, transfer_steps, seed + 100,
                                                 config).policy
            r["retrained_test_return"] = float(evaluate_policy(own, TEST_ENV, 50,
                                                               EVAL_SEED_BASE).mean())
            r["learned_reward_own"], r["end_own"] = learned_reward_on(model, own)
            r["learned_reward_rl"], r["end_rl"] = learned_reward_on(model, rl_policies[seed])
        if restarts > 1:
            candidates = [{"seed": seed + 100, "learned_reward": r["learned_reward_own"],
                           "test_return": r["retrained_test_return"], "end": r["end_own"]}]
            for k in range(2, restarts + 1):
                other = fresh_policy(model, seed + 100 * k, transfer_steps, config).policy
                value, end = learned_reward_on(model, other)
                candidates.append({"seed": seed + 100 * k, "learned_reward": value, "end": end,
                                   "test_return": float(evaluate_policy(
                                       other, TEST_ENV, 50, EVAL_SEED_BASE).mean())})
            r["restarts"] = candidates
            r["restart_return"] = select_by_learned_reward(candidates)["test_return"]
        print(f"{LABELS[r['method']]} seed {seed}: learned reward a step on its fresh policy "
              f"{r['learned_reward_own']:.3f} (ends at ({r['end_own'][0]:+.2f}, "
              f"{r['end_own'][1]:+.2f})), on RL's {r['learned_reward_rl']:.3f}", flush=True)


def diagnosis_lines(runs: list[dict]) -> list[str]:
    """The table's lines for the rows that `diagnose` reached (none: no lines)."""
    probed = [r for r in runs if "learned_reward_rl" in r]
    if not probed:
        return []
    lines = ["", "The learned reward a step (10 episodes, mode actions) along the fresh policy",
             "trained on it and along RL on the true reward's policy (same seed), and where the",
             "fresh policy's episodes end (mean position):"]
    for r in probed:
        verdict = ("prefers its own policy: the reward" if
                   r["learned_reward_own"] >= r["learned_reward_rl"] else
                   "prefers RL's policy: the optimiser")
        if abs(r["retrained_test_return"] - r["test_return"]) > 1e-6:
            verdict += f"; retrained policy scores {r['retrained_test_return']:.2f}, not the row's"
        end = "({:+.2f}, {:+.2f})".format(*r["end_own"])
        lines.append(f"{LABELS[r['method']]:<24}{r['seed']:>5}  own {r['learned_reward_own']:7.3f}"
                     f"  RL's {r['learned_reward_rl']:7.3f}  ends {end}  ({verdict})")
    restarted = [r for r in probed if "restarts" in r]
    if restarted:
        lines += ["", "Fresh policies from several seeds on the same learned reward: learned",
                  "reward a step / test return of each, and the return of the one with the most",
                  "learned reward (chosen without the true reward):"]
        for r in restarted:
            each = "  ".join(f"{c['learned_reward']:.3f} / {c['test_return']:.2f}"
                             for c in r["restarts"])
            lines.append(f"{LABELS[r['method']]:<24}{r['seed']:>5}  {each}  -> "
                         f"{r['restart_return']:.2f}")
    return lines


# ----------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def map_peak(reward_map: list[list[float]]) -> tuple[float, float]:
    """(x, y) of the largest value of a `reward_map` grid."""
    n = len(reward_map)
    flat = [(v, i, j) for i, row in enumerate(reward_map) for j, v in enumerate(row)]
    _, i, j = max(flat)
    return -1 + 2 * j / (n - 1), -1 + 2 * i / (n - 1)


def format_table(table: dict) -> str:
    """Seed-by-seed rows, then means, with the paper's numbers beside them."""
    info = table["experts"]
    tr, te = info[TRAIN_ENV], info[TEST_ENV]
    lines = [
        "Shifting maze: learn on PointMazeLeft (opening left), then a fresh policy on the learned",
        "reward alone in PointMazeRight (opening right); 50 held-out episodes each.",
        f"Training maze: R_expert {tr['expert_return']:.2f}, R_random {tr['random_return']:.2f};"
        f" test maze: R_expert {te['expert_return']:.2f}, R_random {te['random_return']:.2f}.",
        f"EPIC to the true reward: D_S = D_A = uniform on [-1, 1]^2, s' by the test maze; "
        f"{EPIC_N_MEAN} samples per mean, {EPIC_N_COVERAGE} coverage transitions.",
        f"peak at: where the learned reward (at u = 0, on a 41 x 41 grid of the box) is largest;"
        f" the goal is {MAZE_GOAL_TEXT}. alpha: the adversarial run's entropy weight.",
        "",
        f"{'method':<24}{'seed':>5}{'alpha':>6}{'train norm':>12}{'test return':>13}"
        f"{'test norm':>11}{'EPIC':>8}{'peak at':>16}{'train s':>9}{'transfer s':>12}"]
    order = list(LABELS)
    runs = sorted(table["runs"], key=lambda r: (order.index(r["method"]), r["seed"]))
    for r in runs:
        train = r.get("train_normalized_return")
        epic = r.get("epic")
        alpha = f"{r['config']['entropy_weight']:g}" if "config" in r else ""
        peak = ("({:+.2f}, {:+.2f})".format(*map_peak(r["reward_map"]))
                if "reward_map" in r else "")
        lines.append(
            f"{LABELS[r['method']]:<24}{r['seed']:>5}{alpha:>6}"
            f"{'' if train is None else f'{train:.3f}':>12}{r['test_return']:>13.2f}"
            f"{r['test_normalized_return']:>11.3f}{'' if epic is None else f'{epic:.3f}':>8}"
            f"{peak:>16}{r.get('train_wall_s', 0):>9.0f}{r['transfer_wall_s']:>12.0f}")
    lines += diagnosis_lines(runs)
    lines += ["", "Means over seeds (the paper's return in its own maze, its scale, beside):"]
    groups: dict[tuple[str, float | None], list[dict]] = {}
    for r in runs:
        alpha = r["config"]["entropy_weight"] if "config" in r else None
        groups.setdefault((r["method"], alpha), []).append(r)
    for (method, alpha), rs in groups.items():
        ret = _mean([r["test_return"] for r in rs])
        norm = _mean([r["test_normalized_return"] for r in rs])
        epic = [r["epic"] for r in rs if "epic" in r]
        label = LABELS[method] + ("" if alpha is None else f", alpha {alpha:g}")
        lines.append(f"{label:<36} test return {ret:8.2f}  normalised {norm:6.3f}  "
                     + (f"EPIC {_mean(epic):.3f}  " if epic else "")
                     + f"({len(rs)} seeds; paper {PAPER[method]})")
    return "\n".join(lines) + "\n"


def plot(table: dict, folder: Path) -> None:
    """maze_transfer.png (returns beside the paper's) and maze_rewards.png (reward maps)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from irlgan.envs import MAZE_GOAL

    folder.mkdir(parents=True, exist_ok=True)
    order = [m for m in LABELS if any(r["method"] == m for r in table["runs"])]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ax = axes[0]
    for i, method in enumerate(order):
        values = [r["test_return"] for r in table["runs"] if r["method"] == method]
        ax.bar(i, np.mean(values), color="C0" if method != "rl-true" else "k", alpha=0.6)
        ax.scatter([i] * len(values), values, color="k", s=10, zorder=3)
    te = table["experts"][TEST_ENV]
    ax.axhline(te["random_return"], color="grey", ls=":", lw=1, label="uniform actions")
    ax.axhline(te["expert_return"], color="k", ls="--", lw=1, label="the test maze's expert")
    ax.set_xticks(range(len(order)), [LABELS[m] for m in order], rotation=30, ha="right",
                  fontsize=8)
    ax.set_ylabel("true return in the test maze")
    ax.set_title("irlgan (bars: mean, dots: seeds)")
    ax.legend(fontsize=7)
    ax = axes[1]
    paper = [m for m in LABELS if m in PAPER]
    ax.bar(range(len(paper)), [PAPER[m] for m in paper],
           color=["k" if m == "rl-true" else "C1" for m in paper], alpha=0.6)
    ax.set_xticks(range(len(paper)), [LABELS[m] for m in paper], rotation=30, ha="right",
                  fontsize=8)
    ax.set_title("Fu et al. 2018, table 1 (their maze and scale)")
    fig.savefig(folder / "maze_transfer.png", dpi=110, bbox_inches="tight")
    plt.close(fig)

    maps = [(LABELS[r["method"]] + f", seed {r['seed']}", np.array(r["reward_map"]))
            for r in sorted(table["runs"], key=lambda r: (list(LABELS).index(r["method"]),
                                                          r["seed"]))
            if "reward_map" in r and r["seed"] == 0]
    n = 41
    axis = np.linspace(-1, 1, n)
    xs, ys = np.meshgrid(axis, axis)
    truth = -np.hypot(xs - MAZE_GOAL[0], ys - MAZE_GOAL[1])
    panels = [("true reward -|x - goal|", truth)] + maps
    fig, axes = plt.subplots(1, len(panels), figsize=(3.1 * len(panels), 3.0), squeeze=False)
    for ax, (title, values) in zip(axes[0], panels, strict=True):
        ax.imshow(values, origin="lower", extent=(-1, 1, -1, 1), cmap="viridis")
        ax.plot([-0.5, 1], [0, 0], color="w", lw=2)  # the training maze's wall
        ax.plot([-1, 0.5], [0, 0], color="r", lw=1, ls="--")  # the test maze's wall
        ax.plot(*MAZE_GOAL, marker="*", color="r", ms=9)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("learned reward at u = 0 (white: training wall, red dashes: test wall)",
                 fontsize=9)
    fig.savefig(folder / "maze_rewards.png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS) + ["rl-true"],
                        choices=list(METHODS) + ["rl-true"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=None,
                        help="override the adversarial runs' environment steps")
    parser.add_argument("--transfer-steps", type=int, default=200_000,
                        help="environment steps of every policy trained in the test maze")
    parser.add_argument("--set", action="append", default=[],
                        help="KEY=VALUE override of the adversarial runs (as `irlgan train`)")
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side")
    parser.add_argument("--redo", action="store_true", help="run again what the JSON holds")
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--diagnose", action="store_true",
                        help="add the learned reward along each fresh policy and RL's (retrains "
                             "both, about 40 s a row), then the table")
    parser.add_argument("--restarts", type=int, default=1,
                        help="with --diagnose: fresh policies from this many seeds per reward")
    parser.add_argument("--tag", default="transfer_maze",
                        help="results file stem (plots only for the default)")
    parser.add_argument("--experts", default=str(ROOT / "runs" / "experts"))
    parser.add_argument("--runs", default=str(ROOT / "runs" / "transfer-maze"))
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--demos", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--test-expert", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        run_single(args)
        return
    results_path = Path(args.results) / f"{args.tag}.json"
    table = json.loads(results_path.read_text()) if results_path.is_file() else {"runs": []}

    def finish() -> None:
        if "experts" not in table:
            raise SystemExit(f"{results_path} holds no runs yet: run the benchmark first")
        (Path(args.results) / f"{args.tag}.txt").write_text(format_table(table))
        print(format_table(table))
        if args.tag == "transfer_maze":
            plot(table, ROOT / "docs" / "assets" / "transfer")

    if args.diagnose and "experts" in table:
        diagnose(table, args.transfer_steps, args.methods, args.restarts)
        results_path.write_text(json.dumps(table, indent=1) + "\n")
    if args.table_only or args.diagnose:
        finish()
        return
    folders = {env: ensure_expert(env, Path(args.experts)) for env in (TRAIN_ENV, TEST_ENV)}
    table["experts"] = {}
    for env, folder in folders.items():
        info = json.loads((folder / "expert.json").read_text())
        table["experts"][env] = {k: info.get(k) for k in (
            "expert_return", "random_return", "env_steps", "train_wall_s", "demo_episodes",
            "demo_normalized_return")}
    todo = [(m, s) for m in args.methods for s in args.seeds
            if args.redo or not any(r["method"] == m and r["seed"] == s for r in table["runs"])]
    print(f"{len(todo)} runs to do ({len(table['runs'])} already in {results_path.name})",
          flush=True)

    def command(item: tuple[str, int]) -> list[str]:
        method, seed = item
        cmd = [sys.executable, str(Path(__file__).resolve()), "--single", "--methods",
               method, "--seeds", str(seed), "--demos", str(folders[TRAIN_ENV]),
               "--test-expert", str(folders[TEST_ENV]), "--runs", args.runs,
               "--transfer-steps", str(args.transfer_steps)]
        if args.steps:
            cmd += ["--steps", str(args.steps)]
        for override in args.set:
            cmd += ["--set", override]
        return cmd

    def record(item: tuple[str, int], result: dict) -> None:
        method, seed = item
        result["overrides"] = args.set
        table["runs"] = [r for r in table["runs"]
                         if not (r["method"] == method and r["seed"] == seed)]
        table["runs"].append(result)
        print(f"{LABELS[method]:<24} seed {seed}: test return {result['test_return']:.2f} "
              f"(normalised {result['test_normalized_return']:.3f}), train "
              f"{result.get('train_normalized_return', float('nan')):.3f}, EPIC "
              f"{result.get('epic', float('nan')):.3f}", flush=True)
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(table, indent=1) + "\n")

    run_children(todo, args.jobs, command, record)
    finish()


if __name__ == "__main__":
    main()
