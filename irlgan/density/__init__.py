"""Energy-based models trained as GANs on 2-D densities (the paper's section 4).

Datasets with exact densities and reference entropies, an MLP energy with a learned log Z, a
neural-spline-flow generator, the EBM/NCE/flow trainers and exact-by-quadrature evaluation.
"""

from irlgan.density._datasets import (
    DATASETS,
    REFERENCE_NLL,
    data_log_prob,
    reference_nll,
    sample_data,
)
from irlgan.density._evaluate import (
    grid,
    importance_log_z_with_ess,
    in_chunks,
    mmd,
    quadrature_log_z,
    quadrature_report,
)
from irlgan.density._models import EnergyMLP, FlowSampler, GaussianNoise
from irlgan.density._run import evaluate_run, load_run, train_run
from irlgan.density._train import DensityConfig, DensityTrainer, evaluate_density

__all__ = [
    "DATASETS",
    "REFERENCE_NLL",
    "DensityConfig",
    "DensityTrainer",
    "EnergyMLP",
    "FlowSampler",
    "GaussianNoise",
    "data_log_prob",
    "evaluate_density",
    "evaluate_run",
    "grid",
    "importance_log_z_with_ess",
    "in_chunks",
    "load_run",
    "mmd",
    "quadrature_log_z",
    "quadrature_report",
    "reference_nll",
    "sample_data",
    "train_run",
]
