"""Saving a trained algorithm and loading it back as a model: `algo.save(path)`, `irlgan.load`.

A model file is an irlgan checkpoint (`irlgan.checkpoint`, kind ``"model"``): tensors and plain
data only, read with ``torch.load(weights_only=True)``, so loading one never runs code. It holds
the algorithm's name, its configuration, the spaces, the policy's and the discriminator's
parameters, and which of them the user supplied. Default modules are rebuilt from the
configuration; a user-supplied policy or reward network must be passed to `load` again (an
instance of the same class, whose parameters are then overwritten).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from irlgan.algorithms._trainer import ALGORITHMS, AdversarialConfig, TrainedParts
from irlgan.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["MODEL_KIND", "TrainedModel", "load", "save_model"]

MODEL_KIND = "model"


def _box(space: gymnasium.spaces.Box) -> dict[str, Any]:
    return {"low": torch.as_tensor(np.asarray(space.low, dtype=np.float64)),
            "high": torch.as_tensor(np.asarray(space.high, dtype=np.float64))}


def _space(data: dict[str, Any]) -> gymnasium.spaces.Box:
    return gymnasium.spaces.Box(data["low"].numpy().astype(np.float32),
                                data["high"].numpy().astype(np.float32), dtype=np.float32)


def save_model(algo: Any, path: str | os.PathLike[str]) -> Path:
    """Writes `algo`'s model file (see the module docstring); returns the path."""
    from irlgan.config import config_to_dict

    payload = {
        "algorithm": algo.name,
        "config": config_to_dict(algo.config),
        "env": algo.env_name,
        "seed": algo.seed,
        "env_steps": algo.env_steps,
        "observation_space": _box(algo.observation_space),
        "action_space": _box(algo.action_space),
        "policy": algo.policy.state_dict(),
        "policy_class": f"{type(algo.policy).__module__}.{type(algo.policy).__qualname__}",
        "discriminator": algo.discriminator.state_dict(),
        "reward_net_class": _reward_net_class(algo.discriminator),
        "custom": dict(algo.custom),
    }
    return save_checkpoint(path, payload, kind=MODEL_KIND)


def _reward_net_class(modules: nn.ModuleDict) -> str:
    first = next(iter(modules.values()))
    return f"{type(first).__module__}.{type(first).__qualname__}"


class TrainedModel(TrainedParts):
    """A trained policy and learned reward, loaded by `irlgan.load`: `predict` and `reward`.

    Attributes:
        algorithm: the algorithm class (e.g. `irlgan.AIRL`); `reward_kinds` lists its rewards.
        config: its `AdversarialConfig`.
        policy: the policy (an `nn.Module`).
        discriminator: the discriminator's modules (`nn.ModuleDict`).
        observation_space, action_space: the Boxes it was trained on.
        env_name: the environment's id (or the callable's name).
        env_steps: environment steps it was trained for.
    """

    def __init__(self, algorithm: type, config: AdversarialConfig, policy: nn.Module,
                 discriminator: nn.ModuleDict, observation_space: gymnasium.spaces.Box,
                 action_space: gymnasium.spaces.Box, env_name: str, env_steps: int) -> None:
        self.algorithm = algorithm
        self.name = algorithm.name
        self.config = config
        self.policy = policy
        self.discriminator = discriminator
        self.observation_space = observation_space
        self.action_space = action_space
        self.env_name = env_name
        self.env_steps = env_steps

    def __repr__(self) -> str:
        return (f"TrainedModel({self.name} on {self.env_name}, {self.env_steps} env steps, "
                f"rewards {list(self.reward_kinds)})")


def load(path: str | os.PathLike[str], *, policy: nn.Module | None = None,
         reward_net: nn.Module | None = None) -> TrainedModel:
    """Loads a model written by ``algo.save(path)``.

    Args:
        path: the model file.
        policy, reward_net: instances of the user's own classes, when the model was trained
            with them (their parameters are replaced by the saved ones).

    Raises:
        ValueError: a missing, corrupt or foreign file, or a user module that is needed and not
            given (or that does not fit the saved parameters).
    """
    from irlgan.config import config_from_dict
    from irlgan.rl import make_policy

    payload = load_checkpoint(path, kind=MODEL_KIND)
    name = payload["algorithm"]
    if name not in ALGORITHMS:
        raise ValueError(f"{path}: unknown algorithm {name!r} (known: {sorted(ALGORITHMS)})")
    algorithm = ALGORITHMS[name]
    config = config_from_dict(AdversarialConfig, payload["config"])
    obs_space = _space(payload["observation_space"])
    act_space = _space(payload["action_space"])
    obs_dim, act_dim = int(obs_space.shape[0]), int(act_space.shape[0])
    custom = payload["custom"]
    for role, given, saved in (("policy", policy, payload["policy_class"]),
                               ("reward_net", reward_net, payload["reward_net_class"])):
        if custom.get(role) and given is None:
            raise ValueError(f"{path} was trained with a user-supplied {role} ({saved}); pass "
                             f"an instance as irlgan.load(path, {role}=...)")
    if policy is None:
        policy = make_policy(obs_space, act_space, hidden=config.policy_hidden,
                             normalize_obs=config.normalize_obs)
    modules = algorithm.build_discriminator(obs_dim, act_dim, config, reward_net, None)
    for role, module, state in (("policy", policy, payload["policy"]),
                                ("reward_net", modules, payload["discriminator"])):
        try:
            module.load_state_dict(state)
        except RuntimeError as error:
            first = str(error).strip().splitlines()[0]
            raise ValueError(f"{path}: the saved {role} parameters do not fit the given module "
                             f"({first})") from None
    policy.eval()
    modules.eval()
    return TrainedModel(algorithm, config, policy, modules, obs_space, act_space,
                        str(payload["env"]), int(payload["env_steps"]))
