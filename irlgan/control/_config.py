"""Settings of an adversarial IRL run on a control task."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["ControlConfig", "default_config"]

Algorithm = Literal["gan-gcl", "gcl", "airl"]


@dataclass(frozen=True)
class ControlConfig:
    """Settings of a GAN-GCL, GCL or AIRL run on a gymnasium control task."""

    algorithm: Algorithm = "airl"
    """`gan-gcl` (trajectory discriminator), `gcl` (importance sampling) or `airl` (per step)."""
    env_id: str = "Pendulum-v1"
    """The gymnasium id of the task."""
    total_steps: int = 500_000
    """Environment steps of the generator over the whole run."""
    num_envs: int = 16
    """Parallel environments of the generator's rollouts."""
    steps_per_env: int = 200
    """Rollout length per environment and iteration (env steps per iteration: the product)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the cost (and of AIRL's g and h)."""
    state_only: bool = False
    """Cost c(x) (or AIRL's g(x)) instead of c(x, u)."""
    log_z: Literal["initial_state", "scalar"] = "initial_state"
    """GAN-GCL/GCL: a learned log Z(x_0) (exact with random starts) or a scalar."""
    gamma: float = 0.99
    """Discount of AIRL's shaping term (the generator's discount is the PPO setting)."""
    disc_lr: float = 3e-4
    """Adam learning rate of the cost / discriminator (and of log Z)."""
    disc_steps: int = 4
    """Discriminator updates per iteration."""
    disc_batch: int = 2048
    """AIRL: transitions per side per update; GAN-GCL/GCL: episodes per side per update."""
    buffer_generators: int = 4
    """GAN-GCL/GCL: recent generators whose episodes (and mixture density) form the buffer."""
    entropy_weight: float = 1.0
    """Entropy weight α of the generator: GAN-GCL/GCL give MaxEnt PPO the reward -c with entropy
    weight α; AIRL gives it f - α log π with entropy weight 0 (α = 1: the discriminator's logit).
    α = 1 makes the generator's optimum exactly q ∝ exp(-c); α < 1 aims it at the colder
    exp(-c/α). The discriminator's logit keeps the sampler's actual log q (log π), so its optimum
    (-c - log Z = log p_data) and hence the learned cost do not depend on α."""
    reward_scale: float = 1.0
    """The generator's reward is multiplied by this (1 keeps the MaxEnt objective exact)."""
    ppo: str = ""
    """Overrides of irlgan.rl.PPOConfig as "key=value,key=value"."""
    anneal_lr: bool = False
    """Decay the generator's (PPO's) learning rates linearly to 0 over the run, as the experts'
    training does (`irlgan.rl.ExpertConfig.anneal_lr`); the discriminator's rate is kept."""
    bc_steps: int = 0
    """Behaviour-cloning warm start of the generator: Adam steps (rate 1e-3, 256 demonstrated
    transitions each) on -log pi(u|x) of the demonstrations before training (0: none). Not part
    of the paper's method and off in every default: on MountainCarContinuous (seed 0, 2000
    steps) the cloned generator starts at the expert's return but, with entropy weight 1, AIRL
    and GAN-GCL still drift away from it (normalised 0.259 and -0.446); with weight 0.1 they
    succeed with or without it (0.971 / 0.987 with, 1.013 / 1.017 without)."""
    checkpoint_every: int = 5
    """Iterations between checkpoints (and one at the end)."""
    eval_episodes: int = 50
    """Evaluation episodes on held-out reset seeds (at least 20)."""
    seed: int = 0
    """Seed of every generator of the run."""

    def __post_init__(self) -> None:
        if self.algorithm not in ("gan-gcl", "gcl", "airl"):
            raise ValueError(f"algorithm must be gan-gcl, gcl or airl, got {self.algorithm!r}")
        if self.log_z not in ("initial_state", "scalar"):
            raise ValueError(f"log_z must be 'initial_state' or 'scalar', got {self.log_z!r}")
        for name in ("total_steps", "num_envs", "steps_per_env", "disc_steps", "disc_batch",
                     "buffer_generators", "checkpoint_every", "eval_episodes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.bc_steps, bool) or not isinstance(self.bc_steps, int) or (
                self.bc_steps < 0):
            raise ValueError(f"bc_steps must be a non-negative integer, got {self.bc_steps!r}")
        if self.eval_episodes < 20:
            raise ValueError(f"eval_episodes must be at least 20, got {self.eval_episodes}")
        if not (math.isfinite(self.disc_lr) and self.disc_lr > 0):
            raise ValueError(f"disc_lr must be positive, got {self.disc_lr}")
        if not 0 <= self.gamma <= 1:
            raise ValueError(f"gamma must be in [0, 1], got {self.gamma}")
        if not (math.isfinite(self.entropy_weight) and self.entropy_weight >= 0):
            raise ValueError(f"entropy_weight must be non-negative, got {self.entropy_weight}")
        if not (math.isfinite(self.reward_scale) and self.reward_scale > 0):
            raise ValueError(f"reward_scale must be positive, got {self.reward_scale}")
        if any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden widths must be positive, got {self.hidden}")

    @property
    def steps_per_iteration(self) -> int:
        """Environment steps per iteration, num_envs * steps_per_env."""
        return self.num_envs * self.steps_per_env

    @property
    def iterations(self) -> int:
        """Iterations of the run, ceil(total_steps / steps_per_iteration)."""
        return -(-self.total_steps // self.steps_per_iteration)


def default_config(algorithm: str, env_id: str) -> ControlConfig:
    """The built-in settings per task (tuned on this project's machine).

    Pendulum AIRL uses the Pendulum expert's PPO settings (`irlgan.rl.default_expert_config`:
    16 envs x 64 steps, gamma 0.95, minibatches of 256, learning rate 1e-3 decayed linearly to
    0); with entropy weight 1 the decay moved the 3-seed mean normalised return from 0.924
    (step 5e-4, no decay) to 0.928 and made the seeds agree (benchmarks/results/
    control_pendulum.txt and docs/benchmarks/control.md hold every setting measured).

    Pendulum GAN-GCL and AIRL use a generator entropy weight of 0.1 instead of 1 (a colder
    sampler of the same learned cost, see `ControlConfig.entropy_weight`): with weight 1 the
    GAN-GCL generator stayed near its initial spread once the trajectory discriminator
    saturated, and the AIRL generator needed extra swings to raise the pendulum.

    PointMass GAN-GCL uses entropy weight 0.3 (seeds 0/1/2 normalised return 0.678/0.518/0.934
    at weight 1, 0.990/0.995/0.992 at 0.3; 0.1 sent seed 1 to -1.33). PointMass AIRL takes 2
    discriminator steps per iteration instead of 4, over 150k steps instead of 100k: with 4
    steps seed 1's g(x) dropped to its global minimum in the unvisited corner (-3, -3), and a
    fresh policy trained on that cost alone went there (normalised return -0.49); with 2 steps
    the fresh policies reach 0.959/0.969/0.970 and the extra steps give the slower
    discriminator's generator time to reach 0.962/0.969/0.951 (0.926/0.963/0.944 at 100k).

    MountainCarContinuous GAN-GCL and AIRL use entropy weight 0.1: with weight 1 both learned to
    stand still (seed 0 normalised return 0.264 / 0.262), with 0.1 they drive up the hill
    (seed 0: 1.017 / 1.013).
    """
    if env_id == "irlgan/PointMass-v0":
        return ControlConfig(
            algorithm=algorithm, env_id=env_id,
            total_steps=150_000 if algorithm == "airl" else 100_000, num_envs=16,
            steps_per_env=50, state_only=True, gamma=0.95,
            disc_lr=1e-3 if algorithm == "airl" else 3e-3,
            disc_steps=2 if algorithm == "airl" else 10,
            entropy_weight=0.3 if algorithm == "gan-gcl" else 1.0,
            ppo="gamma=0.95,learning_rate=3e-3,minibatch_size=256")
    if env_id == "MountainCarContinuous-v0":
        return ControlConfig(algorithm=algorithm, env_id=env_id, total_steps=500_000,
                             num_envs=16, steps_per_env=250, state_only=True, gamma=0.99,
                             entropy_weight=0.1)
    if env_id == "Pendulum-v1":
        if algorithm == "airl":
            return ControlConfig(
                algorithm=algorithm, env_id=env_id, total_steps=500_000, num_envs=16,
                steps_per_env=64, state_only=True, gamma=0.95, disc_lr=3e-4, disc_steps=2,
                disc_batch=1024, anneal_lr=True, entropy_weight=0.1,
                ppo="gamma=0.95,minibatch_size=256,learning_rate=1e-3")
        return ControlConfig(
            algorithm=algorithm, env_id=env_id, total_steps=500_000, num_envs=16,
            steps_per_env=200, state_only=True, disc_lr=3e-3, disc_steps=10,
            entropy_weight=0.1 if algorithm == "gan-gcl" else 1.0,
            ppo="gamma=0.95,minibatch_size=256")
    return ControlConfig(algorithm=algorithm, env_id=env_id)
