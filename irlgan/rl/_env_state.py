"""The dynamic state of one gymnasium environment, as a weights_only-safe dict, and back.

Resume is bit-identical on the CPU wherever the environment's state can be captured (classic
control; MuJoCo through its simulator state and random generator), and otherwise continues from
the last episode boundary (`RolloutCollector` then starts fresh episodes from seeded resets).

What `capture_env_state` stores, by environment family:

- gymnasium's classic-control environments and irlgan's own (`irlgan/PointMass-v0`): the array
  `unwrapped.state`, which is all they keep between steps.
- gymnasium's MuJoCo environments (`gymnasium.envs.mujoco.MujocoEnv`): the simulator's full
  integration state (``mj_getState`` with ``mjSTATE_INTEGRATION``: time, positions, velocities,
  actuator activations, controls, applied forces, mocap poses, warm start, plugin and history
  buffers), which makes the next ``mj_step`` bit-exact, and the fixed-size results of the last
  forward pass (body, geom and site poses, centre-of-mass quantities, tendon and actuator
  lengths, generalised forces, accelerations, sensor data). A MuJoCo task reads some of those
  *before* it steps again (Ant-v5 its torso position, Humanoid-v5 its centre of mass), and after
  ``mj_step`` they describe the state one substep earlier, so recomputing them with
  ``mj_forward`` would change the next reward. Contacts and constraint rows are recomputed
  (they are rebuilt by the next step before anything reads them). A user's subclass of
  `MujocoEnv` is assumed to keep nothing else between steps, and the model itself is not stored:
  the restoring environment must be built the same way (a factory that randomises the model's
  parameters is caught only when the sizes differ).
- for every environment: the bit-generator state of ``unwrapped.np_random`` (randomness drawn in
  ``step`` continues identically), the `TimeLimit` step counter and the `OrderEnforcing` flag;
  a restored `PassiveEnvChecker` is marked as done (its checks ran on the captured environment).

Anything else gives ``None``: environments of other families or of the user's own classes, and
any wrapper that is not one of gymnasium's stateless ones (`NormalizeObservation`,
`RecordEpisodeStatistics`, `FrameStackObservation`, ... keep state of their own).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import wrappers

from irlgan.checkpoint import numpy_generator_state, set_numpy_generator_state

__all__ = ["capture_env_state", "restore_env_state"]

_STATE_MODULES = ("gymnasium.envs.classic_control.", "irlgan.envs.")
"""Modules whose environments keep everything between steps in `unwrapped.state`."""

_STATELESS_WRAPPERS: tuple[type, ...] = (
    gymnasium.Wrapper,
    wrappers.PassiveEnvChecker,
    wrappers.ClipAction,
    wrappers.RescaleAction,
    wrappers.TransformAction,
    wrappers.ClipReward,
    wrappers.TransformReward,
    wrappers.DtypeObservation,
    wrappers.FilterObservation,
    wrappers.FlattenObservation,
    wrappers.RescaleObservation,
    wrappers.ReshapeObservation,
    wrappers.TransformObservation,
)
"""Gymnasium wrappers (these exact classes, not subclasses) whose outputs depend on nothing they
keep between steps."""

_MUJOCO_DERIVED = (
    # position stage
    "xpos", "xquat", "xmat", "xipos", "ximat", "xiquat", "xanchor", "xaxis",
    "geom_xpos", "geom_xmat", "geom_xquat", "site_xpos", "site_xmat", "site_xquat",
    "cam_xpos", "cam_xmat", "light_xpos", "light_xdir", "subtree_com", "cdof", "cinert", "crb",
    "ten_length", "ten_J", "actuator_length", "actuator_moment", "flexvert_xpos",
    "flexedge_length", "M", "qLD", "qLDiagInv",
    # velocity stage
    "cvel", "cdof_dot", "subtree_linvel", "subtree_angmom", "ten_velocity",
    "actuator_velocity", "flexedge_velocity",
    # forces and accelerations
    "qfrc_bias", "qfrc_spring", "qfrc_damper", "qfrc_gravcomp", "qfrc_fluid", "qfrc_passive",
    "qfrc_actuator", "actuator_force", "act_dot", "qfrc_smooth", "qacc_smooth",
    "qfrc_constraint", "qfrc_inverse", "qacc", "cacc", "cfrc_int", "cfrc_ext", "sensordata",
    "energy",
)
"""Fixed-size float `MjData` fields computed by the forward pass (sizes set by the model)."""


def _mujoco_env_class() -> type | None:
    try:
        from gymnasium.envs.mujoco import MujocoEnv
    except (ImportError, gymnasium.error.DependencyNotInstalled):
        return None
    return MujocoEnv


def _layers(env: gymnasium.Env) -> list[gymnasium.Env]:
    """The wrappers of `env`, outermost first, then the unwrapped environment."""
    layers = [env]
    while isinstance(layers[-1], gymnasium.Wrapper):
        layers.append(layers[-1].env)
    return layers


def _capture_wrapper(wrapper: gymnasium.Wrapper) -> dict[str, Any] | None:
    kind = type(wrapper)
    if kind is wrappers.TimeLimit:
        elapsed = wrapper._elapsed_steps
        return {"type": "TimeLimit", "elapsed_steps": -1 if elapsed is None else int(elapsed)}
    if kind is wrappers.OrderEnforcing:
        return {"type": "OrderEnforcing", "has_reset": bool(wrapper._has_reset)}
    if kind in _STATELESS_WRAPPERS:
        return {"type": kind.__name__}
    return None


def _mujoco_spec() -> int:
    import mujoco

    return int(mujoco.mjtState.mjSTATE_INTEGRATION)


def _capture_mujoco(core: gymnasium.Env) -> dict[str, Any]:
    import mujoco

    model, data = core.model, core.data
    spec = _mujoco_spec()
    integration = np.empty(mujoco.mj_stateSize(model, spec), dtype=np.float64)
    mujoco.mj_getState(model, data, integration, spec)
    derived = {
        name: torch.from_numpy(np.array(getattr(data, name), copy=True))
        for name in _MUJOCO_DERIVED
        if isinstance(getattr(data, name, None), np.ndarray)
    }
    return {"integration": torch.from_numpy(integration), "spec": spec, "derived": derived}


def _restore_mujoco(core: gymnasium.Env, state: dict[str, Any], name: str) -> None:
    import mujoco

    model, data = core.model, core.data
    spec = int(state["spec"])
    integration = state["integration"].numpy().astype(np.float64)  # a copy
    if spec != _mujoco_spec() or integration.shape != (mujoco.mj_stateSize(model, spec),):
        raise ValueError(f"{name}: the MuJoCo state ({integration.shape[0]} numbers, signature "
                         f"{spec}) does not fit this model")
    derived = {}
    for field, value in state["derived"].items():
        target = getattr(data, field, None)
        if not isinstance(target, np.ndarray) or tuple(target.shape) != tuple(value.shape):
            raise ValueError(f"{name}: MjData.{field} of the state does not fit this model")
        derived[field] = (target, value.numpy())
    mujoco.mj_setState(model, data, integration, spec)
    mujoco.mj_forward(model, data)  # contacts, constraints and the rest, consistent with the state
    mujoco.mj_setState(model, data, integration, spec)  # in case the forward pass touched any
    for target, value in derived.values():
        target[...] = value


def capture_env_state(env: gymnasium.Env) -> dict[str, Any] | None:
    """The dynamic state of one environment, or None when it cannot be captured.

    Args:
        env: a gymnasium environment, wrapped or not.

    Returns:
        A weights_only-safe dict (`kind` "state" or "mujoco", the per-wrapper `wrappers` list,
        the `np_random` generator state, and the simulator state of its kind), or None for an
        environment family or wrapper whose state is not known (see the module docstring).
    """
    layers = _layers(env)
    core = layers[-1]
    wrapper_states = []
    for wrapper in layers[:-1]:
        captured = _capture_wrapper(wrapper)
        if captured is None:
            return None
        wrapper_states.append(captured)
    mujoco_env = _mujoco_env_class()
    module = type(core).__module__ + "."
    if mujoco_env is not None and isinstance(core, mujoco_env):
        state: dict[str, Any] = {"kind": "mujoco", **_capture_mujoco(core)}
    elif module.startswith(_STATE_MODULES) and getattr(core, "state", None) is not None:
        state = {"kind": "state",
                 "state": torch.from_numpy(np.array(core.state, copy=True))}  # dtype kept
    else:
        return None
    state["wrappers"] = wrapper_states
    if core._np_random is not None:
        state["np_random"] = numpy_generator_state(core._np_random)
    if isinstance(core._np_random_seed, int):
        state["np_random_seed"] = int(core._np_random_seed)
    return state


def restore_env_state(env: gymnasium.Env, state: dict[str, Any]) -> None:
    """Puts `env` into a state from `capture_env_state` (of an environment built the same way).

    Args:
        env: an environment built like the captured one (same id or factory).
        state: `capture_env_state` output (not None).

    Raises:
        ValueError: if the state is None, of another kind, or from another wrapper stack or
            model.
    """
    name = type(env.unwrapped).__name__
    if not isinstance(state, dict) or "kind" not in state:
        raise ValueError(f"{name}: no captured state to restore (got {type(state).__name__})")
    layers = _layers(env)
    core = layers[-1]
    saved = state["wrappers"]
    found = [type(wrapper).__name__ for wrapper in layers[:-1]]
    if [layer["type"] for layer in saved] != found:
        raise ValueError(f"{name}: the state was captured through the wrappers "
                         f"{[layer['type'] for layer in saved]}, this environment has {found}")
    mujoco_env = _mujoco_env_class()
    is_mujoco = mujoco_env is not None and isinstance(core, mujoco_env)
    if state["kind"] != ("mujoco" if is_mujoco else "state"):
        raise ValueError(f"{name}: cannot restore a {state['kind']!r} state into this environment")
    if is_mujoco:
        _restore_mujoco(core, state, name)
    else:
        value = state["state"].numpy().copy()
        current = getattr(core, "state", None)
        if current is not None and np.shape(current) != value.shape:
            raise ValueError(f"{name}: the state has shape {list(value.shape)}, the environment "
                             f"{list(np.shape(current))}")
        core.state = value
    for wrapper, layer in zip(layers[:-1], saved, strict=True):
        if layer["type"] == "TimeLimit":
            elapsed = int(layer["elapsed_steps"])
            wrapper._elapsed_steps = None if elapsed < 0 else elapsed
        elif layer["type"] == "OrderEnforcing":
            wrapper._has_reset = bool(layer["has_reset"])
        elif layer["type"] == "PassiveEnvChecker":
            # The checks ran on the captured environment. Run here, the first one would compare
            # the next step's data with a reset this copy may never have had, and fail.
            wrapper.checked_reset = wrapper.checked_step = wrapper.checked_data_reuse = True
            wrapper._previous_data = None
    if "np_random" in state:
        if core._np_random is None:  # a generator of the stored kind, then its stored state
            kind = getattr(np.random, str(state["np_random"]["bit_generator"]), None)
            if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
                raise ValueError(f"{name}: unknown bit generator in the state")
            core._np_random = np.random.Generator(kind())
        set_numpy_generator_state(core._np_random, state["np_random"])
    if "np_random_seed" in state:
        core._np_random_seed = int(state["np_random_seed"])
