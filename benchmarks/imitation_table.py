"""The imitation table: every algorithm at its preset on the MuJoCo tasks and Pendulum, seed by
seed, beside the AIRL paper's numbers, from the result files `benchmarks/control.py` wrote.

Nothing is trained here. `SOURCES` names, for each (task, algorithm), the result file whose
runs were made at the preset of `irlgan/presets/control.toml` (the docs' MuJoCo and control pages
give the command behind each); a pair without one is reported as not measured. Each run brings
its normalised return (1 = the task's expert, 0 = uniform random actions, 50 held-out
episodes), environment steps, wall time and training steps per second beside the bare
environment's, measured in the same process.

The paper's column is Fu, Luo and Levine (ICLR 2018), table 2 (5 runs each, TRPO generators,
their own experts on the v1 tasks), normalised here from its returns with its expert and random
rows, exactly as the issue quotes them. Its tasks, experts and budgets are not irlgan's, so the
two are set side by side, not compared.

Usage:
    python benchmarks/imitation_table.py
Writes benchmarks/results/imitation_table.{json,txt,md} and docs/assets/control/imitation_table.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TASKS = ("HalfCheetah-v5", "Swimmer-v5", "Hopper-v5", "Ant-v5", "Pendulum-v1")
ALGOS = ("airl", "gan-gcl", "gail", "gcl")
LABELS = {"airl": "AIRL", "gan-gcl": "GAN-GCL", "gail": "GAIL", "gcl": "GCL"}
SOURCES = {  # (task, algorithm): the result file (tag) of the runs at the preset
    ("HalfCheetah-v5", "airl"): "control_mujoco_lr3e2_2m",
    ("HalfCheetah-v5", "gan-gcl"): "control_mujoco_gangcl_seg20",
    ("HalfCheetah-v5", "gail"): "control_mujoco_gail_preset",
    ("HalfCheetah-v5", "gcl"): "control_mujoco_gcl_seg20",
    ("Swimmer-v5", "airl"): "control_mujoco_lr3e3",
    ("Swimmer-v5", "gan-gcl"): "control_mujoco_gangcl_seg20",
    ("Swimmer-v5", "gail"): "control_mujoco_gail_preset",
    ("Swimmer-v5", "gcl"): "control_mujoco_gcl_swimmer_lr3e3",
    ("Hopper-v5", "airl"): "control_mujoco_hopper_absorbing",
    ("Hopper-v5", "gan-gcl"): "control_mujoco_hopper_gangcl_noterm",
    ("Hopper-v5", "gail"): "control_mujoco_gail_preset",
    ("Hopper-v5", "gcl"): "control_mujoco_hopper_gangcl_noterm",
    ("Ant-v5", "airl"): "control_mujoco_ant_noterm_lr3e3_3m",
    ("Ant-v5", "gan-gcl"): "control_mujoco_ant_gangcl_3m",
    ("Ant-v5", "gail"): "control_mujoco_gail_preset",
    ("Ant-v5", "gcl"): "control_mujoco_gcl_ant",
    ("Pendulum-v1", "airl"): "control_pendulum",
    ("Pendulum-v1", "gan-gcl"): "control_pendulum",
    ("Pendulum-v1", "gail"): "control_pendulum",
    ("Pendulum-v1", "gcl"): "control_pendulum",
}
# Fu, Luo and Levine (ICLR 2018), table 2: returns of the expert, of random actions and of each
# method (v1 tasks; the paper has no Hopper or Pendulum row).
PAPER_RETURNS = {
    "HalfCheetah-v5": {"expert": 1811.2, "random": -988.4, "gan-gcl": -670.7, "gail": 1642.8,
                       "airl": 1839.8},
    "Ant-v5": {"expert": 1537.9, "random": -108.1, "gan-gcl": 460.6, "gail": 1358.7,
               "airl": 1238.6},
    "Swimmer-v5": {"expert": 141.1, "random": -11.5, "gan-gcl": -10.6, "gail": 140.2,
                   "airl": 139.1},
}


def paper_normalized(task: str, algo: str) -> float | None:
    """The paper's normalised return of `algo` on `task` (None where it has none)."""
    row = PAPER_RETURNS.get(task)
    if row is None or algo not in row:
        return None
    return (row[algo] - row["random"]) / (row["expert"] - row["random"])


def mean_interval(values: list[float]) -> tuple[float, float | None]:
    """The mean and the half-width of its 95% Student-t interval (None below two values),
    from `irlgan.sweep.t_interval`."""
    from irlgan.sweep import t_interval

    mean, low, high = t_interval(values)
    return mean, (None if len(values) < 2 else (high - low) / 2)


def collect(results: Path = RESULTS, sources: dict = SOURCES) -> dict:
    """The table: one entry per (task, algorithm) with its runs (seed order) or None."""
    cells = []
    cache: dict[str, dict] = {}
    for task in TASKS:
        for algo in ALGOS:
            tag = sources.get((task, algo))
            runs = []
            if tag is not None:
                if tag not in cache:
                    path = results / f"{tag}.json"
                    cache[tag] = json.loads(path.read_text()) if path.is_file() else {"runs": []}
                runs = sorted((r for r in cache[tag]["runs"]
                               if r["env_id"] == task and r["algorithm"] == algo),
                              key=lambda r: r["seed"])
            cell = {"task": task, "algorithm": algo, "source": tag if runs else None,
                    "paper": paper_normalized(task, algo), "runs": [
                        {"seed": r["seed"], "normalized_return": r["normalized_return"],
                         "return_mean": r["return_mean"], "return_std": r["return_std"],
                         "env_steps": r["env_steps"], "wall_s": r["wall_s"],
                         "env_steps_per_s": r["env_steps_per_s"],
                         "raw_env_steps_per_s": r.get("raw_env_steps_per_s"),
                         "load_avg_1min_before": r.get("load_avg_1min_before")}
                        for r in runs]}
            if runs:
                mean, half = mean_interval([r["normalized_return"] for r in runs])
                cell.update({"mean": mean, "interval95": half})
                cell["expert_return"] = cache[tag]["experts"][task]["expert_return"]
                cell["random_return"] = cache[tag]["experts"][task]["random_return"]
            cells.append(cell)
    return {"cells": cells}


def format_text(table: dict) -> str:
    """Seed by seed, then the means beside the paper's."""
    lines = ["Imitation table (normalised return: the task's expert = 1, uniform random = 0; 50 "
             "held-out episodes; at the presets)", ""]
    for c in table["cells"]:
        name = f"{c['task']:<15} {LABELS[c['algorithm']]:<8}"
        if not c["runs"]:
            lines.append(f"{name} not measured at the preset")
            continue
        for r in c["runs"]:
            raw = r["raw_env_steps_per_s"]
            lines.append(
                f"{name} seed {r['seed']}  norm {r['normalized_return']:7.3f}  return "
                f"{r['return_mean']:9.1f} ± {r['return_std']:6.1f}  steps {r['env_steps']:>8}  "
                f"wall {r['wall_s']:7.1f} s  {r['env_steps_per_s']:6.0f} steps/s"
                + (f" of raw {raw:.0f}" if raw else "") + f"  ({c['source']})")
    lines += ["", f"{'task':<15} " + "  ".join(f"{LABELS[a]:>22}" for a in ALGOS)]
    for task in TASKS:
        cells = {c["algorithm"]: c for c in table["cells"] if c["task"] == task}
        parts = []
        for a in ALGOS:
            c = cells[a]
            text = "—" if not c["runs"] else _mean_text(c)
            if c["paper"] is not None:
                text += f" [{c['paper']:.2f}]"
            parts.append(f"{text:>22}")
        lines.append(f"{task:<15} " + "  ".join(parts))
    lines += ["", "mean ± 95% half-width over the seeds (n); [the AIRL paper's normalised "
              "return, its own v1 tasks and experts]"]
    return "\n".join(lines) + "\n"


def _mean_text(c: dict) -> str:
    n = len(c["runs"])
    if c["interval95"] is None:
        return f"{c['mean']:.3f} (n={n})"
    return f"{c['mean']:.3f} ± {c['interval95']:.3f} (n={n})"


def format_markdown(table: dict) -> str:
    """The means table and the seed-by-seed table, as markdown."""
    head = "| task | " + " | ".join(LABELS[a] for a in ALGOS) + " |"
    out = [head, "| --- |" + " --- |" * len(ALGOS)]
    for task in TASKS:
        cells = {c["algorithm"]: c for c in table["cells"] if c["task"] == task}
        row = []
        for a in ALGOS:
            c = cells[a]
            text = "not measured" if not c["runs"] else " / ".join(
                f"{r['normalized_return']:.3f}" for r in c["runs"]) + f" (**{c['mean']:.3f}**)"
            if c["paper"] is not None:
                text += f"; paper {c['paper']:.2f}"
            row.append(text)
        out.append(f"| {task} | " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"


def plot(table: dict, path: Path) -> None:
    """Bars: the mean normalised return of each algorithm on each task, dots: its seeds,
    diamonds: the paper's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colors = {"airl": "C0", "gan-gcl": "C1", "gail": "C3", "gcl": "C2"}
    width = 0.2
    fig, ax = plt.subplots(figsize=(8, 4.2))
    lowest = 0.0
    for i, task in enumerate(TASKS):
        cells = {c["algorithm"]: c for c in table["cells"] if c["task"] == task}
        for j, a in enumerate(ALGOS):
            x = i + (j - 1.5) * width
            c = cells[a]
            if c["runs"]:
                values = [r["normalized_return"] for r in c["runs"]]
                ax.bar(x, c["mean"], width * 0.9, color=colors[a], alpha=0.75)
                ax.scatter([x] * len(values), values, s=9, color="k", zorder=3)
                lowest = min(lowest, *values)
            else:
                ax.text(x, 0.02, "not run", rotation=90, fontsize=6, ha="center", va="bottom",
                        color=colors[a])
            if c["paper"] is not None:
                ax.scatter([x], [c["paper"]], marker="D", s=22, facecolor="white",
                           edgecolor=colors[a], zorder=4)
                lowest = min(lowest, c["paper"])
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    ax.axhline(0.0, color="grey", ls=":", lw=0.8)
    ax.set_ylim(lowest - 0.08, None)
    ax.set_xticks(range(len(TASKS)), TASKS, fontsize=8)
    ax.set_ylabel("normalised return (expert 1, random 0)")
    ax.set_title("Imitation at the presets: bars = mean, dots = seeds", fontsize=9)
    handles = [Patch(color=colors[a], alpha=0.75, label=LABELS[a]) for a in ALGOS]
    handles.append(Line2D([], [], marker="D", ls="", markerfacecolor="white",
                          markeredgecolor="k", label="the AIRL paper (its v1 tasks and experts)"))
    fig.legend(handles=handles, fontsize=7, ncol=5, loc="lower center")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--figure", default=str(ROOT / "docs" / "assets" / "control" /
                                                "imitation_table.png"))
    args = parser.parse_args(argv)
    results = Path(args.results)
    table = collect(results)
    (results / "imitation_table.json").write_text(json.dumps(table, indent=2) + "\n")
    text = format_text(table)
    (results / "imitation_table.txt").write_text(text)
    (results / "imitation_table.md").write_text(format_markdown(table))
    plot(table, Path(args.figure))
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
