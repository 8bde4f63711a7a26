"""Training algorithms. One readable module each; all loss arithmetic goes through `losses`.

The continuous-control algorithms are thin subclasses of `AdversarialTrainer`, one public module
each (`airl`, `gan_gcl`, `gcl`, `gail`). Every public module of this package is imported here, so
an algorithm added as a new module registers itself (`register`) without other edits.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from irlgan.algorithms._adversarial import (
    TrajectoryBatch,
    gan_gcl_cost_loss,
    gcl_cost_loss,
)
from irlgan.algorithms._buffer import SampleBuffer
from irlgan.algorithms._episodes import EpisodeBuffer
from irlgan.algorithms._tabular import (
    TabularConfig,
    TabularRun,
    evaluate_tabular,
    train_tabular,
)
from irlgan.algorithms._trainer import (
    ALGORITHMS,
    AdversarialConfig,
    AdversarialTrainer,
    Episodes,
    Transitions,
    register,
    seed_streams,
)
from irlgan.algorithms.airl import (
    AIRL,
    AbsorbingReward,
    absorbing_discriminator_loss,
    airl_discriminator_loss,
    airl_logit,
    airl_reward,
)
from irlgan.algorithms.gail import GAIL
from irlgan.algorithms.gan_gcl import (
    GANGCL,
    gan_gcl_discriminator_loss,
    gan_gcl_logit,
    gan_gcl_reward,
)
from irlgan.algorithms.gcl import GCL, gcl_loss

for _module in _pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_module.name}")

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
    "TrajectoryBatch", "airl_discriminator_loss", "airl_logit", "AbsorbingReward",
    "absorbing_discriminator_loss",
    "airl_reward", "gan_gcl_discriminator_loss", "gan_gcl_logit", "gan_gcl_reward", "gcl_loss",
]
__all__ += [  # the algorithm objects (issue 13)
    "AIRL", "ALGORITHMS", "AdversarialConfig", "AdversarialTrainer", "EpisodeBuffer", "Episodes",
    "GAIL", "GANGCL", "GCL", "Transitions", "register", "seed_streams",
]
