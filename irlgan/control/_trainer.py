r"""The training loop of GAN-GCL, GCL and AIRL on control tasks, with exact resumption.

One iteration reads top to bottom:

1. **rollout**: the generator (a tanh-Gaussian policy) acts for `steps_per_env` steps in
   `num_envs` environments (`irlgan.rl.RolloutCollector`);
2. **discriminator**: `disc_steps` Adam steps on the algorithm's loss
   (`irlgan.algorithms.gan_gcl_discriminator_loss`, `gcl_loss` or `airl_discriminator_loss`):
   GAN-GCL and GCL compare whole demonstrated episodes with the episodes of the last
   `buffer_generators` generators under their mixture density; AIRL compares transitions with the
   current generator's $\log\pi$;
3. **generator**: one MaxEnt-PPO update (`irlgan.rl.MaxEntPPO`) on the per-step reward
   $-c(x_t, u_t)$ with entropy weight `entropy_weight` (GAN-GCL, GCL), or
   $f(x_t, u_t, x_{t+1}) - \alpha\log\pi(u_t|x_t)$ with entropy weight 0 (AIRL; $\alpha$ is
   `entropy_weight`, 1 in the paper). With `anneal_lr` the PPO learning rates decay linearly to
   0 over the run.

Every `checkpoint_every` iterations the complete state (models, optimisers, the collector's
environments and random generators, the episode buffer, unfinished episodes, the discriminator's
minibatch generator, time spent) is written atomically; resuming from it continues
bit-identically on the CPU.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from irlgan.algorithms import (
    TrajectoryBatch,
    TrajectoryMixture,
    airl_discriminator_loss,
    airl_reward,
    gan_gcl_discriminator_loss,
    gan_gcl_reward,
    gcl_loss,
)
from irlgan.control._config import ControlConfig
from irlgan.control._episodes import EpisodeAssembler
from irlgan.models import MLPCost, MLPLogZ, ShapedReward

__all__ = ["ControlTrainer", "TimeSplit", "demonstrations_batch"]

METRIC_FIELDS = [
    "iteration", "env_steps", "wall_s", "disc_loss", "disc_acc_data", "disc_acc_gen",
    "log_z", "gen_reward", "env_return", "ppo_loss", "entropy", "time_rollout", "time_disc",
    "time_gen",
]


@dataclass
class TimeSplit:
    """Seconds spent in each part of the loop."""

    rollout: float = 0.0
    disc: float = 0.0
    gen: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The split as a dict."""
        return dataclasses.asdict(self)


def demonstrations_batch(obs: Tensor, act: Tensor, mask: Tensor | None = None,
                         terminated: Tensor | None = None) -> TrajectoryBatch:
    """Builds a `TrajectoryBatch` from demonstration arrays.

    Args:
        obs: [N, T+1, d_obs]; act: [N, T, d_act]; mask: [N, T] or None (all real);
        terminated: [N] bool or None (inferred: an episode shorter than T ended in a terminal).
    """
    obs = torch.as_tensor(obs, dtype=torch.float32)
    act = torch.as_tensor(act, dtype=torch.float32)
    n, t = act.shape[:2]
    mask = torch.ones(n, t) if mask is None else torch.as_tensor(mask).to(torch.float32)
    if terminated is None:
        terminated = mask.sum(1) < t
    return TrajectoryBatch(obs, act, mask, torch.as_tensor(terminated).bool())


def _ppo_config(overrides: str):
    from irlgan.config import apply_overrides
    from irlgan.rl import PPOConfig

    items: dict[str, str] = {}
    for part in [p for p in overrides.split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"ppo overrides must be key=value pairs, got {part!r}")
        items[key.strip()] = value.strip()
    return apply_overrides(PPOConfig(), items)


def behaviour_cloning(policy: nn.Module, obs: Tensor, act: Tensor, steps: int,
                      generator: torch.Generator, batch: int = 256, lr: float = 1e-3) -> float:
    """Fits `policy` to demonstrated (obs, act) pairs by maximum likelihood, in place.

    Args:
        policy: a policy with `log_prob(obs [B, d], act [B, k]) -> [B]`.
        obs: [M, d] demonstrated observations; act: [M, k] their actions.
        steps: Adam steps, each on `batch` pairs drawn with replacement from `generator`.

    Returns:
        The mean negative log-likelihood of all the pairs after the last step.
    """
    opt = torch.optim.Adam(policy.parameters(), lr=lr)
    for _ in range(steps):
        index = torch.randint(0, obs.shape[0], (batch,), generator=generator)
        loss = -policy.log_prob(obs[index], act[index]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(-policy.log_prob(obs, act).mean())


@dataclass
class _State:
    iteration: int = 0
    env_steps: int = 0
    wall_s: float = 0.0
    times: TimeSplit = field(default_factory=TimeSplit)


class ControlTrainer:
    """GAN-GCL, GCL or AIRL on one control task; see the module docstring for the loop.

    Args:
        config: the run's settings.
        demos: demonstrated episodes.
        progress: show a progress bar.
    """

    def __init__(self, config: ControlConfig, demos: TrajectoryBatch, *,
                 progress: bool = False) -> None:
        from irlgan.rl import MaxEntPPO, RolloutCollector, make_policy, make_vec_env

        self.config = config
        self.progress = progress
        self.demos = demos
        seed = config.seed
        self.vec_env = make_vec_env(config.env_id, config.num_envs)
        space = self.vec_env.action_space
        obs_dim, act_dim = self.vec_env.obs_dim, self.vec_env.act_dim
        if demos.obs.shape[-1] != obs_dim or demos.act.shape[-1] != act_dim:
            raise ValueError(
                f"demonstrations have obs/act widths {demos.obs.shape[-1]}/{demos.act.shape[-1]},"
                f" {config.env_id} has {obs_dim}/{act_dim}")
        init = torch.Generator().manual_seed(seed + 1)
        self.policy = make_policy(self.vec_env.observation_space, space, generator=init)
        self.demo_transitions = demos.transitions()
        if config.bc_steps:
            self.bc_nll = behaviour_cloning(self.policy, *self.demo_transitions[:2],
                                            config.bc_steps,
                                            torch.Generator().manual_seed(seed + 4))
        if config.algorithm == "airl":
            self.reward_net: nn.Module = ShapedReward(obs_dim, act_dim, config.gamma,
                                                      config.hidden, config.state_only, init)
            self.log_z: nn.Module | None = None
        else:
            self.reward_net = MLPCost(obs_dim, act_dim, config.hidden, config.state_only, init)
            scalar = config.log_z == "scalar"
            self.log_z = MLPLogZ(obs_dim, hidden=() if scalar else (32,), generator=init)
            if scalar:  # a constant: freeze the slope
                self.log_z.net[-1].weight.requires_grad_(False)
        params = list(self.reward_net.parameters())
        if self.log_z is not None and config.algorithm == "gan-gcl":
            params += [p for p in self.log_z.parameters() if p.requires_grad]
        elif self.log_z is not None and config.log_z == "initial_state":  # GCL's b(x_0)
            params += list(self.log_z.parameters())
        self.disc_opt = torch.optim.Adam(params, lr=config.disc_lr)
        self.collector = RolloutCollector(self.vec_env, self.policy, config.steps_per_env, seed)
        self.ppo = MaxEntPPO(self.policy, obs_dim, _ppo_config(config.ppo),
                             torch.Generator().manual_seed(seed + 2))
        self.disc_gen = torch.Generator().manual_seed(seed + 3)
        self.buffer = TrajectoryMixture(config.buffer_generators)
        self.assembler = EpisodeAssembler(config.num_envs)
        self.state = _State()
        self.last_log_z = float("nan")

    # ---------------------------------------------------------------------------------------
    # One iteration
    # ---------------------------------------------------------------------------------------

    def _snapshot(self) -> nn.Module:
        snap = copy.deepcopy(self.policy)
        for p in snap.parameters():
            p.requires_grad_(False)
        return snap

    def _disc_update_trajectories(self, episodes: TrajectoryBatch | None) -> dict[str, float]:
        cfg = self.config
        if episodes is not None:
            self.buffer.add(self._snapshot(), episodes)
        if len(self.buffer) == 0:
            return {}
        gen_all = self.buffer.samples()
        log_q_gen_all = self.buffer.log_q(gen_all)
        log_q_data_all = self.buffer.log_q(self.demos)
        stats: dict[str, float] = {}
        for _ in range(cfg.disc_steps):
            i_d = _subset(len(self.demos), cfg.disc_batch, self.disc_gen)
            i_g = _subset(len(gen_all), cfg.disc_batch, self.disc_gen)
            data, gen = self.demos.select(i_d), gen_all.select(i_g)
            lq_d, lq_g = log_q_data_all[i_d], log_q_gen_all[i_g]
            if cfg.algorithm == "gan-gcl":
                loss = gan_gcl_discriminator_loss(self.reward_net, self.log_z, data, lq_d, gen,
                                                  lq_g)
                with torch.no_grad():
                    self.last_log_z = float(self.log_z(data.obs[:, 0]).mean())
            else:
                start = self.log_z if cfg.log_z == "initial_state" else None
                loss, log_z = gcl_loss(self.reward_net, start, data, lq_d, gen, lq_g)
                self.last_log_z = log_z
            self.disc_opt.zero_grad()
            loss.backward()
            self.disc_opt.step()
            stats["disc_loss"] = float(loss.detach())
        with torch.no_grad():
            c_d = self.reward_net.trajectory_cost(self.demos.obs, self.demos.act, self.demos.mask)
            c_g = self.reward_net.trajectory_cost(gen_all.obs, gen_all.act, gen_all.mask)
            if self.log_z is not None and cfg.algorithm == "gan-gcl":
                lz_d, lz_g = self.log_z(self.demos.obs[:, 0]), self.log_z(gen_all.obs[:, 0])
            else:
                lz_d = lz_g = torch.tensor(self.last_log_z)
            stats["disc_acc_data"] = float(((-c_d - lz_d - log_q_data_all) > 0).float().mean())
            stats["disc_acc_gen"] = float(((-c_g - lz_g - log_q_gen_all) < 0).float().mean())
        stats["log_z"] = self.last_log_z
        return stats

    def _disc_update_airl(self, rollout) -> dict[str, float]:
        cfg = self.config
        d_obs, d_act, d_next, d_term = self.demo_transitions
        g_obs = rollout.obs.reshape(-1, rollout.obs.shape[-1])
        g_act = rollout.actions.reshape(-1, rollout.actions.shape[-1])
        g_next = rollout.next_obs.reshape(-1, rollout.next_obs.shape[-1])
        g_term = rollout.terminated.reshape(-1)
        with torch.no_grad():  # the generator is fixed during the discriminator's steps
            lp_d_all = self.policy.log_prob(d_obs, d_act)
            lp_g_all = self.policy.log_prob(g_obs, g_act)
        loss = torch.zeros(())
        for _ in range(cfg.disc_steps):
            i_d = _subset(d_obs.shape[0], cfg.disc_batch, self.disc_gen)
            i_g = _subset(g_obs.shape[0], cfg.disc_batch, self.disc_gen)
            data = (d_obs[i_d], d_act[i_d], d_next[i_d], d_term[i_d])
            gen = (g_obs[i_g], g_act[i_g], g_next[i_g], g_term[i_g])
            loss = airl_discriminator_loss(self.reward_net, data, lp_d_all[i_d], gen,
                                           lp_g_all[i_g])
            self.disc_opt.zero_grad()
            loss.backward()
            self.disc_opt.step()
        with torch.no_grad():
            acc_d = float(((self.reward_net(*data) - lp_d_all[i_d]) > 0).float().mean())
            acc_g = float(((self.reward_net(*gen) - lp_g_all[i_g]) < 0).float().mean())
        return {"disc_loss": float(loss.detach()), "disc_acc_data": acc_d, "disc_acc_gen": acc_g}

    def _generator_reward(self, rollout) -> tuple[Tensor, float]:
        """The per-step reward [T, E] for the generator, and its entropy weight."""
        cfg = self.config
        if cfg.algorithm == "airl":
            shape = rollout.log_prob.shape
            with torch.no_grad():
                log_pi = self.policy.log_prob(
                    rollout.obs.reshape(-1, rollout.obs.shape[-1]),
                    rollout.actions.reshape(-1, rollout.actions.shape[-1])).reshape(shape)
            reward = airl_reward(self.reward_net, rollout.obs, rollout.actions, rollout.next_obs,
                                 rollout.terminated, log_pi, cfg.entropy_weight)
            return reward * cfg.reward_scale, 0.0
        reward = gan_gcl_reward(self.reward_net, rollout.obs, rollout.actions)
        return reward * cfg.reward_scale, cfg.entropy_weight * cfg.reward_scale

    def step(self) -> dict[str, float]:
        """Runs one iteration and returns its metrics row."""
        cfg, st = self.config, self.state
        t0 = time.perf_counter()
        rollout = self.collector.collect()
        t1 = time.perf_counter()
        if cfg.algorithm == "airl":
            stats = self._disc_update_airl(rollout)
        else:
            episodes = self.assembler.add(rollout.obs, rollout.actions, rollout.next_obs,
                                          rollout.terminated, rollout.truncated)
            stats = self._disc_update_trajectories(episodes)
        t2 = time.perf_counter()
        reward, entropy_weight = self._generator_reward(rollout)
        if cfg.anneal_lr:  # a function of the iteration alone, so resume stays exact
            self.ppo.set_learning_rate_fraction(1.0 - st.iteration / cfg.iterations)
        ppo_stats = self.ppo.update(rollout, reward, entropy_weight=entropy_weight)
        t3 = time.perf_counter()
        st.iteration += 1
        st.env_steps += rollout.num_steps
        st.times.rollout += t1 - t0
        st.times.disc += t2 - t1
        st.times.gen += t3 - t2
        st.wall_s += t3 - t0
        env_ret = rollout.episode_returns
        row = {
            "iteration": st.iteration, "env_steps": st.env_steps, "wall_s": round(st.wall_s, 3),
            "disc_loss": stats.get("disc_loss", math.nan),
            "disc_acc_data": stats.get("disc_acc_data", math.nan),
            "disc_acc_gen": stats.get("disc_acc_gen", math.nan),
            "log_z": stats.get("log_z", math.nan),
            "gen_reward": float(reward.mean()),
            "env_return": float(env_ret.mean()) if env_ret.numel() else math.nan,
            "ppo_loss": float(ppo_stats.get("policy_loss", math.nan)),
            "entropy": float(ppo_stats.get("entropy", math.nan)),
            "time_rollout": round(st.times.rollout, 3), "time_disc": round(st.times.disc, 3),
            "time_gen": round(st.times.gen, 3),
        }
        return row

    # ---------------------------------------------------------------------------------------
    # Checkpoints
    # ---------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The complete state of the run (weights_only-safe)."""
        st = self.state
        return {
            "iteration": st.iteration, "env_steps": st.env_steps, "wall_s": st.wall_s,
            "times": st.times.as_dict(), "last_log_z": self.last_log_z,
            "reward_net": self.reward_net.state_dict(),
            "log_z": None if self.log_z is None else self.log_z.state_dict(),
            "disc_opt": self.disc_opt.state_dict(),
            "ppo": self.ppo.state_dict(),
            "collector": self.collector.state_dict(),
            "disc_gen": self.disc_gen.get_state(),
            "assembler": self.assembler.state_dict(),
            "buffer": [{"policy": snap.state_dict(), "obs": ep.obs, "act": ep.act,
                        "mask": ep.mask, "terminated": ep.terminated}
                       for snap, ep in self.buffer.entries],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()`'s output."""
        self.state = _State(int(state["iteration"]), int(state["env_steps"]),
                            float(state["wall_s"]), TimeSplit(**state["times"]))
        self.last_log_z = float(state["last_log_z"])
        self.reward_net.load_state_dict(state["reward_net"])
        if self.log_z is not None:
            self.log_z.load_state_dict(state["log_z"])
        self.disc_opt.load_state_dict(state["disc_opt"])
        self.ppo.load_state_dict(state["ppo"])
        self.collector.load_state_dict(state["collector"])
        self.disc_gen.set_state(state["disc_gen"])
        self.assembler.load_state_dict(state["assembler"])
        self.buffer.entries = []
        for entry in state["buffer"]:
            snap = self._snapshot()
            snap.load_state_dict(entry["policy"])
            self.buffer.entries.append((snap, TrajectoryBatch(
                entry["obs"], entry["act"], entry["mask"], entry["terminated"])))

    def final_parameters(self) -> dict[str, Tensor]:
        """Every learned tensor by name (policy, cost/reward net, log Z), for comparisons."""
        out = {f"policy.{k}": v for k, v in self.policy.state_dict().items()}
        out.update({f"reward_net.{k}": v for k, v in self.reward_net.state_dict().items()})
        if self.log_z is not None:
            out.update({f"log_z.{k}": v for k, v in self.log_z.state_dict().items()})
        return out

    def close(self) -> None:
        """Closes the environments."""
        self.vec_env.close()

    def learned_step_cost(self, obs: Tensor, act: Tensor) -> Tensor:
        """Learned per-step cost c(x, u) (GAN-GCL, GCL) or -g(x, u) (AIRL): [..., d] -> [...]."""
        with torch.no_grad():
            if self.config.algorithm == "airl":
                return -self.reward_net.reward(obs, act)
            return self.reward_net(obs, act)


def _subset(n: int, size: int, generator: torch.Generator) -> Tensor:
    """`size` indices into range(n): a random permutation prefix, or all of them if n <= size."""
    if n <= size:
        return torch.arange(n)
    return torch.randperm(n, generator=generator)[:size]
