"""Adversarial IRL on control tasks: GAN-GCL, GCL and AIRL with a MaxEnt-PPO generator.

- `ControlConfig`, `default_config`: the settings of a run.
- `ControlTrainer`: the training loop (one `step()` per iteration, `state_dict()` for resuming).
- `train_run`, `evaluate_run`: a run in a run folder (checkpoints, metrics.csv, summary.json,
  plots); `irlgan.control.commands` holds the `irlgan train` / `irlgan eval` entry points.
- `EpisodeAssembler`: cuts vectorised rollouts into whole episodes.
- `cost_correlation`, `train_on_cost`: the learned cost against the true one, and a fresh
  policy trained on the learned cost alone.
"""

from irlgan.control._config import ControlConfig, default_config
from irlgan.control._episodes import EpisodeAssembler
from irlgan.control._run import evaluate_run, final_parameters, learned_cost, train_run
from irlgan.control._trainer import ControlTrainer, TimeSplit, demonstrations_batch
from irlgan.control._transfer import cost_correlation, train_on_cost

__all__ = [
    "ControlConfig",
    "ControlTrainer",
    "EpisodeAssembler",
    "TimeSplit",
    "cost_correlation",
    "default_config",
    "demonstrations_batch",
    "evaluate_run",
    "final_parameters",
    "learned_cost",
    "train_on_cost",
    "train_run",
]
