"""irlgan: GANs, maximum-entropy inverse reinforcement learning and energy-based models.

A verification-first implementation of Finn, Christiano, Abbeel and Levine (2016),
"A Connection between Generative Adversarial Networks, Inverse Reinforcement Learning, and
Energy-Based Models" (arXiv 1611.03852). The loss functions live in `irlgan.losses`.

The library surface, imported on first use so that ``import irlgan`` stays light:

```python
demos = irlgan.Demonstrations.from_arrays(observations, actions, terminated)
algo = irlgan.AIRL("Pendulum-v1", demos, seed=0).learn(200_000)   # also GANGCL, GCL, GAIL
algo.save("airl.pt"); model = irlgan.load("airl.pt")
model.predict(obs); model.reward(obs, act, next_obs, terminated)
env = irlgan.wrappers.LearnedReward(gymnasium.make("Pendulum-v1"), model)
demos = irlgan.data.record("Pendulum-v1", predict, episodes=50, seed=100_000)  # any policy
demos = irlgan.Demonstrations.from_minari("pendulum/expert-v0")                 # Minari
```
"""

from __future__ import annotations

import importlib
from typing import Any

from irlgan import losses

__version__ = "0.1.0"

_LAZY = {
    "AIRL": "irlgan.algorithms",
    "GAIL": "irlgan.algorithms",
    "GANGCL": "irlgan.algorithms",
    "GCL": "irlgan.algorithms",
    "AdversarialConfig": "irlgan.algorithms",
    "AdversarialTrainer": "irlgan.algorithms",
    "Demonstrations": "irlgan.data",
    "data": "irlgan.data",
    "loggers": "irlgan.loggers",
    "TrainedModel": "irlgan._model",
    "load": "irlgan._model",
    "protocols": "irlgan.protocols",
    "wrappers": "irlgan.wrappers",
}

__all__ = ["__version__", "losses", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'irlgan' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if module.__name__ == f"irlgan.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
