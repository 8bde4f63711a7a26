r"""Maximum-entropy PPO: the generator step of GAN-GCL, GCL and AIRL.

The generator minimises the sampler loss $L_\text{sampler} = \mathbb E_q[c(\tau) + \log q(\tau)]$,
i.e. it maximises the soft return

$$\mathbb E_\pi \Big[\sum_t \gamma^t \big(r_t - \alpha \log \pi(u_t \mid x_t)\big)\Big],$$

with $r_t$ the reward it is given (the IRL algorithm passes $-c(x_t, u_t)$, or AIRL's reward,
which already contains $-\log\pi$, with $\alpha = 0$) and $\alpha$ the entropy weight (1 in the
paper). The entropy enters as a per-step reward, $\log\pi$ taken from the rollout, so the value
function estimates the soft value; a clipped-ratio policy-gradient step (PPO) improves the policy.

One `update`:

1. soft reward $\tilde r_t = r_t - \alpha \log\pi(u_t \mid x_t)$, divided by a running estimate
   of the standard deviation of the discounted soft return (deterministic, checkpointed), so the
   value network sees returns of order one whatever the reward's scale;
2. generalised advantage estimation with $\lambda$; a terminal step does not bootstrap, a
   time-limit truncation bootstraps from $V(\text{next\_obs})$ (the true next observation), and
   the advantage trace is cut at both;
3. `epochs` passes over shuffled minibatches (order drawn from the given `torch.Generator`):
   clipped surrogate for the policy, squared error for the value, Adam, gradient-norm clipping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from irlgan.models import mlp
from irlgan.protocols import RewardFn
from irlgan.rl._rollout import Rollout

__all__ = ["MaxEntPPO", "PPOConfig", "RunningMeanStd"]


@dataclass(frozen=True)
class PPOConfig:
    """Settings of `MaxEntPPO` (frozen: derive variants with `dataclasses.replace`)."""

    learning_rate: float = 1e-3
    """Adam step size of the policy."""
    value_learning_rate: float = 1e-3
    """Adam step size of the value network."""
    gamma: float = 0.99
    """Discount factor of the soft return."""
    gae_lambda: float = 0.95
    """GAE trace parameter lambda."""
    epochs: int = 4
    """Passes over the rollout per update."""
    minibatch_size: int = 512
    """Steps per gradient step."""
    clip_range: float = 0.2
    """PPO ratio clipping epsilon."""
    max_grad_norm: float = 0.5
    """Gradient-norm clipping threshold (per network)."""
    entropy_weight: float = 1.0
    """alpha, the weight of -log pi in the soft reward (1 in the paper)."""
    normalize_advantage: bool = True
    """Standardise advantages within each minibatch."""
    scale_reward: bool = True
    """Divide soft rewards by a running std of the discounted soft return."""
    value_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the value network."""
    target_kl: float = 0.0
    """Stop the epochs early when the approximate KL exceeds this (0: never)."""


class RunningMeanStd(nn.Module):
    """Running mean and variance of a stream of scalars or vectors (parallel Welford update).

    Args:
        shape: the shape of one sample.
    """

    def __init__(self, shape: Sequence[int] = ()) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(tuple(shape), dtype=torch.float64))
        self.register_buffer("var", torch.ones(tuple(shape), dtype=torch.float64))
        self.register_buffer("count", torch.tensor(1e-4, dtype=torch.float64))

    def update(self, batch: Tensor) -> None:
        """Adds a batch [N, *shape]."""
        batch = batch.detach().to(torch.float64)
        batch_mean = batch.mean(0)
        batch_var = batch.var(0, unbiased=False)
        count = batch.shape[0]
        total = self.count + count
        delta = batch_mean - self.mean
        self.mean += delta * count / total
        m2 = self.var * self.count + batch_var * count + delta.square() * self.count * count / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)


class MaxEntPPO:
    """The MaxEnt generator: PPO on the soft reward r - alpha log pi.

    Args:
        policy: a policy with `log_prob(obs [B, d_obs], act [B, d_act]) -> [B]`
            (e.g. `irlgan.models.TanhGaussianPolicy`), trained in place.
        obs_dim: d_obs, the input width of the value network (which sees the observations
            through `policy.normalize_obs` when the policy has one).
        config: the settings.
        generator: the torch generator (on the CPU) that initialises the value network and
            shuffles minibatches (a generator seeded with 0 when None). The value network and
            the update's tensors live on the policy's device.
    """

    def __init__(
        self,
        policy: nn.Module,
        obs_dim: int,
        config: PPOConfig | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.config = config if config is not None else PPOConfig()
        self._check_config(self.config)
        self.policy = policy
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        # initialised from the (CPU) generator, then put beside the policy
        self.device = next(policy.parameters()).device
        self.value = mlp(
            obs_dim, 1, self.config.value_hidden, nn.Tanh, out_gain=1.0, generator=self.generator
        ).to(self.device)
        self.policy_optimizer = torch.optim.Adam(
            policy.parameters(), lr=self.config.learning_rate, eps=1e-5
        )
        self.value_optimizer = torch.optim.Adam(
            self.value.parameters(), lr=self.config.value_learning_rate, eps=1e-5
        )
        self.return_stats = RunningMeanStd(()).to(self.device)
        self._normalize_obs = getattr(policy, "normalize_obs", None)
        self._discounted: Tensor | None = None
        self.updates = 0

    @staticmethod
    def _check_config(config: PPOConfig) -> None:
        checks = {
            "learning_rate": config.learning_rate > 0,
            "value_learning_rate": config.value_learning_rate > 0,
            "gamma": 0 < config.gamma <= 1,
            "gae_lambda": 0 <= config.gae_lambda <= 1,
            "epochs": config.epochs >= 1,
            "minibatch_size": config.minibatch_size >= 1,
            "clip_range": config.clip_range > 0,
            "max_grad_norm": config.max_grad_norm > 0,
            "entropy_weight": config.entropy_weight >= 0,
            "target_kl": config.target_kl >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid PPOConfig field(s): {bad}")

    def _scaled(self, soft_reward: Tensor, done: Tensor) -> Tensor:
        """Divides by the running std of the discounted soft return (updated here)."""
        if not self.config.scale_reward:
            return soft_reward
        steps, num_envs = soft_reward.shape
        if self._discounted is None or self._discounted.shape != (num_envs,):
            self._discounted = torch.zeros(num_envs, dtype=torch.float64,
                                           device=soft_reward.device)
        running = self._discounted
        history = torch.empty(steps, num_envs, dtype=torch.float64, device=soft_reward.device)
        for t in range(steps):
            running = running * self.config.gamma + soft_reward[t].to(torch.float64)
            history[t] = running
            running = torch.where(done[t], torch.zeros_like(running), running)
        self._discounted = running
        self.return_stats.update(history.reshape(-1))
        return soft_reward / math.sqrt(float(self.return_stats.var) + 1e-8)

    def set_learning_rate_fraction(self, fraction: float) -> None:
        """Sets both Adam step sizes to `fraction` times their configured values (for annealing)."""
        if not 0 <= fraction <= 1:
            raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
        for optimizer, rate in ((self.policy_optimizer, self.config.learning_rate),
                                (self.value_optimizer, self.config.value_learning_rate)):
            for group in optimizer.param_groups:
                group["lr"] = rate * fraction

    def value_of(self, obs: Tensor) -> Tensor:
        """V(obs) [...]: the value network on the policy's normalised input, obs [..., d_obs]."""
        if self._normalize_obs is not None:
            obs = self._normalize_obs(obs)
        return self.value(obs).squeeze(-1)

    def advantages(
        self, rollout: Rollout, reward: Tensor
    ) -> tuple[Tensor, Tensor]:
        """GAE advantages and value targets for per-step rewards [T, E] (no state change).

        Returns:
            (advantages [T, E], returns [T, E]), returns = advantages + V(obs).
        """
        steps, num_envs = reward.shape
        gamma, lam = self.config.gamma, self.config.gae_lambda
        with torch.no_grad():
            both = torch.cat([rollout.obs, rollout.next_obs], 0).reshape(2 * steps * num_envs, -1)
            values = self.value_of(both).reshape(2, steps, num_envs)
        value, next_value = values[0], values[1]
        not_terminal = (~rollout.terminated).to(reward.dtype)
        not_done = (~rollout.done).to(reward.dtype)
        delta = reward + gamma * not_terminal * next_value - value
        advantages = torch.empty_like(reward)
        running = torch.zeros(num_envs, dtype=reward.dtype, device=reward.device)
        for t in range(steps - 1, -1, -1):
            running = delta[t] + gamma * lam * not_done[t] * running
            advantages[t] = running
        return advantages, advantages + value

    def update(
        self, rollout: Rollout, reward: Tensor, entropy_weight: float | None = None
    ) -> dict[str, float]:
        r"""One PPO update on the soft reward `reward - entropy_weight * rollout.log_prob`.

        Args:
            rollout: the experience, collected with the current policy.
            reward: [T, E], what the policy maximises per step (-cost, AIRL's reward, or the
                environment's reward); gradients are not taken through it.
            entropy_weight: alpha; `config.entropy_weight` when None.

        Returns:
            Metrics: `policy_loss`, `value_loss`, `approx_kl`, `clip_fraction`, `entropy`
            (minus the mean log pi of the rollout), `soft_reward` (mean unscaled soft reward),
            `explained_variance`, `log_std` (mean), `epochs` (completed).
        """
        config = self.config
        alpha = config.entropy_weight if entropy_weight is None else float(entropy_weight)
        if alpha < 0:
            raise ValueError(f"entropy_weight must be >= 0, got {alpha}")
        expected = tuple(rollout.log_prob.shape)
        if tuple(reward.shape) != expected:
            raise ValueError(f"reward must have shape {list(expected)}, got {list(reward.shape)}")
        reward = reward.detach().to(torch.float32)
        if not torch.isfinite(reward).all():
            raise ValueError("reward must be finite")
        soft_reward = reward - alpha * rollout.log_prob
        scaled = self._scaled(soft_reward, rollout.done).to(torch.float32)
        advantages, returns = self.advantages(rollout, scaled)

        count = rollout.num_steps
        obs = rollout.obs.reshape(count, -1)
        actions = rollout.actions.reshape(count, -1)
        advantages, returns = advantages.reshape(count), returns.reshape(count)
        with torch.no_grad():
            # recomputed rather than taken from the rollout: the same formula as below, so the
            # ratio starts at exactly 1 even for actions squashed to the bounds in float32
            old_log_prob = self.policy.log_prob(obs, actions)
        size = min(config.minibatch_size, count)
        stats: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "approx_kl": [],
                                         "clip_fraction": []}
        epochs_done = 0
        for _ in range(config.epochs):
            order = torch.randperm(count, generator=self.generator).to(obs.device)
            kls = []
            for start in range(0, count - size + 1, size):
                index = order[start:start + size]
                log_prob = self.policy.log_prob(obs[index], actions[index])
                log_ratio = log_prob - old_log_prob[index]
                ratio = log_ratio.exp()
                adv = advantages[index]
                if config.normalize_advantage and size > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                clipped = ratio.clamp(1 - config.clip_range, 1 + config.clip_range)
                policy_loss = -torch.minimum(ratio * adv, clipped * adv).mean()
                self.policy_optimizer.zero_grad(set_to_none=True)
                policy_loss.backward()
                nn.utils.clip_grad_norm_(self.policy.parameters(), config.max_grad_norm)
                self.policy_optimizer.step()

                value_loss = 0.5 * (self.value_of(obs[index]) - returns[index]).square()
                value_loss = value_loss.mean()
                self.value_optimizer.zero_grad(set_to_none=True)
                value_loss.backward()
                nn.utils.clip_grad_norm_(self.value.parameters(), config.max_grad_norm)
                self.value_optimizer.step()
                with torch.no_grad():
                    kl = float(((ratio - 1) - log_ratio).mean())
                    kls.append(kl)
                    stats["approx_kl"].append(kl)
                    stats["clip_fraction"].append(
                        float(((ratio - 1).abs() > config.clip_range).float().mean())
                    )
                stats["policy_loss"].append(float(policy_loss.detach()))
                stats["value_loss"].append(float(value_loss.detach()))
            epochs_done += 1
            if config.target_kl > 0 and kls and sum(kls) / len(kls) > config.target_kl:
                break
        self.updates += 1
        variance = float(returns.var())
        with torch.no_grad():
            residual = float((returns - self.value_of(obs)).var())
        log_std = getattr(self.policy, "log_std", None)
        result = {key: sum(values) / max(len(values), 1) for key, values in stats.items()}
        result.update(
            entropy=float(-rollout.log_prob.mean()),
            soft_reward=float(soft_reward.mean()),
            explained_variance=1.0 - residual / variance if variance > 0 else float("nan"),
            log_std=float(log_std.detach().mean()) if log_std is not None else float("nan"),
            epochs=float(epochs_done),
        )
        return result

    def learn_from(
        self, rollout: Rollout, reward_fn: RewardFn, entropy_weight: float
    ) -> dict[str, float]:
        """The `irlgan.protocols.Generator` step: one `update` on the rollout's rewards.

        Args:
            rollout: the experience [T, E, ...], collected with the current policy.
            reward_fn: ``reward_fn(obs, actions, next_obs, terminated) -> [T, E]``, evaluated
                once on the rollout (PPO is on-policy: no stored transition is reused).
            entropy_weight: alpha, the weight of -log pi in the soft reward.

        Returns:
            The metrics of `update`.
        """
        reward = reward_fn(rollout.obs, rollout.actions, rollout.next_obs, rollout.terminated)
        return self.update(rollout, reward, entropy_weight=entropy_weight)

    def state_dict(self) -> dict[str, Any]:
        """Policy, value network, optimisers, reward statistics and the shuffling generator."""
        return {
            "policy": self.policy.state_dict(),
            "value": self.value.state_dict(),
            "policy_optimizer": self.policy_optimizer.state_dict(),
            "value_optimizer": self.value_optimizer.state_dict(),
            "return_stats": self.return_stats.state_dict(),
            "discounted": self._discounted,
            "generator": self.generator.get_state(),
            "updates": int(self.updates),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()` output."""
        self.policy.load_state_dict(state["policy"])
        self.value.load_state_dict(state["value"])
        self.policy_optimizer.load_state_dict(state["policy_optimizer"])
        self.value_optimizer.load_state_dict(state["value_optimizer"])
        self.return_stats.load_state_dict(state["return_stats"])
        discounted = state["discounted"]
        self._discounted = None if discounted is None else discounted.to(self.device).clone()
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])
