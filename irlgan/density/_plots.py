"""Plots of a density run: the model density, the flow density, samples and training curves."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from irlgan.density._datasets import sample_data  # noqa: E402
from irlgan.density._evaluate import grid  # noqa: E402
from irlgan.devices import generator_on  # noqa: E402

if TYPE_CHECKING:
    from irlgan.density._train import DensityTrainer

__all__ = ["plot_run"]


def _save(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)


@torch.no_grad()
def _image(fn: Any, box: float, resolution: int = 200, device: Any = None) -> Any:
    points, _ = grid(box, resolution, device=device)
    values = torch.cat([fn(points[i : i + 20000]) for i in range(0, len(points), 20000)])
    # grid() is row-major in (x0, x1); imshow wants rows = x1.
    return values.reshape(resolution, resolution).T.cpu()


def _density_image(log_density: Any, box: float, resolution: int = 200,
                   device: Any = None) -> Any:
    return _image(log_density, box, resolution, device).exp().numpy()


def plot_run(trainer: DensityTrainer, run_dir: str | Path, summary: dict[str, Any]) -> None:
    """Writes plots/samples.png and plots/curves.png, and in 2-D plots/energy.png and
    plots/flow_density.png. Above 2-D the samples are shown in their first two coordinates
    (one 2-D block of a product dataset), and no density image is drawn."""
    run_dir = Path(run_dir)
    if trainer.dim == 2:
        _plot_densities(trainer, run_dir, summary)
    _plot_samples(trainer, run_dir, summary)
    _plot_curves(run_dir, summary)


def _plot_densities(trainer: DensityTrainer, run_dir: Path, summary: dict[str, Any]) -> None:
    cfg = trainer.config
    box = cfg.eval_box
    extent = (-box, box, -box, box)
    log_z = summary["log_z_quadrature"]

    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    device = trainer.device
    axes[0].imshow(_density_image(lambda x: -trainer.model_energy(x) - log_z, box, device=device),
                   origin="lower", extent=extent, cmap="magma")
    axes[0].set_title(f"model exp(-E)/Z, NLL {summary['nll']:.3f}", fontsize=9)
    energy = _image(lambda x: trainer.model_energy(x) + log_z, box, device=device)
    energy = energy.clamp(max=float(energy.min()) + 15).numpy()
    image = axes[1].imshow(energy, origin="lower", extent=extent, cmap="viridis")
    axes[1].set_title("E + log Z = -log p_model (clipped at min + 15)", fontsize=9)
    fig.colorbar(image, ax=axes[1], fraction=0.046)
    _save(fig, run_dir / "plots" / "energy.png")

    noise = trainer.ais_base
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(_density_image(noise.log_prob, box, device=device), origin="lower", extent=extent,
              cmap="magma")
    ax.set_title(f"sampler q, flow NLL {summary['flow_nll']:.3f}", fontsize=9)
    _save(fig, run_dir / "plots" / "flow_density.png")


def _plot_samples(trainer: DensityTrainer, run_dir: Path, summary: dict[str, Any]) -> None:
    cfg = trainer.config
    box = cfg.eval_box
    noise = trainer.ais_base
    g = generator_on(trainer.device, trainer.streams["plots"])
    data = sample_data(cfg.dataset, 2000, g).cpu().numpy()
    samples = noise.flow_sample(2000, g).float().cpu().numpy()
    fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
    axes[0].scatter(data[:, 0], data[:, 1], s=1)
    axes[0].set_title("data", fontsize=9)
    axes[1].scatter(samples[:, 0], samples[:, 1], s=1, color="C1")
    axes[1].set_title(f"sampler, MMD² {summary['mmd']:.4f}", fontsize=9)
    if trainer.dim > 2:
        fig.suptitle(f"coordinates 1 and 2 of {trainer.dim}", fontsize=9)
    for ax in axes:
        ax.set_xlim(-box, box)
        ax.set_ylim(-box, box)
        ax.set_aspect("equal")
    _save(fig, run_dir / "plots" / "samples.png")


def _plot_curves(run_dir: Path, summary: dict[str, Any]) -> None:
    path = run_dir / "metrics.csv"
    rows = list(csv.DictReader(path.open())) if path.is_file() else []
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    val = [(int(r["iteration"]), float(r["val_nll"])) for r in rows if r.get("val_nll")]
    if val:
        axes[0].plot(*zip(*val, strict=True), marker="o", label="validation NLL")
    if summary.get("reference_nll") is not None:  # real data has no known entropy
        axes[0].axhline(summary["reference_nll"], color="grey", ls="--", label="data entropy")
    axes[0].set_xlabel("iteration")
    axes[0].legend(fontsize=8)
    for key in ("loss_disc", "log_z", "accuracy"):
        pts = [(int(r["iteration"]), float(r[key])) for r in rows if r.get(key)]
        if pts:
            axes[1].plot(*zip(*pts, strict=True), label=key)
    for key, label in (("val_log_z_quad", "log Z quadrature"), ("val_log_z_ais", "log Z AIS")):
        lz = [(int(r["iteration"]), float(r[key])) for r in rows if r.get(key)]
        if lz:
            axes[1].plot(*zip(*lz, strict=True), marker="x", ls="", label=label)
    axes[1].set_xlabel("iteration")
    axes[1].legend(fontsize=8)
    _save(fig, run_dir / "plots" / "curves.png")
