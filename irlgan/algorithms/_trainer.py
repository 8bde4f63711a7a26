r"""The adversarial trainer that GAN-GCL, GCL, AIRL and GAIL share.

One iteration reads top to bottom (`AdversarialTrainer.step`):

1. **rollout**: the policy acts for `steps_per_env` steps in `num_envs` copies of the environment
   (`irlgan.rl.RolloutCollector`);
2. **discriminator**: `disc_steps` Adam steps on the algorithm's loss. Algorithms that compare
   whole episodes (GAN-GCL, GCL) see the demonstrations and the episodes of the last
   `buffer_generators` generator snapshots, each scored under the mixture density of the snapshots
   that produced the buffer, step by step (`irlgan.algorithms.EpisodeBuffer`); algorithms that
   compare transitions (AIRL, GAIL) see demonstrated and generated transitions with the current
   policy's $\log\pi$;
3. **generator**: the generator (`irlgan.protocols.Generator`: MaxEnt PPO by default) improves the
   policy on the algorithm's per-step reward with entropy weight `entropy_weight`.

An algorithm is a subclass that sets `name`, `discriminates` and `reward_kinds` and implements
three methods: `build_discriminator` (its modules), `discriminator_loss` and `learned_reward` (the
learned reward of each kind; the generator is trained on the first of `reward_kinds`). Nothing
else in the package needs to change to add one: `register` makes it known to the command line.

Random streams: one `numpy.random.SeedSequence(seed)` spawns an independent child per component
(policy initialisation, discriminator initialisation, environment resets and action noise, the
generator's minibatches, the discriminator's minibatches, behaviour cloning), so the streams of
run s never overlap those of run s + 1. The generators' states go into every checkpoint.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import Tensor, nn

from irlgan import losses
from irlgan.algorithms._adversarial import TrajectoryBatch
from irlgan.devices import resolve_device
from irlgan.errors import PARAMETER_LIMIT, VALUE_LIMIT, CheckpointError, check_divergence
from irlgan.protocols import Generator, Policy, RewardNet, check_protocol
from irlgan.rl import PPOConfig
from irlgan.schedule import lr_fraction, run_iterations
from irlgan.seeding import seed_streams

try:  # the SAC generator (irlgan.rl.SoftActorCritic)
    from irlgan.rl import SACConfig
except ImportError:  # pragma: no cover - while it is being written
    SACConfig = Any  # type: ignore[misc,assignment]

__all__ = [
    "ALGORITHMS",
    "AdversarialConfig",
    "AdversarialTrainer",
    "Episodes",
    "Transitions",
    "register",
    "seed_streams",
]

ALGORITHMS: dict[str, type[AdversarialTrainer]] = {}
"""Every registered algorithm by its command-line name."""

def register(cls: type[AdversarialTrainer]) -> type[AdversarialTrainer]:
    """Class decorator: makes an algorithm known by `cls.name` (e.g. to `irlgan train`)."""
    if not cls.name or cls.name in ALGORITHMS and ALGORITHMS[cls.name] is not cls:
        raise ValueError(f"algorithm name {cls.name!r} is empty or already taken")
    ALGORITHMS[cls.name] = cls
    return cls


def _torch_generator(seed: int) -> torch.Generator:
    """A CPU generator: every control stream draws on the CPU and moves its draws to the
    device (they are small: action noise, minibatch indices), so the CPU and a GPU draw the
    same numbers and initialise the networks identically."""
    return torch.Generator().manual_seed(seed)


def _ppo_config_factory() -> PPOConfig:
    return PPOConfig()


@dataclass(frozen=True)
class AdversarialConfig:
    """Settings of GAN-GCL, GCL, AIRL and GAIL (each field applies to all unless it says)."""

    num_envs: int = 16
    """Parallel environments of the generator's rollouts."""
    steps_per_env: int = 200
    """Rollout length per environment and iteration (env steps per iteration: the product)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the default cost / reward network (AIRL: of g and h)."""
    state_only: bool = False
    """The default cost c(x) (AIRL: g(x); GAIL: D(x)) instead of a function of (x, u)."""
    reward_obs: tuple[int, int] | None = None
    """(start, stop): the default discriminator networks (the cost or AIRL's g and h, GAN-GCL's
    and GCL's log Z(x_0), GAIL's logit) see the observation components start .. stop - 1 only;
    the policy still sees all of them (None: every component). Ant-v5's first 27 components are
    its joint positions and velocities, the other 78 its contact forces: ``(0, 27)`` leaves the
    contact forces out of the reward."""
    log_z: Literal["initial_state", "scalar"] = "initial_state"
    """GAN-GCL, GCL: a learned log Z(x_0) (exact with random starts) or a scalar."""
    log_z_init: Literal["zero", "solved"] = "zero"
    """GAN-GCL: where the learned log Z starts. ``"zero"``: at 0. ``"solved"``: at the
    discriminator's first step its offset is set to the self-consistent value on that batch
    (`irlgan.losses.optimal_log_z`, where the pull on the demonstrations equals the push on the
    samples, identity (a)), and it is learned from there. log q(tau) is a sum over the episode's
    steps: with 1000-step episodes and about 4 nats of entropy a step it starts near -4000, and
    a log Z starting at 0 calls every episode a demonstration until it has climbed that far.
    It removes that wait but not what follows (HalfCheetah seed 0: 0.073 against 0.150; see the
    MuJoCo benchmark page)."""
    gcl_normalize: bool = False
    """GCL, GAN-GCL: divide the cost step's weights on each side by their total (the direction
    of the step on each side unchanged), so that it does not vanish below Adam's epsilon when
    the discriminator separates the trajectories (`irlgan.algorithms.gcl_cost_loss`,
    `irlgan.algorithms.gan_gcl_cost_loss`; GAN-GCL's log Z keeps the loss's own gradient)."""
    segment_steps: int = 0
    """GAN-GCL, GCL: the discriminator compares L-step pieces of episodes instead of whole
    episodes (0: whole episodes, the papers' form). Each piece sigma starting at x_k gets the
    logit -c(sigma) - log Z(x_k) - log q(sigma | x_k) (`TrajectoryBatch.segments`,
    `EpisodeBuffer.log_q`), log Z the same learned function of a state, now of each piece's
    first; `disc_batch` then counts pieces. The log-ratio between demonstrations and samples
    grows with the length of what is compared (several nats a step on MuJoCo), and over
    1000-step episodes it saturates the discriminator at its optimum (see the MuJoCo benchmark
    page). With a segment as long as the longest episode it is the whole-episode form exactly."""
    disc_lr: float = 3e-4
    """Adam learning rate of the discriminator (cost, reward network, log Z)."""
    disc_steps: int = 4
    """Discriminator updates per iteration."""
    disc_batch: int = 2048
    """AIRL, GAIL: transitions per side per update; GAN-GCL, GCL: episodes (with
    `segment_steps`: pieces) per side."""
    buffer_generators: int = 4
    """GAN-GCL, GCL: the generator snapshots whose episodes (and mixture density) form the
    buffer."""
    entropy_weight: float = 1.0
    """Entropy weight alpha of the generator, the only one: the generator maximises its reward
    minus alpha log pi. alpha = 1 makes its optimum exactly q ∝ exp(reward) (identity (c)); alpha
    < 1 aims it at a colder policy. The discriminator always uses the sampler's actual log pi, so
    its optimum does not depend on alpha. Leave `ppo.entropy_weight` at its default."""
    reward_scale: float = 1.0
    """The generator's reward and entropy weight are multiplied by this (1: the exact MaxEnt
    objective; any positive value has the same optimal policy up to the temperature)."""
    generator: Literal["ppo", "sac"] = "ppo"
    """The MaxEnt sampler: `irlgan.rl.MaxEntPPO` or `irlgan.rl.SoftActorCritic`. AIRL's shaping
    discount is this generator's gamma."""
    ppo: PPOConfig = field(default_factory=_ppo_config_factory)
    """`irlgan.rl.PPOConfig` of the PPO generator (`--set ppo.learning_rate=1e-3`)."""
    sac: SACConfig | None = None
    """`irlgan.rl.SACConfig` of the SAC generator (None: its defaults)."""
    anneal_lr: bool = False
    """Decay the generator's learning rates linearly to 0 over each `learn` call (the
    discriminator's rate is kept)."""
    bc_steps: int = 0
    """Behaviour-cloning warm start of the policy: Adam steps (rate 1e-3, 256 demonstrated
    transitions each) on -log pi(u|x) before training (0: none; off in every preset)."""
    policy_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the default policy's mean network."""
    normalize_obs: bool = False
    """The default policy scales the (finite) observation box onto [-1, 1]."""
    absorbing: bool = False
    """AIRL: an episode that terminates goes on in one absorbing state with a reward f_abs. The
    discriminator also compares how often each side is there (one absorbing transition per
    terminated episode, log pi taken as 0 there); f_abs is set at every update to that term's
    optimum, the log-ratio of the two sides' absorbing shares (`irlgan.algorithms.
    AbsorbingReward`). The generator's reward at a terminating step adds gamma / (1 - gamma)
    f_abs, the discounted value of staying (its return otherwise stops at the termination).
    Without it, on a task whose episodes end on failure (Hopper, Ant), a learned reward that is
    negative on the generator's steps makes ending the episode at once the best policy (after
    Kostrikov et al., ICLR 2019, "Discriminator-Actor-Critic")."""
    bound_action_margin: float = 1e-3
    """Demonstrated action components on the bounds of a squashed policy's action box (within
    1e-6 of the half-width), where it has no density, are moved this fraction of the half-width
    inside before training (0: kept, with a warning). Policies that clip their samples
    (stable-baselines3's PPO) record such actions; irlgan's own squashed policies do not."""

    def __post_init__(self) -> None:
        for name in ("num_envs", "steps_per_env", "disc_steps", "disc_batch",
                     "buffer_generators"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.segment_steps, bool) or not isinstance(self.segment_steps, int) or (
                self.segment_steps < 0):
            raise ValueError(f"segment_steps must be a non-negative integer (0: whole episodes), "
                             f"got {self.segment_steps!r}")
        if self.reward_obs is not None:
            bounds = tuple(self.reward_obs)
            if len(bounds) != 2 or any(isinstance(b, bool) or not isinstance(b, int)
                                       for b in bounds) or not 0 <= bounds[0] < bounds[1]:
                raise ValueError(f"reward_obs must be two integers start < stop, start >= 0 "
                                 f"(the observation components the reward sees), got "
                                 f"{self.reward_obs!r}")
            object.__setattr__(self, "reward_obs", (bounds[0], bounds[1]))
        if isinstance(self.bc_steps, bool) or not isinstance(self.bc_steps, int) or (
                self.bc_steps < 0):
            raise ValueError(f"bc_steps must be a non-negative integer, got {self.bc_steps!r}")
        if self.log_z not in ("initial_state", "scalar"):
            raise ValueError(f"log_z must be 'initial_state' or 'scalar', got {self.log_z!r}")
        if self.log_z_init not in ("zero", "solved"):
            raise ValueError(f"log_z_init must be 'zero' or 'solved', got {self.log_z_init!r}")
        if self.generator not in ("ppo", "sac"):
            raise ValueError(f"generator must be 'ppo' or 'sac', got {self.generator!r}")
        if not (math.isfinite(self.disc_lr) and self.disc_lr > 0):
            raise ValueError(f"disc_lr must be positive, got {self.disc_lr}")
        if not (math.isfinite(self.entropy_weight) and self.entropy_weight >= 0):
            raise ValueError(f"entropy_weight must be non-negative, got {self.entropy_weight}")
        if not (math.isfinite(self.bound_action_margin) and 0 <= self.bound_action_margin < 1):
            raise ValueError(f"bound_action_margin must be in [0, 1), got "
                             f"{self.bound_action_margin}")
        if not (math.isfinite(self.reward_scale) and self.reward_scale > 0):
            raise ValueError(f"reward_scale must be positive, got {self.reward_scale}")
        for name in ("hidden", "policy_hidden"):
            if any(isinstance(h, bool) or int(h) < 1 for h in getattr(self, name)):
                raise ValueError(f"{name} widths must be positive, got {getattr(self, name)}")
        default_alpha = _ppo_config_factory().entropy_weight
        ppo_alpha = getattr(self.ppo, "entropy_weight", default_alpha)
        if ppo_alpha != default_alpha:
            raise ValueError(
                f"the entropy weight is set twice: entropy_weight={self.entropy_weight} and "
                f"ppo.entropy_weight={ppo_alpha}; set only entropy_weight (the generator's "
                f"entropy weight in every algorithm)")

    @property
    def steps_per_iteration(self) -> int:
        """Environment steps per iteration, num_envs * steps_per_env."""
        return self.num_envs * self.steps_per_env

    @property
    def discount(self) -> float:
        """The generator's discount gamma (AIRL's shaping uses the same one)."""
        if self.generator == "sac" and self.sac is not None:
            return float(self.sac.gamma)
        if self.generator == "sac":
            return float(SACConfig().gamma)
        return float(self.ppo.gamma)


BOUND_TOLERANCE = 1e-6
"""A demonstrated action component within this fraction of the half-width of a bound is on it."""


def _bound_actions(policy: nn.Module, actions: Tensor, margin: float,
                   warn: bool = True) -> tuple[Tensor, float]:
    """Demonstrated actions [..., d_act] with the components on the bounds of a squashed policy's
    action box moved `margin` of the half-width inside, and the share of the steps that had one.

    A tanh-squashed policy has no density on the bounds: its `log_prob` moves such actions four
    machine epsilons inside, where log pi is tens of nats below anything it samples, so a
    discriminator that uses log pi (GAN-GCL, GCL, AIRL) tells those demonstrations apart by that
    term alone. A policy that clips its samples (stable-baselines3's PPO) records them. With
    `margin` 0 they are kept and a warning says how many there are.
    """
    center = getattr(policy, "action_center", None)
    scale = getattr(policy, "action_scale", None)
    if not isinstance(center, Tensor) or not isinstance(scale, Tensor) or actions.numel() == 0:
        return actions, 0.0
    center = center.to(actions.device, actions.dtype)
    scale = scale.to(actions.device, actions.dtype)
    unit = (actions - center) / scale
    on_bound = unit.abs() >= 1 - BOUND_TOLERANCE
    share = on_bound.any(dim=-1).double().mean().item()
    if share == 0:
        return actions, 0.0
    import warnings

    if margin == 0:
        if not warn:
            return actions, share
        warnings.warn(
            f"{100 * share:.1f}% of the demonstrated steps have an action on the bounds of "
            f"the action space, where the squashed policy has no density: a discriminator that "
            f"uses log pi (GAN-GCL, GCL, AIRL) separates them by log pi alone. Such actions come "
            f"from a policy that clips its actions; set bound_action_margin > 0 to move them "
            f"inside", UserWarning, stacklevel=3)
        return actions, share
    moved = torch.where(on_bound, center + unit.sign() * (1 - margin) * scale, actions)
    if not warn:
        return moved, share
    warnings.warn(
        f"{100 * share:.1f}% of the demonstrated steps have an action on the bounds of the "
        f"action space, where the squashed policy has no density; those components were moved "
        f"{margin:g} of the half-width inside (bound_action_margin)", UserWarning, stacklevel=3)
    return moved, share


@dataclass(frozen=True)
class Transitions:
    """Transitions seen by a per-step discriminator: obs [M, d_obs], act [M, d_act], next_obs
    [M, d_obs], terminated bool [M], and log_q [M], the current policy's log pi(act | obs)."""

    obs: Tensor
    act: Tensor
    next_obs: Tensor
    terminated: Tensor
    log_q: Tensor


@dataclass(frozen=True)
class Episodes:
    """Episodes seen by a trajectory discriminator and log_q [B], their log-density under the
    buffer's mixture of generator snapshots."""

    batch: TrajectoryBatch
    log_q: Tensor


@dataclass
class _Progress:
    iteration: int = 0
    env_steps: int = 0
    wall_s: float = 0.0
    times: dict[str, float] = field(
        default_factory=lambda: {"rollout": 0.0, "disc": 0.0, "gen": 0.0})


METRIC_FIELDS = [
    "iteration", "env_steps", "wall_s", "disc_loss", "disc_acc_data", "disc_acc_gen",
    "log_z", "gen_reward", "env_return", "gen_loss", "entropy", "time_rollout", "time_disc",
    "time_gen", "ess", "ess_fraction", "ess_gen", "log_z_gap", "ess_gen_solved",
    "log_push_pull", "log_pull", "absorbing_reward",
]
"""The columns of one row of metrics (`AdversarialTrainer.step`)."""


def _subset(n: int, size: int, generator: torch.Generator,
            device: torch.device | None = None) -> Tensor:
    """`size` indices into range(n) on `device`: a random permutation prefix (drawn from the
    CPU `generator`), or all of them if n <= size."""
    if n <= size:
        return torch.arange(n, device=device)
    return torch.randperm(n, generator=generator)[:size].to(device)


def behaviour_cloning(policy: nn.Module, obs: Tensor, act: Tensor, steps: int,
                      generator: torch.Generator, batch: int = 256, lr: float = 1e-3) -> float:
    """Fits `policy` to demonstrated (obs, act) pairs by maximum likelihood, in place.

    Returns:
        The mean negative log-likelihood of all the pairs after the last step.
    """
    opt = torch.optim.Adam(policy.parameters(), lr=lr)
    for _ in range(steps):
        index = torch.randint(0, obs.shape[0], (batch,), generator=generator).to(obs.device)
        loss = -policy.log_prob(obs[index], act[index]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(-policy.log_prob(obs, act).mean())


def _as_tensor(value: Any, name: str, width: int | None = None,
               device: torch.device | None = None) -> tuple[Tensor, bool]:
    """float32 tensor [B, width] (on `device`) from numpy / lists / tensors; also whether it was
    one row."""
    if isinstance(value, Tensor):
        value = value.detach().cpu()
    tensor = torch.as_tensor(np.asarray(value, dtype=np.float32))
    single = tensor.ndim <= 1 and width is not None and (tensor.ndim == 0 or
                                                         tensor.shape[0] == width)
    if single:
        tensor = tensor.reshape(1, -1)
    if width is not None and (tensor.ndim != 2 or tensor.shape[1] != width):
        raise ValueError(f"{name} must have shape [{width}] or [B, {width}], got "
                         f"{list(np.shape(value))}")
    return tensor.to(device), single


class TrainedParts:
    """What a trained algorithm uses at prediction time: shared by the trainer and the loaded
    model (`irlgan.load`).

    Subclasses set `algorithm` (the algorithm class), `policy`, `discriminator` and `config`.
    """

    algorithm: type[AdversarialTrainer]
    policy: nn.Module
    discriminator: nn.ModuleDict
    config: AdversarialConfig

    @property
    def device(self) -> torch.device:
        """Where the policy's parameters live (numpy inputs go there, outputs come back)."""
        return next(self.policy.parameters()).device

    @property
    def reward_kinds(self) -> tuple[str, ...]:
        """The rewards `reward` can return (the first is the default)."""
        return self.algorithm.reward_kinds

    def step_cost(self, obs: Tensor, act: Tensor) -> Tensor:
        """The learned per-step cost: the negative of the reward kind that is kept for transfer
        (`transfer_reward_kind`; GAN-GCL, GCL: c(x, u); AIRL: -g(x, u); GAIL: -logit).

        Torch tensors in and out, without gradient (for plots and comparisons with a true cost;
        `reward` is the numpy interface): [..., d_obs], [..., d_act] -> [...].
        """
        lead = obs.shape[:-1]
        flat_obs = obs.reshape(-1, obs.shape[-1])
        with torch.no_grad():
            value = self.algorithm.learned_reward(
                self.discriminator, flat_obs, act.reshape(-1, act.shape[-1]), flat_obs,
                torch.zeros(flat_obs.shape[0], dtype=torch.bool, device=flat_obs.device),
                self.algorithm.transfer_reward_kind)
        return -value.reshape(lead)

    def predict(self, obs: Any, deterministic: bool = True,
                generator: torch.Generator | None = None) -> np.ndarray:
        """The policy's action for one observation [d_obs] or a batch [B, d_obs] (numpy out).

        Args:
            obs: observation(s).
            deterministic: the mode (True) or a sample (False, from `generator`).
            generator: the torch generator of sampled actions (torch's global one when None).
        """
        tensor, single = _as_tensor(obs, "obs", int(self.policy.obs_dim), self.device)
        with torch.no_grad():
            if deterministic:
                act = self.policy.mode(tensor)
            else:
                act = self.policy.sample(tensor, generator=generator)[0]
        out = act.cpu().numpy().astype(np.float32)
        return out[0] if single else out

    def reward(self, obs: Any, act: Any, next_obs: Any, terminated: Any,
               kind: str | None = None) -> np.ndarray:
        """The learned reward of transitions (numpy in and out, one or a batch).

        Args:
            obs: [d_obs] or [B, d_obs]; act: [d_act] or [B, d_act]; next_obs like obs;
            terminated: a bool or bool [B].
            kind: one of `reward_kinds` (default: the first). See each algorithm's docstring.

        Returns:
            float32 scalar array or [B].
        """
        kind = self.reward_kinds[0] if kind is None else kind
        if kind not in self.reward_kinds:
            raise ValueError(f"{self.algorithm.name} has reward kinds {list(self.reward_kinds)}, "
                             f"not {kind!r}")
        device = self.device
        obs_t, single = _as_tensor(obs, "obs", int(self.policy.obs_dim), device)
        next_t, _ = _as_tensor(next_obs, "next_obs", int(self.policy.obs_dim), device)
        act_t, _ = _as_tensor(act, "act", int(self.policy.act_dim), device)
        if isinstance(terminated, Tensor):
            terminated = terminated.detach().cpu()
        term = torch.as_tensor(np.asarray(terminated, dtype=bool)).reshape(-1).to(device)
        if not (obs_t.shape[0] == act_t.shape[0] == next_t.shape[0] == term.shape[0]):
            raise ValueError(f"obs, act, next_obs and terminated must have the same batch size, "
                             f"got {obs_t.shape[0]}, {act_t.shape[0]}, {next_t.shape[0]}, "
                             f"{term.shape[0]}")
        with torch.no_grad():
            value = self.algorithm.learned_reward(self.discriminator, obs_t, act_t, next_t,
                                                  term, kind)
        out = value.detach().to(torch.float32).cpu().numpy()
        return out[0] if single else out


class AdversarialTrainer(TrainedParts):
    """The loop shared by every adversarial IRL algorithm; see the module docstring.

    Args:
        env: a registered gymnasium id or a zero-argument callable returning a new environment;
            observations and actions must be 1-D Boxes.
        demos: `irlgan.Demonstrations` recorded in that environment.
        generator: a `irlgan.protocols.Generator` training `policy` (default: from
            `config.generator`); when `policy` is not given, the generator's own policy.
        reward_net: the discriminator's learned function (GAN-GCL, GCL: the cost c(x, u), a
            `irlgan.protocols.Cost`; AIRL: f(x, u, x'), GAIL: the logit, `RewardNet`s); default
            MLPs of `config.hidden`.
        policy: a `irlgan.protocols.Policy` (default: a tanh-Gaussian MLP in the action box).
        config: the settings (`AdversarialConfig()` when None).
        seed: the run's seed; every stream is spawned from it (`seed_streams`).
        device: where the policy, the discriminator, the generator's networks and the
            demonstrations live ("cpu", the default, or "cuda[:N]"). Networks are initialised
            on the CPU and moved; a user's `policy` and `reward_net` are moved too (a user's
            `generator` must already hold its networks there). The environments step on the
            host, so each step moves one batch of observations and actions; random draws are
            made on the CPU (`_torch_generator`). A checkpoint resumes on either device.
    """

    name: ClassVar[str] = ""
    """The command-line name."""
    discriminates: ClassVar[Literal["transitions", "episodes"]] = "transitions"
    """What the discriminator compares."""
    reward_kinds: ClassVar[tuple[str, ...]] = ()
    """The learned rewards `reward` offers; the first is the generator's and the default."""
    reward_net_protocol: ClassVar[type] = RewardNet
    """The protocol a user's `reward_net` must satisfy."""
    entropy_in_reward: ClassVar[bool] = False
    """The generator's reward already holds -alpha log pi (AIRL: its logit f - log pi, scored
    with the discriminator's log pi), so the generator adds no entropy term of its own."""
    transfer_reward_kind: ClassVar[str] = ""
    """The reward kind to keep for a learner in changed dynamics (default: the first kind)."""
    supports_absorbing: ClassVar[bool] = False
    """`AdversarialConfig.absorbing` is implemented (AIRL)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.reward_kinds and not cls.transfer_reward_kind:
            cls.transfer_reward_kind = cls.reward_kinds[0]

    def __init__(self, env: Any, demos: Any, *, generator: Any = None, reward_net: Any = None,
                 policy: Any = None, config: AdversarialConfig | None = None, seed: int = 0,
                 device: str | torch.device = "cpu") -> None:
        from irlgan.data import Demonstrations
        from irlgan.rl import RolloutCollector, VecEnv, make_policy

        if type(self) is AdversarialTrainer or not self.name:
            raise TypeError("AdversarialTrainer is a base class: use irlgan.AIRL, GANGCL, GCL "
                            "or GAIL")
        self._device = resolve_device(device)
        config = AdversarialConfig() if config is None else config
        if not isinstance(config, AdversarialConfig):
            raise ValueError(f"config must be an irlgan.AdversarialConfig, got "
                             f"{type(config).__name__}")
        if not isinstance(demos, Demonstrations):
            raise ValueError(f"demos must be irlgan.Demonstrations (see "
                             f"Demonstrations.from_arrays / .load), got {type(demos).__name__}")
        if config.absorbing and not self.supports_absorbing:
            raise ValueError(f"absorbing=True is implemented for AIRL only, not "
                             f"{type(self).__name__}")
        if config.segment_steps and self.discriminates != "episodes":
            raise ValueError(f"segment_steps={config.segment_steps} applies to the episode "
                             f"discriminators (GAN-GCL, GCL), not {type(self).__name__}")
        if config.absorbing and not config.discount < 1:
            raise ValueError(f"absorbing=True needs a discount below 1 (the absorbing state's "
                             f"value is f_abs / (1 - gamma)), got {config.discount}")
        self.config = config
        self.seed = int(seed)
        self.streams = seed_streams(self.seed)
        self.algorithm = type(self)
        self.vec_env = VecEnv(env, config.num_envs)
        self.env_name = str(getattr(self.vec_env, "env_id", env))
        self.observation_space = self.vec_env.observation_space
        self.action_space = self.vec_env.action_space
        obs_dim, act_dim = self.vec_env.obs_dim, self.vec_env.act_dim
        demos.check_spaces(self.observation_space, self.action_space)
        self.demos = demos
        dev = self.device
        obs, act, mask, term = (t.to(dev) for t in demos.padded())
        self.demo_episodes = TrajectoryBatch(obs, act, mask, term)
        self.demo_transitions = tuple(t.to(dev) for t in demos.transitions())

        if policy is None and generator is not None:
            policy = getattr(generator, "policy", None)  # the generator's own policy
        self.custom = {"policy": policy is not None, "reward_net": reward_net is not None,
                       "generator": generator is not None}
        if policy is None:
            policy = make_policy(self.observation_space, self.action_space,
                                 hidden=config.policy_hidden,
                                 generator=_torch_generator(self.streams["policy_init"]),
                                 normalize_obs=config.normalize_obs)
        check_protocol(policy, Policy, "policy")
        policy.to(dev)
        if (int(policy.obs_dim), int(policy.act_dim)) != (obs_dim, act_dim):
            raise ValueError(f"policy has obs_dim/act_dim {policy.obs_dim}/{policy.act_dim}, "
                             f"the environment {obs_dim}/{act_dim}")
        self.policy = policy
        # demonstrated actions on a squashed policy's bounds, moved inside (see
        # AdversarialConfig.bound_action_margin); the share of the steps with one is kept
        margin = config.bound_action_margin
        moved, self.demo_actions_on_bounds = _bound_actions(policy, self.demo_transitions[1],
                                                            margin)
        if moved is not self.demo_transitions[1]:
            self.demo_transitions = (self.demo_transitions[0], moved, *self.demo_transitions[2:])
            act, _ = _bound_actions(policy, self.demo_episodes.act, margin, warn=False)
            self.demo_episodes = TrajectoryBatch(obs, act, mask, term)
        self._demo_pieces: tuple[TrajectoryBatch, Tensor] | None = None
        """`demo_episodes.segments(config.segment_steps)`, made at the first use."""
        self.bc_nll = math.nan
        if config.bc_steps:
            self.bc_nll = behaviour_cloning(policy, *self.demo_transitions[:2], config.bc_steps,
                                            _torch_generator(self.streams["bc"]))
        if reward_net is not None and config.reward_obs is not None:
            raise ValueError(f"reward_obs={list(config.reward_obs)} selects the inputs of the "
                             f"default discriminator networks; a reward_net chooses its own")
        if config.reward_obs is not None and config.reward_obs[1] > obs_dim:
            raise ValueError(f"reward_obs={list(config.reward_obs)} reaches past the "
                             f"observation width {obs_dim}")
        if reward_net is not None:
            check_protocol(reward_net, self.reward_net_protocol, "reward_net")
        self.discriminator = self.build_discriminator(
            obs_dim, act_dim, config, reward_net,
            _torch_generator(self.streams["discriminator_init"])).to(dev)
        params = [p for p in self.discriminator.parameters() if p.requires_grad]
        self.disc_opt = torch.optim.Adam(params, lr=config.disc_lr)
        self.collector = RolloutCollector(self.vec_env, policy, config.steps_per_env,
                                          self.streams["collector"] % 2**32)
        self.generator = generator if generator is not None else self._default_generator()
        check_protocol(self.generator, Generator, "generator")
        if self.generator.policy is not policy:
            raise ValueError("generator.policy must be the policy the algorithm trains (pass the "
                             "same object as policy=)")
        self.disc_gen = _torch_generator(self.streams["discriminator"])
        self.buffer = None
        if self.discriminates == "episodes":
            from irlgan.algorithms._episodes import EpisodeBuffer

            self.buffer = EpisodeBuffer(config.num_envs, config.steps_per_env,
                                        config.buffer_generators)
        self.progress = _Progress()
        self.logger: Any = None
        """The `irlgan.loggers.Logger` set by `learn(..., logger=...)`, or None."""
        self.resume_mode = "none"
        self._horizon_iterations: int | None = None
        self.last_log_z = math.nan
        self.absorbing_counts = (0.0, 0.0, 0.0, 0.0)
        """(absorbing, ordinary) transitions of the demonstrations, then of the generator's
        rollout, in the last discriminator update (one absorbing transition per termination)."""

    @property
    def absorbing_shares(self) -> tuple[float, float]:
        """The absorbing state's share of the demonstrated and of the generated transitions in
        the last discriminator update (`AdversarialConfig.absorbing`), from `absorbing_counts`."""
        n_abs_d, n_d, n_abs_g, n_g = self.absorbing_counts
        return (n_abs_d / (n_d + n_abs_d) if n_d + n_abs_d else 0.0,
                n_abs_g / (n_g + n_abs_g) if n_g + n_abs_g else 0.0)

    @property
    def device(self) -> torch.device:
        """Where the networks and the demonstrations live."""
        return self._device

    # ------------------------------------------------------------------------------------------
    # What an algorithm implements
    # ------------------------------------------------------------------------------------------

    @classmethod
    def build_discriminator(cls, obs_dim: int, act_dim: int, config: AdversarialConfig,
                            reward_net: nn.Module | None,
                            generator: torch.Generator | None) -> nn.ModuleDict:
        """The discriminator's modules (the user's `reward_net` in place of the default one).

        Must not depend on anything but its arguments: `irlgan.load` rebuilds them this way.
        """
        raise NotImplementedError

    def discriminator_loss(self, data: Any, gen: Any) -> tuple[Tensor, Tensor, Tensor,
                                                                dict[str, float]]:
        """(loss, logit at data [N], logit at samples [M], extra metrics) for one minibatch of
        `Transitions` or `Episodes`."""
        raise NotImplementedError

    @classmethod
    def learned_reward(cls, modules: nn.ModuleDict, obs: Tensor, act: Tensor, next_obs: Tensor,
                       terminated: Tensor, kind: str) -> Tensor:
        """The learned reward of the given kind for transitions [M, ...] -> [M]."""
        raise NotImplementedError

    def before_first_discriminator_step(self, data: Any, gen: Any) -> None:
        """Called once, before the discriminator's first step, with all the demonstrations and
        samples of that iteration (`Transitions` or `Episodes`); nothing by default."""

    # ------------------------------------------------------------------------------------------
    # Construction helpers
    # ------------------------------------------------------------------------------------------

    def _default_generator(self) -> Any:
        from irlgan.rl import MaxEntPPO

        if self.config.generator == "sac":
            from irlgan.rl import SACConfig, SoftActorCritic

            return SoftActorCritic(self.policy, self.vec_env.obs_dim, self.vec_env.act_dim,
                                   self.config.sac or SACConfig(),
                                   _torch_generator(self.streams["generator"]))
        return MaxEntPPO(self.policy, self.vec_env.obs_dim, self.config.ppo,
                         _torch_generator(self.streams["generator"]))

    def _snapshot(self) -> nn.Module:
        snap = copy.deepcopy(self.policy)
        for p in snap.parameters():
            p.requires_grad_(False)
        return snap

    # ------------------------------------------------------------------------------------------
    # One iteration
    # ------------------------------------------------------------------------------------------

    def _disc_transitions(self, rollout: Any) -> dict[str, float]:
        d_obs, d_act, d_next, d_term = self.demo_transitions
        g_obs = rollout.obs.reshape(-1, rollout.obs.shape[-1])
        g_act = rollout.actions.reshape(-1, rollout.actions.shape[-1])
        g_next = rollout.next_obs.reshape(-1, rollout.next_obs.shape[-1])
        g_term = rollout.terminated.reshape(-1)
        # the absorbing state's share of each side (one absorbing transition per termination)
        n_abs_d, n_abs_g = float(d_term.sum()), float(g_term.sum())
        self.absorbing_counts = (n_abs_d, float(d_obs.shape[0]), n_abs_g, float(g_obs.shape[0]))
        absorbing = (self.discriminator["absorbing"]
                     if isinstance(self.discriminator, nn.ModuleDict)
                     and "absorbing" in self.discriminator else None)
        if absorbing is not None:  # its optimum is known: set, not trained
            absorbing.set_from_counts(*self.absorbing_counts)
        with torch.no_grad():  # the generator is fixed during the discriminator's steps
            lp_d = self.policy.log_prob(d_obs, d_act)
            lp_g = self.policy.log_prob(g_obs, g_act)
        return self._disc_steps(
            d_obs.shape[0], g_obs.shape[0],
            lambda i: Transitions(d_obs[i], d_act[i], d_next[i], d_term[i], lp_d[i]),
            lambda i: Transitions(g_obs[i], g_act[i], g_next[i], g_term[i], lp_g[i]))

    def _disc_episodes(self, rollout: Any) -> dict[str, float]:
        self.buffer.add_rollout(self._snapshot(), rollout.obs, rollout.actions, rollout.next_obs,
                                rollout.terminated, rollout.truncated)
        if len(self.buffer) == 0:
            return {}
        gen_all = self.buffer.samples()
        if self.config.segment_steps:  # L-step pieces of the episodes, each with its log q
            length = self.config.segment_steps
            lq_g = self.buffer.log_q(gen_all, length).reshape(-1)
            lq_d = self.buffer.log_q(self.demo_episodes, length).reshape(-1)
            gen_all, keep_g = gen_all.segments(length)
            if self._demo_pieces is None:  # the demonstrations never change: cut them once
                self._demo_pieces = self.demo_episodes.segments(length)
            demos, keep_d = self._demo_pieces
            lq_g, lq_d = lq_g[keep_g], lq_d[keep_d]
        else:
            lq_g = self.buffer.log_q(gen_all)
            lq_d = self.buffer.log_q(self.demo_episodes)
            demos = self.demo_episodes
        return self._disc_steps(len(demos), len(gen_all),
                                lambda i: Episodes(demos.select(i), lq_d[i]),
                                lambda i: Episodes(gen_all.select(i), lq_g[i]))

    def _disc_steps(self, n_data: int, n_gen: int, data_at: Callable[[Tensor], Any],
                    gen_at: Callable[[Tensor], Any]) -> dict[str, float]:
        cfg = self.config
        stats: dict[str, float] = {}
        if not self.disc_opt.state:  # its first step ever (the state is checkpointed with it)
            every_d = torch.arange(n_data, device=self.device)
            every_g = torch.arange(n_gen, device=self.device)
            self.before_first_discriminator_step(data_at(every_d), gen_at(every_g))
        for _ in range(cfg.disc_steps):
            i_d = _subset(n_data, cfg.disc_batch, self.disc_gen, self.device)
            i_g = _subset(n_gen, cfg.disc_batch, self.disc_gen, self.device)
            loss, logit_d, logit_g, extra = self.discriminator_loss(data_at(i_d), gen_at(i_g))
            check_divergence(self.progress.iteration + 1, [
                ("the discriminator loss", loss, VALUE_LIMIT, self._disc_cause())])
            self.disc_opt.zero_grad()
            loss.backward()
            self.disc_opt.step()
            stats = {"disc_loss": float(loss.detach()),
                     "disc_acc_data": float((logit_d.detach() > 0).float().mean()),
                     "disc_acc_gen": float((logit_g.detach() < 0).float().mean()), **extra}
        if "log_z" in stats:
            self.last_log_z = stats["log_z"]
        return stats

    def generator_reward(self, obs: Tensor, act: Tensor, next_obs: Tensor,
                         terminated: Tensor) -> Tensor:
        r"""The generator's per-step reward (no gradient): the first of `reward_kinds`, times
        `reward_scale`; with `entropy_in_reward` (AIRL) also $-\alpha\log\pi(u \mid x)$ under the
        current policy, the same $\log\pi$ as the discriminator's. Shapes [..., d] -> [...]."""
        lead = obs.shape[:-1]
        flat_obs, flat_act = obs.reshape(-1, obs.shape[-1]), act.reshape(-1, act.shape[-1])
        with torch.no_grad():
            value = self.learned_reward(
                self.discriminator, flat_obs, flat_act, next_obs.reshape(-1, next_obs.shape[-1]),
                terminated.reshape(-1), self.reward_kinds[0])
            if self.entropy_in_reward:
                log_pi = self.policy.log_prob(flat_obs.to(torch.float32), flat_act)
                value = value - self.config.entropy_weight * log_pi.to(value.dtype)
        return (value.to(torch.float32) * self.config.reward_scale).reshape(lead)

    @property
    def generator_entropy_weight(self) -> float:
        """The entropy weight the generator adds itself: 0 when it is in the reward."""
        if self.entropy_in_reward:
            return 0.0
        return self.config.entropy_weight * self.config.reward_scale

    def step(self) -> dict[str, float]:
        """Runs one iteration (rollout, discriminator, generator); returns its metrics row. On
        a GPU the losses skip their value checks (`irlgan.losses.set_checks`); the divergence
        checks of each discriminator step and of the iteration see any non-finite value."""
        with losses.checks_for(self.device):
            return self._step()

    def _step(self) -> dict[str, float]:
        cfg, prog = self.config, self.progress
        t0 = time.perf_counter()
        rollout = self.collector.collect()
        t1 = time.perf_counter()
        if self.discriminates == "episodes":
            stats = self._disc_episodes(rollout)
        else:
            stats = self._disc_transitions(rollout)
        t2 = time.perf_counter()
        if cfg.anneal_lr and self._horizon_iterations:
            self.generator.set_learning_rate_fraction(
                lr_fraction("linear", prog.iteration, self._horizon_iterations))
        gen_stats = self.generator.learn_from(rollout, self.generator_reward,
                                              self.generator_entropy_weight)
        t3 = time.perf_counter()
        with torch.no_grad():
            mean_reward = float(self.generator_reward(rollout.obs, rollout.actions,
                                                      rollout.next_obs, rollout.terminated).mean())
        self._check_divergence(stats, gen_stats, mean_reward)
        prog.iteration += 1
        prog.env_steps += rollout.num_steps
        prog.times["rollout"] += t1 - t0
        prog.times["disc"] += t2 - t1
        prog.times["gen"] += t3 - t2
        prog.wall_s += t3 - t0
        returns = rollout.episode_returns
        return {
            "iteration": prog.iteration, "env_steps": prog.env_steps,
            "wall_s": round(prog.wall_s, 3),
            "disc_loss": stats.get("disc_loss", math.nan),
            "disc_acc_data": stats.get("disc_acc_data", math.nan),
            "disc_acc_gen": stats.get("disc_acc_gen", math.nan),
            "log_z": stats.get("log_z", math.nan),
            "ess": stats.get("ess", math.nan),
            "ess_fraction": stats.get("ess_fraction", math.nan),
            "ess_gen": stats.get("ess_gen", math.nan),
            "log_z_gap": stats.get("log_z_gap", math.nan),
            "ess_gen_solved": stats.get("ess_gen_solved", math.nan),
            "log_push_pull": stats.get("log_push_pull", math.nan),
            "log_pull": stats.get("log_pull", math.nan),
            "absorbing_reward": stats.get("absorbing_reward", math.nan),
            "gen_reward": mean_reward,
            "env_return": float(returns.mean()) if returns.numel() else math.nan,
            "gen_loss": float(gen_stats.get("policy_loss", math.nan)),
            "entropy": float(gen_stats.get("entropy", math.nan)),
            "time_rollout": round(prog.times["rollout"], 3),
            "time_disc": round(prog.times["disc"], 3), "time_gen": round(prog.times["gen"], 3),
        }

    def _disc_cause(self) -> str:
        cfg = self.config
        return (f"the discriminator's learning rate (disc_lr = {cfg.disc_lr:g}) or the reward "
                f"scale (reward_scale = {cfg.reward_scale:g}); lower them")

    def _generator_cause(self) -> str:
        if self.custom["generator"]:
            return f"the settings of the generator passed in ({type(self.generator).__name__})"
        if self.config.generator == "sac":
            from irlgan.rl import SACConfig

            sac = self.config.sac or SACConfig()
            return (f"the generator's learning rate (sac.learning_rate = "
                    f"{sac.learning_rate:g}); lower it")
        return (f"the generator's learning rate (ppo.learning_rate = "
                f"{self.config.ppo.learning_rate:g}); lower it")

    def _check_divergence(self, disc_stats: dict[str, float], gen_stats: dict[str, Any],
                          mean_reward: float) -> None:
        """DivergenceError if a loss, a parameter or the reward is non-finite or exploding,
        before the iteration is counted (so no checkpoint holds it)."""
        disc, gen = self._disc_cause(), self._generator_cause()
        # a generator that took no step yet (SAC before learning_starts) reports a NaN loss
        gen_loss = gen_stats.get("policy_loss") if gen_stats.get("updates", 1) else None
        check_divergence(self.progress.iteration + 1, [
            ("the discriminator loss", disc_stats.get("disc_loss"), VALUE_LIMIT, disc),
            ("a discriminator parameter", self.discriminator.parameters(), PARAMETER_LIMIT,
             disc),
            ("a policy parameter", self.policy.parameters(), PARAMETER_LIMIT, gen),
            ("the generator's loss", gen_loss, VALUE_LIMIT, gen),
            ("the mean learned reward", mean_reward, VALUE_LIMIT, disc),
        ])

    # ------------------------------------------------------------------------------------------
    # The public surface
    # ------------------------------------------------------------------------------------------

    @property
    def env_steps(self) -> int:
        """Environment steps taken so far."""
        return self.progress.env_steps

    def learn(self, total_steps: int, *, callback: Callable[[Any, dict], Any] | None = None,
              progress: bool = False, logger: Any = None) -> AdversarialTrainer:
        """Trains for `total_steps` more environment steps (whole iterations; may be called
        again, and continues where it stopped).

        Args:
            total_steps: environment steps of this call (rounded up to whole iterations).
            callback: called as ``callback(algo, metrics)`` after every iteration; returning
                False stops training.
            progress: show a progress bar.
            logger: an `irlgan.loggers.Logger` (such as `TensorBoardLogger`) that receives each
                iteration's metrics under namespaced names at the environment step; it stays
                set as ``algo.logger``, where callbacks reach it (None keeps the current one).

        Returns:
            self.
        """
        if isinstance(total_steps, bool) or not isinstance(total_steps, int | np.integer) or (
                total_steps < 1):
            raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
        return self.train_until(self.env_steps + int(total_steps), callback=callback,
                                progress=progress, logger=logger)

    def train_until(self, target_steps: int, *,
                    callback: Callable[[Any, dict], Any] | None = None,
                    progress: bool = False, logger: Any = None) -> AdversarialTrainer:
        """Trains until at least `target_steps` environment steps in all (the run folder's loop
        uses this so that a resumed run keeps the same learning-rate schedule)."""
        from irlgan.loggers import Logger, namespaced

        if logger is not None:
            if not isinstance(logger, Logger):
                raise ValueError(f"logger must have log(metrics, step), flush() and close(), "
                                 f"got {type(logger).__name__}")
            self.logger = logger
        per = self.config.steps_per_iteration
        target_iterations = -(-int(target_steps) // per)
        self._horizon_iterations = target_iterations

        def after(row: dict[str, Any]) -> Any:
            if self.logger is not None:
                self.logger.log(namespaced(row), step=self.progress.env_steps)
            return None if callback is None else callback(self, row)

        run_iterations(self.step, start=self.progress.iteration, total=target_iterations,
                       callback=after,
                       progress=progress, desc=self.name,
                       postfix=lambda row: {"ret": f"{row['env_return']:.1f}",
                                            "acc": f"{row['disc_acc_gen']:.2f}"})
        return self

    def save(self, path: Any) -> Any:
        """Writes the trained policy and discriminator to the file `path` (read by
        `irlgan.load`); no pickled objects, only tensors and plain data."""
        from irlgan._model import save_model

        return save_model(self, path)

    def close(self) -> None:
        """Closes the environments."""
        self.vec_env.close()

    # ------------------------------------------------------------------------------------------
    # Checkpoints
    # ------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The complete training state (weights_only-safe)."""
        prog = self.progress
        return {
            "algorithm": self.name, "seed": self.seed, "streams": dict(self.streams),
            "iteration": prog.iteration, "env_steps": prog.env_steps, "wall_s": prog.wall_s,
            "times": dict(prog.times), "last_log_z": self.last_log_z,
            "policy": self.policy.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "disc_opt": self.disc_opt.state_dict(),
            "generator": self.generator.state_dict(),
            "collector": self.collector.state_dict(),
            "disc_gen": self.disc_gen.get_state(),
            "buffer": None if self.buffer is None else self.buffer.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()` output. Where the environments' state could not be captured,
        training continues from fresh episodes and `resume_mode` says so."""
        if not isinstance(state, dict) or state.get("algorithm") != self.name:
            found = state.get("algorithm") if isinstance(state, dict) else None
            raise CheckpointError(f"the state was written by a {found!r} run, this is a "
                                  f"{self.name!r} run")
        if state.get("seed") != self.seed:
            raise CheckpointError(f"the state was trained with seed {state.get('seed')}, this "
                                  f"run has seed {self.seed}")
        try:
            self._load_state(state)
        except CheckpointError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
            text = str(error).strip().splitlines()
            raise CheckpointError(
                f"the state does not fit this {self.name} run (other network sizes or "
                f"settings): {type(error).__name__}: {text[0] if text else ''}") from error

    def _load_state(self, state: dict[str, Any]) -> None:
        self.progress = _Progress(int(state["iteration"]), int(state["env_steps"]),
                                  float(state["wall_s"]), dict(state["times"]))
        self.last_log_z = float(state["last_log_z"])
        self.policy.load_state_dict(state["policy"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.disc_opt.load_state_dict(state["disc_opt"])
        self.generator.load_state_dict(state["generator"])
        self.collector.load_state_dict(state["collector"])
        self.disc_gen.set_state(state["disc_gen"])
        exact = bool(getattr(self.collector, "resumed_exactly", True))
        if self.buffer is not None and state["buffer"] is not None:
            self.buffer.load_state_dict(state["buffer"], self._snapshot, self.device)
            if not exact:
                self.buffer.discard_unfinished()
        self.resume_mode = "exact" if exact else "episode_boundary"
