"""Rollouts: fixed-length batches of on-policy experience from a `VecEnv`.

A rollout holds `steps_per_env` consecutive steps of each of E environments as tensors of shape
[T, E, ...]. Episodes continue from one `collect()` to the next; an environment that finishes is
reset at once with a seed drawn from the collector's own `numpy.random.Generator` (always below
`EVAL_SEED_BASE`, so evaluation seeds are never used for training). `next_obs` is the true next
observation, also on the last step of an episode (it is not the reset observation).

With a fixed horizon H (Pendulum-v1: 200, irlgan/PointMass-v0: 50) and `steps_per_env` a multiple
of H, every rollout consists of whole episodes, E * steps_per_env / H of them; `episode_start`
and `timestep` let a caller cut a rollout into trajectories in any case.

Resumption: `state_dict()` stores the environments' state (`VecEnv.state_dict`), the last
observations, the running episode returns and both random generators. Resume is bit-identical on
the CPU wherever the environment's state can be captured (classic control; MuJoCo through its
simulator state and random generator), and otherwise continues from the last episode boundary:
a collector restored from an inexact state restores its generators and counters, then resets
every environment with fresh seeds drawn from the restored numpy generator (so the continuation
is reproducible) and starts new episodes; `resumed_exactly` tells which happened.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from irlgan.checkpoint import numpy_generator_state, set_numpy_generator_state
from irlgan.rl._vec_env import VecEnv

__all__ = ["EVAL_SEED_BASE", "Rollout", "RolloutCollector"]

EVAL_SEED_BASE = 1_000_000
"""Reset seeds at or above this are reserved for evaluation; training draws seeds below it."""


@dataclass
class Rollout:
    """T steps of E environments. Shapes use T = steps per environment, E = environments.

    Attributes:
        obs: float32 [T, E, d_obs], the observation each action was taken in.
        actions: float32 [T, E, d_act], the policy's actions (before any clipping by the env).
        log_prob: float32 [T, E], log pi(action | obs) under the policy that acted.
        next_obs: float32 [T, E, d_obs], the true next observation (also at episode ends).
        env_reward: float32 [T, E], the environment's reward.
        terminated: bool [T, E], the episode ended in a terminal state (no bootstrapping).
        truncated: bool [T, E], the episode was cut by a time limit (bootstrap from next_obs).
        episode_start: bool [T, E], obs is the first observation of an episode.
        timestep: int64 [T, E], the index of the step within its episode (0 at a start).
        episode_returns: float64 [K], the environment returns of the K episodes that ended.
        episode_lengths: int64 [K], their lengths.
    """

    obs: Tensor
    actions: Tensor
    log_prob: Tensor
    next_obs: Tensor
    env_reward: Tensor
    terminated: Tensor
    truncated: Tensor
    episode_start: Tensor
    timestep: Tensor
    episode_returns: Tensor
    episode_lengths: Tensor

    @property
    def num_steps(self) -> int:
        """T * E, the environment steps in this rollout."""
        return int(self.obs.shape[0] * self.obs.shape[1])

    @property
    def done(self) -> Tensor:
        """bool [T, E]: terminated or truncated."""
        return self.terminated | self.truncated

    def to(self, device: torch.device | str) -> Rollout:
        """The rollout with every tensor on ``device`` (itself when they are already there)."""
        device = torch.device(device)
        if self.obs.device == device:
            return self
        return Rollout(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def to_dict(self) -> dict[str, Tensor]:
        """The fields as a dict of tensors (weights_only-safe, e.g. for a sample buffer)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class RolloutCollector:
    """Runs a policy in a `VecEnv` and returns `Rollout`s of `steps_per_env` steps.

    Args:
        vec_env: the environments (their current state is discarded: all are reset here).
        policy: a module with `sample(obs [B, d_obs], generator) -> (act [B, d_act], log_prob [B])`.
        steps_per_env: T, the steps of each environment per `collect()`.
        seed: seeds the reset-seed generator (numpy) and the action-noise generator (torch,
            on the CPU whatever the policy's device: the noise is drawn there and moved, so a
            policy on a GPU acts on the same random numbers as on the CPU).

    Attributes:
        resumed_exactly: False after `load_state_dict` of a state whose environments could not
            be captured (the environments were then reset into new episodes); True otherwise.
    """

    def __init__(self, vec_env: VecEnv, policy: nn.Module, steps_per_env: int, seed: int) -> None:
        if not isinstance(steps_per_env, int) or isinstance(steps_per_env, bool) or (
            steps_per_env < 1
        ):
            raise ValueError(f"steps_per_env must be a positive integer, got {steps_per_env!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.vec_env = vec_env
        self.policy = policy
        self.steps_per_env = steps_per_env
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)
        num_envs = vec_env.num_envs
        self.obs = vec_env.reset(self._reset_seeds(num_envs))
        self.episode_return = np.zeros(num_envs, dtype=np.float64)
        self.episode_length = np.zeros(num_envs, dtype=np.int64)
        self.total_steps = 0
        self.resumed_exactly = True

    def _reset_seeds(self, count: int) -> list[int]:
        return [int(s) for s in self.rng.integers(0, EVAL_SEED_BASE, size=count)]

    @torch.no_grad()
    def collect(self) -> Rollout:
        """Runs T steps in every environment with actions sampled from the policy."""
        steps, num_envs = self.steps_per_env, self.vec_env.num_envs
        obs_dim, act_dim = self.vec_env.obs_dim, self.vec_env.act_dim
        obs_buf = np.empty((steps, num_envs, obs_dim), dtype=np.float32)
        next_buf = np.empty((steps, num_envs, obs_dim), dtype=np.float32)
        act_buf = torch.empty((steps, num_envs, act_dim), dtype=torch.float32)
        logp_buf = torch.empty((steps, num_envs), dtype=torch.float32)
        reward_buf = np.empty((steps, num_envs), dtype=np.float64)
        term_buf = np.empty((steps, num_envs), dtype=bool)
        trunc_buf = np.empty((steps, num_envs), dtype=bool)
        time_buf = np.empty((steps, num_envs), dtype=np.int64)
        finished_returns: list[float] = []
        finished_lengths: list[int] = []
        obs = self.obs
        parameter = next(self.policy.parameters())
        dtype = parameter.dtype  # float32 normally; rollouts stay float32
        device = parameter.device  # the environments take numpy on the host: one copy per step
        for t in range(steps):
            obs_buf[t] = obs
            time_buf[t] = self.episode_length
            act, log_prob = self.policy.sample(torch.from_numpy(obs).to(device, dtype),
                                               generator=self.generator)
            act_buf[t] = act
            logp_buf[t] = log_prob
            next_obs, reward, terminated, truncated = self.vec_env.step(act_buf[t].numpy().copy())
            next_buf[t] = next_obs
            reward_buf[t] = reward
            term_buf[t] = terminated
            trunc_buf[t] = truncated
            self.episode_return += reward
            self.episode_length += 1
            obs = next_obs.copy()
            done = [int(i) for i in np.flatnonzero(terminated | truncated)]
            for index in done:
                finished_returns.append(float(self.episode_return[index]))
                finished_lengths.append(int(self.episode_length[index]))
                self.episode_return[index] = 0.0
                self.episode_length[index] = 0
            if done:  # one seed drawn per finished environment, in index order
                seeds = [self._reset_seeds(1)[0] for _ in done]
                obs[done] = self.vec_env.reset_some(done, seeds)
        self.obs = obs
        self.total_steps += steps * num_envs
        return Rollout(
            obs=torch.from_numpy(obs_buf),
            actions=act_buf,
            log_prob=logp_buf,
            next_obs=torch.from_numpy(next_buf),
            env_reward=torch.from_numpy(reward_buf).to(torch.float32),
            terminated=torch.from_numpy(term_buf),
            truncated=torch.from_numpy(trunc_buf),
            episode_start=torch.from_numpy(time_buf == 0),
            timestep=torch.from_numpy(time_buf),
            episode_returns=torch.tensor(finished_returns, dtype=torch.float64),
            episode_lengths=torch.tensor(finished_lengths, dtype=torch.int64),
        ).to(device)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue (weights_only-safe).

        ``state["envs"]["exact"]`` says whether a restored collector continues bit-identically
        or starts new episodes.
        """
        return {
            "envs": self.vec_env.state_dict(),
            "obs": torch.from_numpy(self.obs.copy()),
            "episode_return": torch.from_numpy(self.episode_return.copy()),
            "episode_length": torch.from_numpy(self.episode_length.copy()),
            "rng": numpy_generator_state(self.rng),
            "generator": self.generator.get_state(),
            "total_steps": int(self.total_steps),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()` output (the policy's parameters are restored elsewhere).

        With an exact environment state the next rollouts are bit-identical to those of the
        collector that saved it; otherwise every environment is reset with seeds drawn from the
        restored generator and the running episode returns and lengths start from zero. Sets
        `resumed_exactly` accordingly.
        """
        obs = state["obs"].numpy().copy()
        if obs.shape != self.obs.shape:
            raise ValueError(f"state holds observations {list(obs.shape)}, "
                             f"expected {list(self.obs.shape)}")
        exact = self.vec_env.load_state_dict(state["envs"])
        set_numpy_generator_state(self.rng, state["rng"])
        self.generator.set_state(state["generator"])
        self.total_steps = int(state["total_steps"])
        if exact:
            self.obs = obs
            self.episode_return = state["episode_return"].numpy().copy()
            self.episode_length = state["episode_length"].numpy().copy()
        else:  # the last episode boundary: new episodes from seeds of the restored generator
            num_envs = self.vec_env.num_envs
            self.obs = self.vec_env.reset(self._reset_seeds(num_envs))
            self.episode_return = np.zeros(num_envs, dtype=np.float64)
            self.episode_length = np.zeros(num_envs, dtype=np.int64)
        self.resumed_exactly = exact
