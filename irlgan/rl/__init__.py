"""Maximum-entropy reinforcement learning: rollouts, the MaxEnt PPO generator, experts, metrics.

- `make_vec_env`, `VecEnv`: environments stepped side by side, checkpointable; `env_factory`
  takes a gymnasium id or a factory callable; `capture_env_state` / `restore_env_state`.
- `RolloutCollector`, `Rollout`: on-policy experience as [T, E, ...] tensors.
- `PPOConfig`, `MaxEntPPO`: the generator step, PPO on the soft reward r - alpha log pi.
- `SACConfig`, `SoftActorCritic`: the off-policy generator, soft actor-critic with a fixed
  entropy weight and reward relabelling.
- `evaluate_policy`, `random_returns`, `normalized_return`: returns on held-out reset seeds
  (from `EVAL_SEED_BASE`), and the expert = 1 / random = 0 scale.
- `train_expert`, `ExpertConfig`, `default_expert_config`, `make_policy`: experts on the true
  reward; `save_policy` / `load_policy`; `generate_demonstrations` writes the continuous
  demonstrations of `irlgan.data`. `irlgan.rl.commands.expert` is the `irlgan expert` command.
"""

from irlgan.rl._demos import generate_demonstrations
from irlgan.rl._env_state import capture_env_state, restore_env_state
from irlgan.rl._evaluate import (
    EVAL_EPISODES,
    evaluate_policy,
    normalized_return,
    random_returns,
)
from irlgan.rl._expert import (
    EXPERT_POLICY_KIND,
    ExpertConfig,
    ExpertResult,
    default_expert_config,
    expert_config_to_dict,
    load_policy,
    make_policy,
    save_policy,
    train_expert,
)
from irlgan.rl._ppo import MaxEntPPO, PPOConfig, RunningMeanStd
from irlgan.rl._rollout import EVAL_SEED_BASE, Rollout, RolloutCollector
from irlgan.rl._sac import SACConfig, SoftActorCritic
from irlgan.rl._vec_env import VecEnv, env_factory, make_env, make_vec_env, run_episodes

__all__ = [
    "EVAL_EPISODES",
    "EVAL_SEED_BASE",
    "EXPERT_POLICY_KIND",
    "ExpertConfig",
    "ExpertResult",
    "MaxEntPPO",
    "PPOConfig",
    "Rollout",
    "RolloutCollector",
    "RunningMeanStd",
    "SACConfig",
    "SoftActorCritic",
    "VecEnv",
    "capture_env_state",
    "default_expert_config",
    "env_factory",
    "evaluate_policy",
    "expert_config_to_dict",
    "generate_demonstrations",
    "load_policy",
    "make_env",
    "make_policy",
    "make_vec_env",
    "normalized_return",
    "random_returns",
    "restore_env_state",
    "run_episodes",
    "save_policy",
    "train_expert",
]
