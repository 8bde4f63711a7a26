"""Plots of control runs: learning curves and, for 2-D observations, learned-cost maps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from irlgan.plots import _save  # noqa: E402

__all__ = ["plot_cost_map", "plot_learning_curve"]


def _floats(rows: Sequence[dict], key: str) -> np.ndarray:
    out = []
    for row in rows:
        try:
            out.append(float(row[key]))
        except (KeyError, TypeError, ValueError):
            out.append(math.nan)
    return np.asarray(out)


def plot_learning_curve(rows: Sequence[dict], path: str | Path, title: str = "") -> None:
    """Environment return of the generator's rollouts and the discriminator's accuracy against
    environment steps (rows of metrics.csv)."""
    steps = _floats(rows, "env_steps")
    returns = _floats(rows, "env_return")
    ended = np.isfinite(returns)  # rollouts in which at least one episode ended
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax1.plot(steps[ended], returns[ended])
    ax1.set_xlabel("environment steps")
    ax1.set_title("true return of training episodes", fontsize=10)
    ax2.plot(steps, _floats(rows, "disc_acc_data"), label="on demonstrations")
    ax2.plot(steps, _floats(rows, "disc_acc_gen"), label="on generated")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_xlabel("environment steps")
    ax2.set_title("discriminator accuracy", fontsize=10)
    ax2.legend()
    if title:
        fig.suptitle(title)
    _save(fig, path)


def plot_cost_map(trainer, path: str | Path, resolution: int = 61) -> None:
    """The learned per-step cost c(x, u = 0) over the observation box of a 2-D task, beside the
    true cost when the environment exposes `true_cost` (each centred: costs are identified only
    up to a constant)."""
    space = trainer.vec_env.observation_space
    low = np.maximum(space.low, -10.0)
    high = np.minimum(space.high, 10.0)
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)
    zeros = torch.zeros(grid.shape[0], trainer.vec_env.act_dim)
    device = trainer.device
    panels = {"learned cost": trainer.step_cost(grid.to(device), zeros.to(device)).cpu().numpy()}
    env = trainer.vec_env.envs[0].unwrapped
    if hasattr(env, "true_cost"):
        panels["true cost"] = env.true_cost(grid, zeros).numpy()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (name, values) in zip(axes[0], panels.items(), strict=True):
        image = ax.imshow((values - np.median(values)).reshape(resolution, resolution),
                          origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap="viridis")
        ax.set_title(name)
        fig.colorbar(image, ax=ax, fraction=0.046)
    _save(fig, path)
