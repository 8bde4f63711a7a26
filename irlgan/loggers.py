"""Where training metrics go besides `metrics.csv`: a small logger interface and TensorBoard.

A logger receives scalars under namespaced names (``disc/loss``, ``gen/entropy``,
``eval/normalized_return``) at a step, the environment steps taken so far. The trainers call it
after every iteration (`AdversarialTrainer.learn(..., logger=...)`), and a callback reaches the
same logger as ``algo.logger`` to add scalars of its own:

```python
def callback(algo, row):
    algo.logger.log({"custom/reward_gap": gap(algo)}, step=algo.env_steps)

algo.learn(100_000, callback=callback, logger=irlgan.loggers.TensorBoardLogger("tb/airl"))
```

`metrics.csv` keeps the flat column names (`METRIC_NAMES` maps them); `irlgan train --tensorboard`
writes event files to ``RUN/tensorboard/`` as well. The names:

| name | meaning |
| --- | --- |
| `disc/loss` | the discriminator's (or cost's) loss on the iteration's last batch |
| `disc/acc_data` | the fraction of demonstrated samples the discriminator calls data |
| `disc/acc_gen` | the fraction of generated samples it calls generated |
| `disc/log_z` | the learned or estimated log Z (GAN-GCL, GCL; absent otherwise) |
| `disc/ess` | effective sample size of the cost gradient's batch weights (GAN-GCL, GCL) |
| `disc/ess_fraction` | the same over the batch size (demonstrations and samples) |
| `disc/ess_gen` | the same over the generated samples alone (GAN-GCL, GCL) |
| `disc/log_z_gap` | how far the learned log Z is from GCL's on the batch (GAN-GCL; 0 for GCL) |
| `disc/ess_gen_solved` | `disc/ess_gen` at GCL's log Z: what GCL's step would rest on |
| `disc/log_push_pull` | log of the step's push up on samples over its pull on data (0 for GCL) |
| `disc/log_pull` | log E_p[1 - D], the pull's total weight (far below 0: the step vanishes) |
| `disc/absorbing_reward` | the absorbing state's learned reward f_abs (AIRL with `absorbing`) |
| `gen/learned_reward` | the mean learned reward the generator was trained on |
| `gen/env_return` | the mean true return of the episodes that ended in the iteration |
| `gen/loss` | the generator's policy loss |
| `gen/entropy` | the policy's entropy (nats per step) |
| `time/wall_s` | training wall time so far |
| `time/rollout_s`, `time/disc_s`, `time/gen_s` | its split: rollouts, discriminator, generator |
| `eval/return_mean`, `eval/return_std` | the final evaluation's true return |
| `eval/normalized_return` | the same, normalised (only against references on the same seeds) |
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["METRIC_NAMES", "Logger", "MultiLogger", "TensorBoardLogger", "namespaced"]

METRIC_NAMES = {
    "disc_loss": "disc/loss",
    "disc_acc_data": "disc/acc_data",
    "disc_acc_gen": "disc/acc_gen",
    "log_z": "disc/log_z",
    "ess": "disc/ess",
    "ess_fraction": "disc/ess_fraction",
    "ess_gen": "disc/ess_gen",
    "log_z_gap": "disc/log_z_gap",
    "ess_gen_solved": "disc/ess_gen_solved",
    "log_push_pull": "disc/log_push_pull",
    "log_pull": "disc/log_pull",
    "absorbing_reward": "disc/absorbing_reward",
    "gen_reward": "gen/learned_reward",
    "env_return": "gen/env_return",
    "gen_loss": "gen/loss",
    "entropy": "gen/entropy",
    "wall_s": "time/wall_s",
    "time_rollout": "time/rollout_s",
    "time_disc": "time/disc_s",
    "time_gen": "time/gen_s",
}
"""`metrics.csv` column -> namespaced scalar name (``iteration`` and ``env_steps`` are the axes)."""


def namespaced(row: Mapping[str, Any]) -> dict[str, float]:
    """The scalars of a metrics row under their namespaced names; NaN entries (a quantity the
    algorithm does not have, such as GAIL's log Z) are left out. Names already namespaced
    (containing ``/``) pass through."""
    out = {}
    for key, value in row.items():
        name = METRIC_NAMES.get(key, key if "/" in key else None)
        if name is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(float(value)):
            out[name] = float(value)
    return out


@runtime_checkable
class Logger(Protocol):
    """What the trainers call: `log` scalars at a step, `flush`, `close`."""

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        """Records `metrics` (name -> number) at `step`."""

    def flush(self) -> None:
        """Makes what was logged durable."""

    def close(self) -> None:
        """Flushes and releases the logger's files."""


class MultiLogger:
    """Passes every call on to several loggers."""

    def __init__(self, *loggers: Logger) -> None:
        self.loggers = list(loggers)

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.log(metrics, step)

    def flush(self) -> None:
        for logger in self.loggers:
            logger.flush()

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()


class TensorBoardLogger:
    """TensorBoard event files in `log_dir` (``torch.utils.tensorboard``; needs the package
    ``tensorboard``, the extra ``irlgan[tensorboard]``).

    The writer opens at the first `log`, with TensorBoard's ``purge_step`` at that step: a run
    resumed from a checkpoint drops the events its killed predecessor wrote past it, so every
    curve has one value per step.
    """

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError('TensorBoard logging needs the optional extra: pip install '
                             '"irlgan[tensorboard]"') from None
        self._writer_class = SummaryWriter
        self.log_dir = Path(log_dir)
        self._writer: Any = None

    @classmethod
    def for_run(cls, run_dir: str | os.PathLike[str]) -> TensorBoardLogger:
        """The logger of a run folder: ``RUN/tensorboard/``."""
        return cls(Path(run_dir) / "tensorboard")

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        if self._writer is None:
            self._writer = self._writer_class(log_dir=str(self.log_dir), purge_step=int(step))
        for name, value in metrics.items():
            self._writer.add_scalar(name, float(value), global_step=int(step))

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
