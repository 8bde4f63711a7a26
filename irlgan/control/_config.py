"""Built-in settings of control runs: the tuned presets per algorithm and task.

The values live in the data file `irlgan/presets/control.toml`, each with the measurement that
chose it; `default_config` reads them. Keys are ``"<algorithm>/<env_id>"``, on top of a shared
``"*/<env_id>"`` section; a task without a preset gets the `AdversarialConfig` defaults.
"""

from __future__ import annotations

from typing import Any

from irlgan.algorithms import ALGORITHMS, AdversarialConfig
from irlgan.control._run import ControlRunConfig

__all__ = ["default_config"]

RUN_FIELDS = ("total_steps", "checkpoint_every", "eval_episodes", "train_env_kwargs")
"""Preset and `--set` keys that belong to the run, not to the algorithm's settings."""


def split_overrides(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run-level values, algorithm-level values) of a flat dict of settings."""
    run = {k: v for k, v in values.items() if k.split(".")[0] in RUN_FIELDS}
    algo = {k: v for k, v in values.items() if k.split(".")[0] not in RUN_FIELDS}
    return run, algo


def default_config(algorithm: str, env_id: str, seed: int = 0) -> ControlRunConfig:
    """The run's built-in settings: `AdversarialConfig` defaults, then the task's presets."""
    from irlgan.config import apply_overrides
    from irlgan.presets import load_preset

    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; known: {sorted(ALGORITHMS)}")
    preset = load_preset("control", f"{algorithm}/{env_id}")
    run_values, algo_values = split_overrides(preset)
    algo = apply_overrides(AdversarialConfig(), algo_values, parse_text=False)
    run = ControlRunConfig(algorithm=algorithm, env_id=env_id, seed=int(seed), algo=algo)
    return apply_overrides(run, run_values, parse_text=False)
