"""Gymnasium wrappers: hand a learned reward to any learner.

`LearnedReward(env, model)` replaces the environment's reward with the model's learned reward
(`irlgan.load(...).reward` or a trained algorithm's), so stable-baselines3, CleanRL or irlgan's own
generator can train a fresh policy on it, in the same environment or a changed one (reward
transfer). The environment's own reward is kept in ``info["env_reward"]``.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium
import numpy as np

__all__ = ["LearnedReward"]


class LearnedReward(gymnasium.Wrapper):
    """The environment with the learned reward r(x, u, x') of `model` in place of its own.

    Args:
        env: a `gymnasium.Env` with the Box spaces the model was trained on.
        model: anything with ``reward(obs, act, next_obs, terminated, kind=...)`` (a trained
            algorithm or `irlgan.load`'s model).
        kind: which learned reward (`model.reward_kinds`; default its first: AIRL's shaped f,
            GAN-GCL's and GCL's -c, GAIL's logit). For transfer to changed dynamics use AIRL's
            ``"g"``.
    """

    def __init__(self, env: gymnasium.Env, model: Any, kind: str | None = None) -> None:
        super().__init__(env)
        if not callable(getattr(model, "reward", None)):
            raise ValueError(f"model must have a reward(obs, act, next_obs, terminated) method, "
                             f"got {type(model).__name__}")
        kinds = tuple(getattr(model, "reward_kinds", ()) or ())
        if kind is not None and kinds and kind not in kinds:
            raise ValueError(f"kind must be one of {list(kinds)}, got {kind!r}")
        policy = getattr(model, "policy", None)
        for space, width in ((env.observation_space, getattr(policy, "obs_dim", None)),
                             (env.action_space, getattr(policy, "act_dim", None))):
            if not isinstance(space, gymnasium.spaces.Box) or len(space.shape) != 1:
                raise ValueError(f"LearnedReward needs 1-D Box spaces, got {space}")
            if width is not None and space.shape[0] != int(width):
                raise ValueError(f"the environment's space {space} does not match the model's "
                                 f"width {width}")
        self.model = model
        self.kind = kind
        self._obs: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._obs = np.asarray(obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._obs is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        obs, env_reward, terminated, truncated, info = self.env.step(action)
        act = np.clip(np.asarray(action, dtype=np.float32), self.action_space.low,
                      self.action_space.high)
        reward = float(self.model.reward(self._obs, act, np.asarray(obs), bool(terminated),
                                         kind=self.kind))
        self._obs = np.asarray(obs)
        info = dict(info)
        info["env_reward"] = float(env_reward)
        return obs, reward, terminated, truncated, info
