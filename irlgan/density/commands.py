"""`irlgan train ebm|nce|flow --data NAME` and `irlgan eval RUN_DIR` for densities (2-D toy
datasets and their products ``<name>-x<k>``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from irlgan.config import apply_overrides
from irlgan.density._datasets import DATASETS
from irlgan.density._run import evaluate_run, train_run
from irlgan.density._train import DensityConfig

__all__ = ["evaluate", "make_config", "train"]

_SHOWN = ("dim", "device", "nll", "bits_per_dim", "reference_nll", "kl_gap", "log_z_learned",
          "log_z_quadrature",
          "log_z_ais", "log_z_ais_std", "log_z_importance", "importance_ess_fraction",
          "flow_nll", "mmd", "mmd_floor", "wall_s")


def make_config(args: argparse.Namespace) -> DensityConfig:
    """The DensityConfig of a `train` command: algo, --data, --steps and --set overrides."""
    if getattr(args, "env", None):
        raise ValueError(f"{args.algo} trains on a dataset: use --data NAME, not --env")
    if not getattr(args, "data", None):
        raise ValueError(f"{args.algo} needs --data NAME (one of {', '.join(DATASETS)}, "
                         f"<name>-x<k> for k independent copies, or gmm-d<d>)")
    if args.data not in DATASETS:
        raise ValueError(f"unknown dataset {args.data!r}; choose one of {', '.join(DATASETS)}, "
                         f"<name>-x<k> for k >= 1 independent copies (d = 2k), gmm-d<d> "
                         f"(a Gaussian mixture in d >= 2 dimensions), or digits (real, d = 64)")
    if getattr(args, "demos", None):
        raise ValueError("--demos does not apply to density training")
    overrides = dict(getattr(args, "overrides", None) or {})
    for key in ("algorithm", "dataset"):
        if key in overrides:
            raise ValueError(f"set {key} through the command (ALGO, --data), not --set {key}=...")
    config = DensityConfig(algorithm=args.algo, dataset=args.data)
    config = apply_overrides(config, overrides)
    if args.steps is not None:
        if args.steps < 1:
            raise ValueError(f"--steps must be at least 1, got {args.steps}")
        config = apply_overrides(config, {"iterations": str(args.steps)})
    return config


def _print_summary(summary: dict, quiet: bool) -> None:
    if quiet:
        return
    for key in _SHOWN:
        value = summary.get(key)
        print(f"{key:>24}: {value:.4f}" if isinstance(value, float) else f"{key:>24}: {value}")
    if summary.get("log_z_ais_note"):
        print(f"note: {summary['log_z_ais_note']}")


def train(args: argparse.Namespace) -> int:
    """Trains an EBM (or a baseline) on a dataset; writes the run folder."""
    torch.set_num_threads(1)
    config = make_config(args)
    if args.seed < 0:
        raise ValueError(f"--seed must be non-negative, got {args.seed}")
    out = args.out or f"runs/{config.algorithm}-{config.dataset}-s{args.seed}"
    summary = train_run(config, out, seed=args.seed, resume=args.resume, quiet=args.quiet,
                        device=getattr(args, "device", None))
    if not args.quiet:
        print(f"run folder: {Path(out)}")
    _print_summary(summary or {}, args.quiet)
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Evaluates the run's best parameters, writes RUN_DIR/evals/<checkpoint>.json (or
    --output) and prints the result."""
    torch.set_num_threads(1)
    if getattr(args, "episodes", None) is not None:
        raise ValueError("--episodes applies to control runs; a density run is evaluated on "
                         "its fixed test sample")
    if getattr(args, "demos", None):
        raise ValueError("--demos applies to control runs")
    for flag in ("seeds", "video"):
        if getattr(args, flag, None):
            raise ValueError(f"--{flag} applies to control runs")
    summary = evaluate_run(args.run_dir, output=getattr(args, "output", None),
                           device=getattr(args, "device", None))
    if args.quiet:
        return 0
    print(json.dumps({k: summary[k] for k in _SHOWN if k in summary}, indent=2))
    if summary.get("log_z_ais_note"):
        print(f"note: {summary['log_z_ais_note']}")
    return 0
