r"""Soft actor-critic with a fixed entropy weight: the off-policy MaxEnt generator.

SAC maximises the same soft return as `MaxEntPPO`,

$$\mathbb E_\pi \Big[\sum_t \gamma^t \big(r_t - \alpha \log \pi(u_t \mid x_t)\big)\Big],$$

with $\alpha$ the entropy weight the IRL algorithm passes. It is not tuned automatically: the
MaxEnt objective fixes it (with $\alpha = 1$ the optimal policy is $\pi \propto \exp Q$, the
sampler the discriminator's optimum assumes).

Each `learn_from` call stores the rollout's transitions $(x, u, x', \text{terminated})$ in a
replay buffer and then takes gradient steps on minibatches drawn uniformly from it. The reward
of a sampled transition is recomputed at every step, $r = \text{reward\_fn}(x, u, x',
\text{terminated})$, because the discriminator that defines it has changed since the transition
was stored (reward relabelling). One gradient step:

1. twin soft Q targets from the target networks $\bar Q_1, \bar Q_2$ and a fresh action
   $u' \sim \pi(\cdot \mid x')$:

   $$y = r + \gamma\,(1 - d)\,\big(\min_i \bar Q_i(x', u') - \alpha \log \pi(u' \mid x')\big),$$

   with $d$ = terminated only (a time-limit truncation bootstraps from the true $x'$);
2. squared error $\tfrac12 \sum_i \mathbb E[(Q_i(x, u) - y)^2]$ for both critics (Adam);
3. the reparameterised policy loss $\mathbb E_{x}\big[\alpha \log \pi(\tilde u \mid x) -
   \min_i Q_i(x, \tilde u)\big]$, $\tilde u = \text{sample}(x)$ differentiable in the policy's
   parameters (Adam, the critics held fixed);
4. Polyak averaging $\bar\theta \leftarrow (1 - \tau)\,\bar\theta + \tau\,\theta$.

The number of gradient steps follows the environment steps: after `learning_starts`
transitions are stored, every stored step earns `updates_per_step` of them (fractions carry
over between calls, so the total is ``round(updates_per_step * eligible_steps)``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from irlgan.models import mlp
from irlgan.protocols import RewardFn
from irlgan.rl._rollout import Rollout

__all__ = ["SACConfig", "SoftActorCritic"]


@dataclass(frozen=True)
class SACConfig:
    """Settings of `SoftActorCritic` (frozen: derive variants with `dataclasses.replace`)."""

    learning_rate: float = 3e-4
    """Adam step size of the policy."""
    q_learning_rate: float = 3e-4
    """Adam step size of the twin Q networks."""
    gamma: float = 0.99
    """Discount factor of the soft return."""
    tau: float = 0.005
    """Polyak rate of the target networks (1: copy the online networks at every step)."""
    batch_size: int = 256
    """Transitions per gradient step, drawn uniformly with replacement from the buffer."""
    buffer_size: int = 1_000_000
    """Capacity of the replay buffer (the oldest transitions are overwritten)."""
    updates_per_step: float = 1.0
    """Gradient steps per stored environment step (may be fractional, e.g. 0.25)."""
    learning_starts: int = 1_000
    """Transitions stored before the first gradient step."""
    q_hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of each of the twin Q networks (ReLU MLPs on [obs, act])."""

    def __post_init__(self) -> None:
        def positive_int(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value >= 1

        checks = {
            "learning_rate": math.isfinite(self.learning_rate) and self.learning_rate > 0,
            "q_learning_rate": math.isfinite(self.q_learning_rate) and self.q_learning_rate > 0,
            "gamma": 0 <= self.gamma <= 1,
            "tau": 0 < self.tau <= 1,
            "batch_size": positive_int(self.batch_size),
            "buffer_size": positive_int(self.buffer_size),
            "updates_per_step": (math.isfinite(self.updates_per_step)
                                 and self.updates_per_step >= 0),
            "learning_starts": (isinstance(self.learning_starts, int)
                                and not isinstance(self.learning_starts, bool)
                                and self.learning_starts >= 0),
            "q_hidden": all(positive_int(h) for h in self.q_hidden),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid SACConfig field(s): {bad}")


class _ReplayBuffer:
    """A ring buffer of transitions; storage grows by doubling up to `capacity`.

    Args:
        capacity: the most transitions kept.
        obs_dim: d_obs.
        act_dim: d_act.
        dtype: the floating dtype of observations and actions.
    """

    def __init__(self, capacity: int, obs_dim: int, act_dim: int, dtype: torch.dtype,
                 device: torch.device | None = None) -> None:
        self.capacity = capacity
        self.obs_dim, self.act_dim, self.dtype = obs_dim, act_dim, dtype
        self.device = torch.device("cpu") if device is None else device
        self.obs = torch.empty(0, obs_dim, dtype=dtype, device=self.device)
        self.actions = torch.empty(0, act_dim, dtype=dtype, device=self.device)
        self.next_obs = torch.empty(0, obs_dim, dtype=dtype, device=self.device)
        self.terminated = torch.empty(0, dtype=torch.bool, device=self.device)
        self.size = 0
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def _grow(self, needed: int) -> None:
        old = self.obs.shape[0]
        if needed <= old:
            return
        new = min(self.capacity, max(needed, 2 * old))
        for name in ("obs", "actions", "next_obs", "terminated"):
            tensor = getattr(self, name)
            grown = torch.empty((new, *tensor.shape[1:]), dtype=tensor.dtype,
                                device=self.device)
            grown[:old] = tensor
            setattr(self, name, grown)

    def add(self, obs: Tensor, actions: Tensor, next_obs: Tensor, terminated: Tensor) -> None:
        """Appends N transitions: obs [N, d_obs], actions [N, d_act], next_obs [N, d_obs],
        terminated bool [N] (only the last `capacity` are kept when N exceeds it)."""
        count = obs.shape[0]
        if count > self.capacity:
            obs, actions = obs[-self.capacity:], actions[-self.capacity:]
            next_obs, terminated = next_obs[-self.capacity:], terminated[-self.capacity:]
            count = self.capacity
        self._grow(min(self.capacity, self.size + count))
        index = (self.position + torch.arange(count, device=self.device)) % self.capacity
        self.obs[index] = obs.to(self.dtype)
        self.actions[index] = actions.to(self.dtype)
        self.next_obs[index] = next_obs.to(self.dtype)
        self.terminated[index] = terminated.to(torch.bool)
        self.position = (self.position + count) % self.capacity
        self.size = min(self.capacity, self.size + count)

    def get(self, index: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The transitions at `index` [B]: (obs [B, d_obs], actions [B, d_act],
        next_obs [B, d_obs], terminated [B])."""
        index = index.to(self.device)
        return self.obs[index], self.actions[index], self.next_obs[index], self.terminated[index]

    def state_dict(self) -> dict[str, Any]:
        """The stored transitions (filled part only) and the write position."""
        size = self.size
        return {"obs": self.obs[:size].clone(), "actions": self.actions[:size].clone(),
                "next_obs": self.next_obs[:size].clone(),
                "terminated": self.terminated[:size].clone(),
                "size": int(size), "position": int(self.position)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()` output."""
        size, position = int(state["size"]), int(state["position"])
        shapes = {"obs": (size, self.obs_dim), "actions": (size, self.act_dim),
                  "next_obs": (size, self.obs_dim), "terminated": (size,)}
        for name, shape in shapes.items():
            if tuple(state[name].shape) != shape:
                raise ValueError(f"buffer {name} has shape {list(state[name].shape)}, "
                                 f"expected {list(shape)}")
        if size > self.capacity or not 0 <= position < self.capacity:
            raise ValueError(f"buffer size {size} / position {position} do not fit the "
                             f"capacity {self.capacity}")
        self.obs = state["obs"].to(self.device, self.dtype).clone()
        self.actions = state["actions"].to(self.device, self.dtype).clone()
        self.next_obs = state["next_obs"].to(self.device, self.dtype).clone()
        self.terminated = state["terminated"].to(self.device, torch.bool).clone()
        self.size, self.position = size, position


class SoftActorCritic:
    r"""SAC with twin Q networks, target networks and a fixed entropy weight.

    Implements `irlgan.protocols.Generator`.

    Args:
        policy: a policy whose `sample(obs [B, d_obs], generator) -> (act [B, d_act], log_prob
            [B])` is differentiable in its parameters (reparameterised), e.g.
            `irlgan.models.TanhGaussianPolicy`; trained in place.
        obs_dim: d_obs (the Q networks see the observations through `policy.normalize_obs`
            when the policy has one).
        act_dim: d_act.
        config: the settings (`SACConfig()` when None).
        generator: the torch generator that initialises the Q networks, draws minibatches and
            samples the policy in the updates (a generator seeded with 0 when None).
        critics: two modules mapping ``[obs, act]`` [B, d_obs + d_act] to Q [B, 1] (trained in
            place), to replace the default ReLU MLPs of `config.q_hidden`, e.g. a function
            class known to contain the true soft Q.

    Attributes:
        q, q_target: the twin critics and their Polyak-averaged copies (`nn.ModuleList`\ s).
        buffer: the replay buffer.
        updates: gradient steps taken so far.
        env_steps: transitions stored so far.
    """

    def __init__(
        self,
        policy: nn.Module,
        obs_dim: int,
        act_dim: int,
        config: SACConfig | None = None,
        generator: torch.Generator | None = None,
        *,
        critics: Sequence[nn.Module] | None = None,
    ) -> None:
        self.config = config if config is not None else SACConfig()
        if not isinstance(self.config, SACConfig):
            raise ValueError(f"config must be a SACConfig, got {type(self.config).__name__}")
        for name, value in (("obs_dim", obs_dim), ("act_dim", act_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.policy = policy
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        dtype = next(policy.parameters()).dtype
        device = next(policy.parameters()).device  # critics and buffer live beside the policy
        if critics is None:
            critics = [mlp(obs_dim + act_dim, 1, self.config.q_hidden, nn.ReLU, out_gain=1.0,
                           generator=self.generator).to(dtype) for _ in range(2)]
        elif len(critics) != 2 or not all(isinstance(c, nn.Module) for c in critics):
            raise ValueError("critics must be two nn.Modules mapping [B, d_obs + d_act] to [B, 1]")
        self.q = nn.ModuleList(critics).to(device)
        self.q_target = copy.deepcopy(self.q)
        self.q_target.requires_grad_(False)
        self._policy_params = [p for p in policy.parameters() if p.requires_grad]
        # fused: one kernel per step instead of a dozen small ops per tensor (~20% of an update)
        self.policy_optimizer = torch.optim.Adam(self._policy_params,
                                                 lr=self.config.learning_rate, fused=True)
        self.q_optimizer = torch.optim.Adam(self.q.parameters(), lr=self.config.q_learning_rate,
                                            fused=True)
        self.buffer = _ReplayBuffer(self.config.buffer_size, obs_dim, act_dim, dtype, device)
        self._normalize_obs = getattr(policy, "normalize_obs", None)
        self.updates = 0
        self.env_steps = 0
        self._eligible_steps = 0

    def set_learning_rate_fraction(self, fraction: float) -> None:
        """Sets both Adam step sizes to `fraction` times their configured values (annealing)."""
        if not 0 <= fraction <= 1:
            raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
        for optimizer, rate in ((self.policy_optimizer, self.config.learning_rate),
                                (self.q_optimizer, self.config.q_learning_rate)):
            for group in optimizer.param_groups:
                group["lr"] = rate * fraction

    def q_values(self, obs: Tensor, act: Tensor, target: bool = False) -> Tensor:
        """Both critics: obs [B, d_obs], act [B, d_act] -> [2, B] (target networks if asked)."""
        nets = self.q_target if target else self.q
        if self._normalize_obs is not None:
            obs = self._normalize_obs(obs)
        inputs = torch.cat([obs, act], -1)
        return torch.stack([net(inputs).squeeze(-1) for net in nets])

    def _check_rollout(self, rollout: Rollout) -> tuple[int, int]:
        if rollout.obs.ndim != 3 or rollout.obs.shape[-1] != self.obs_dim:
            raise ValueError(f"rollout.obs must have shape [T, E, {self.obs_dim}], got "
                             f"{list(rollout.obs.shape)}")
        steps, num_envs = rollout.obs.shape[:2]
        expected = {"actions": (steps, num_envs, self.act_dim),
                    "next_obs": (steps, num_envs, self.obs_dim),
                    "terminated": (steps, num_envs)}
        for name, shape in expected.items():
            got = tuple(getattr(rollout, name).shape)
            if got != shape:
                raise ValueError(f"rollout.{name} must have shape {list(shape)}, got {list(got)}")
        if rollout.terminated.dtype != torch.bool:
            raise ValueError(f"rollout.terminated must be bool, got {rollout.terminated.dtype}")
        for name in ("obs", "actions", "next_obs"):
            if not torch.isfinite(getattr(rollout, name)).all():
                raise ValueError(f"rollout.{name} must be finite")
        return steps, num_envs

    def _reward(self, reward_fn: RewardFn, obs: Tensor, act: Tensor, next_obs: Tensor,
                terminated: Tensor) -> Tensor:
        with torch.no_grad():
            reward = reward_fn(obs, act, next_obs, terminated)
        if not isinstance(reward, Tensor) or tuple(reward.shape) != (obs.shape[0],):
            shape = list(reward.shape) if isinstance(reward, Tensor) else type(reward).__name__
            raise ValueError(f"reward_fn must return a tensor of shape [{obs.shape[0]}] for "
                             f"{obs.shape[0]} transitions, got {shape}")
        reward = reward.detach().to(obs.dtype)
        if not torch.isfinite(reward).all():
            raise ValueError("reward_fn returned non-finite rewards")
        return reward

    def _gradient_step(self, reward_fn: RewardFn, alpha: float) -> tuple[Tensor, ...]:
        """One critic, actor and target step; returns (q_loss, policy_loss, entropy, q_mean)."""
        config = self.config
        index = torch.randint(self.buffer.size, (config.batch_size,), generator=self.generator)
        obs, act, next_obs, terminated = self.buffer.get(index)
        reward = self._reward(reward_fn, obs, act, next_obs, terminated)
        with torch.no_grad():
            next_act, next_log_prob = self.policy.sample(next_obs, generator=self.generator)
            next_q = self.q_values(next_obs, next_act, target=True).min(0).values
            soft_next = next_q - alpha * next_log_prob
            target = reward + config.gamma * (~terminated).to(reward.dtype) * soft_next

        q = self.q_values(obs, act)
        q_loss = 0.5 * (q - target).square().mean(-1).sum()
        self.q_optimizer.zero_grad(set_to_none=True)
        q_loss.backward()
        self.q_optimizer.step()

        new_act, log_prob = self.policy.sample(obs, generator=self.generator)
        q_new = self.q_values(obs, new_act).min(0).values
        policy_loss = (alpha * log_prob - q_new).mean()
        self.policy_optimizer.zero_grad(set_to_none=True)
        policy_loss.backward(inputs=self._policy_params)  # the critics get no gradient
        self.policy_optimizer.step()

        with torch.no_grad():
            for online, slow in zip(self.q.parameters(), self.q_target.parameters(),
                                    strict=True):
                slow.lerp_(online, config.tau)
        return (q_loss.detach(), policy_loss.detach(), -log_prob.detach().mean(),
                q.detach().mean())

    def learn_from(
        self, rollout: Rollout, reward_fn: RewardFn, entropy_weight: float
    ) -> dict[str, float]:
        r"""Stores the rollout's transitions, then takes the gradient steps they earned.

        Args:
            rollout: the experience [T, E, ...] just collected (obs, actions, next_obs and
                terminated are used; truncation is not terminal, so it bootstraps).
            reward_fn: ``reward_fn(obs [B, d_obs], act [B, d_act], next_obs [B, d_obs],
                terminated [B]) -> [B]``, called on every minibatch (reward relabelling).
            entropy_weight: alpha >= 0, the fixed weight of $-\log\pi$ in the soft reward.

        Returns:
            Metrics averaged over this call's gradient steps (NaN when there were none):
            `q_loss` (sum over both critics), `policy_loss`, `entropy` (minus the mean
            log pi of the fresh actions), `q_mean` (mean Q of the stored actions), and
            `updates` (gradient steps taken in this call).
        """
        alpha = float(entropy_weight)
        if not (math.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"entropy_weight must be finite and >= 0, got {entropy_weight}")
        steps, num_envs = self._check_rollout(rollout)
        count = steps * num_envs
        self.buffer.add(rollout.obs.reshape(count, self.obs_dim),
                        rollout.actions.reshape(count, self.act_dim),
                        rollout.next_obs.reshape(count, self.obs_dim),
                        rollout.terminated.reshape(count))
        self.env_steps += count
        if len(self.buffer) >= max(self.config.learning_starts, 1):
            self._eligible_steps += count
        due = round(self.config.updates_per_step * self._eligible_steps) - self.updates
        totals = torch.zeros(4, dtype=torch.float64, device=self.buffer.device)
        for _ in range(due):
            totals += torch.stack(self._gradient_step(reward_fn, alpha)).to(torch.float64)
            self.updates += 1
        means = (totals / due).tolist() if due > 0 else [math.nan] * 4
        return {"q_loss": means[0], "policy_loss": means[1], "entropy": means[2],
                "q_mean": means[3], "updates": float(max(due, 0))}

    def state_dict(self) -> dict[str, Any]:
        """Policy, critics, target critics, optimisers, replay buffer, generator and counters
        (weights_only-safe)."""
        return {
            "policy": self.policy.state_dict(),
            "q": self.q.state_dict(),
            "q_target": self.q_target.state_dict(),
            "policy_optimizer": self.policy_optimizer.state_dict(),
            "q_optimizer": self.q_optimizer.state_dict(),
            "buffer": self.buffer.state_dict(),
            "generator": self.generator.get_state(),
            "updates": int(self.updates),
            "env_steps": int(self.env_steps),
            "eligible_steps": int(self._eligible_steps),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()` output."""
        self.policy.load_state_dict(state["policy"])
        self.q.load_state_dict(state["q"])
        self.q_target.load_state_dict(state["q_target"])
        self.policy_optimizer.load_state_dict(state["policy_optimizer"])
        self.q_optimizer.load_state_dict(state["q_optimizer"])
        self.buffer.load_state_dict(state["buffer"])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])
        self.env_steps = int(state["env_steps"])
        self._eligible_steps = int(state["eligible_steps"])
