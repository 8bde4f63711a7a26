"""Energy-based models trained as GANs (the paper's section 4), on 2-D densities and beyond.

Datasets with exact densities and reference entropies (2-D, their products in d = 2k, and
Gaussian mixtures in d dimensions), an MLP energy with a learned log Z, a neural-spline-flow
generator, the EBM/NCE/flow trainers, exact-by-quadrature evaluation in 2-D and, in any
dimension, annealed importance sampling of log Z.
"""

from irlgan.density._ais import (
    AISResult,
    DiagonalGaussian,
    ais_log_z,
    annealing_schedule,
    bidirectional_log_z,
    reverse_ais_log_z,
)
from irlgan.density._datasets import (
    DATASETS,
    REFERENCE_NLL,
    data_log_prob,
    dataset_dim,
    gaussian_mixture,
    parse_dataset,
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
    "AISResult",
    "DensityConfig",
    "DensityTrainer",
    "DiagonalGaussian",
    "EnergyMLP",
    "FlowSampler",
    "GaussianNoise",
    "ais_log_z",
    "annealing_schedule",
    "bidirectional_log_z",
    "data_log_prob",
    "dataset_dim",
    "gaussian_mixture",
    "evaluate_density",
    "evaluate_run",
    "grid",
    "importance_log_z_with_ess",
    "in_chunks",
    "load_run",
    "mmd",
    "parse_dataset",
    "quadrature_log_z",
    "quadrature_report",
    "reference_nll",
    "reverse_ais_log_z",
    "sample_data",
    "train_run",
]
