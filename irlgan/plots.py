"""Plots of runs (matplotlib, written to PNG files without a display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def _save(fig, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)


def plot_cost_maps(env, costs: dict[str, torch.Tensor], path: str | Path) -> None:
    """Cost of staying in each cell, one panel per cost table, centred (costs are identified
    only up to a constant), walls blank."""
    rows, cols = len(env.layout), len(env.layout[0])
    fig, axes = plt.subplots(1, len(costs), figsize=(3.2 * len(costs), 3.2), squeeze=False)
    for ax, (name, cost) in zip(axes[0], costs.items(), strict=True):
        grid = np.full((rows, cols), np.nan)
        stay = cost[:, 0].detach().cpu().numpy()
        stay = stay - np.median(stay)
        for state, (r, c) in enumerate(env.cells):
            grid[r, c] = stay[state]
        image = ax.imshow(grid, cmap="viridis")
        for r in range(rows):
            for c in range(cols):
                if env.layout[r][c] in "GHS":
                    ax.text(c, r, env.layout[r][c], ha="center", va="center", color="white")
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle("cost of staying in each cell (median subtracted)")
    _save(fig, path)


def plot_learning_curves(runs: dict, optimum: float, path: str | Path) -> None:
    """Gap to the exact MaxEnt IRL optimum and the generator's KL against iterations."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, run in runs.items():
        it = [r["iteration"] for r in run.history]
        ax1.plot(it, [max(optimum - r["log_likelihood"], 1e-4) for r in run.history], label=name)
        ax2.plot(it, [max(r["kl"], 1e-5) for r in run.history], label=name)
    for ax, title in ((ax1, "log-likelihood gap to exact optimum (nats)"),
                      (ax2, "KL(generator || soft-optimal policy of cost)")):
        ax.set_yscale("log")
        ax.axhline(0.05, color="grey", ls="--", lw=1, label="0.05 target")
        ax.set_xlabel("iteration")
        ax.set_title(title, fontsize=10)
        ax.legend()
    _save(fig, path)


def plot_log_z(runs: dict, path: str | Path) -> None:
    """Learned log Z against the exact log-partition of the learned cost."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, run in runs.items():
        it = [r["iteration"] for r in run.history]
        line, = ax.plot(it, [r["log_z_learned"] for r in run.history], label=f"{name} learned")
        ax.plot(it, [r["log_z_exact"] for r in run.history], ls="--", color=line.get_color(),
                label=f"{name} exact")
    ax.set_xlabel("iteration")
    ax.set_ylabel("log Z")
    ax.legend(fontsize=8)
    _save(fig, path)
