"""Training algorithms. One readable module each; all loss arithmetic goes through `losses`."""

from irlgan.algorithms._adversarial import (
    TrajectoryBatch,
    TrajectoryMixture,
    gan_gcl_cost_loss,
    gcl_cost_loss,
)
from irlgan.algorithms._buffer import SampleBuffer
from irlgan.algorithms._tabular import (
    TabularConfig,
    TabularRun,
    evaluate_tabular,
    train_tabular,
)
from irlgan.algorithms.airl import airl_discriminator_loss, airl_logit, airl_reward
from irlgan.algorithms.gan_gcl import gan_gcl_discriminator_loss, gan_gcl_logit, gan_gcl_reward
from irlgan.algorithms.gcl import gcl_loss

__all__ = [
    "SampleBuffer",
    "TabularConfig",
    "TabularRun",
    "evaluate_tabular",
    "gan_gcl_cost_loss",
    "gcl_cost_loss",
    "train_tabular",
]
__all__ += [  # continuous control (issue 4)
    "TrajectoryBatch", "TrajectoryMixture", "airl_discriminator_loss", "airl_logit",
    "airl_reward", "gan_gcl_discriminator_loss", "gan_gcl_logit", "gan_gcl_reward", "gcl_loss",
]
