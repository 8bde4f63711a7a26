"""Control runs in run folders: GAN-GCL, GCL, AIRL and GAIL on gymnasium tasks.

- `ControlRunConfig`, `default_config`: the settings of a run (presets per task in
  `irlgan/presets/control.toml`).
- `train_run`, `evaluate_run`: a run in a run folder (checkpoints, metrics.csv, summary.json,
  model.pt, plots); `irlgan.control.commands` holds the `irlgan train` / `irlgan eval` entry
  points. `References` and `evaluation_plan`: the reference returns with the reset seeds they
  were measured on, and which seeds an evaluation uses (a normalised score only on the
  references' own). The algorithms themselves are `irlgan.AIRL`, `irlgan.GANGCL`, ...
  (`irlgan.algorithms`).
- `cost_correlation`, `train_on_cost`: the learned cost against the true one, and a fresh
  policy trained on the learned cost alone.
"""

from irlgan.control._config import default_config
from irlgan.control._run import (
    ControlRunConfig,
    References,
    build_algorithm,
    evaluate_run,
    evaluation_plan,
    final_parameters,
    train_run,
)
from irlgan.control._transfer import cost_correlation, train_on_cost

__all__ = [
    "ControlRunConfig",
    "References",
    "build_algorithm",
    "cost_correlation",
    "default_config",
    "evaluate_run",
    "evaluation_plan",
    "final_parameters",
    "train_on_cost",
    "train_run",
]
