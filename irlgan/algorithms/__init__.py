"""Training algorithms. One readable module each; all loss arithmetic goes through `losses`."""

from irlgan.algorithms._adversarial import gan_gcl_cost_loss, gcl_cost_loss
from irlgan.algorithms._buffer import SampleBuffer
from irlgan.algorithms._tabular import (
    TabularConfig,
    TabularRun,
    evaluate_tabular,
    train_tabular,
)

__all__ = [
    "SampleBuffer",
    "TabularConfig",
    "TabularRun",
    "evaluate_tabular",
    "gan_gcl_cost_loss",
    "gcl_cost_loss",
    "train_tabular",
]
