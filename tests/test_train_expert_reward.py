"""`irlgan.rl.train_expert(reward_fn=...)`: PPO on a reward other than the environment's (the
fresh policies of the transfer benchmark)."""

from __future__ import annotations

import pytest
import torch

from irlgan.rl import default_expert_config, train_expert

ENV = "irlgan/PointMass-v0"
STEPS = 2 * 8 * 50  # two iterations of the point mass's preset rollout shape


def _parameters(result) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in result.policy.parameters()])


def test_the_environment_reward_given_as_reward_fn_trains_the_same_policy_bit_for_bit():
    plain = train_expert(ENV, STEPS, 3)
    same = train_expert(ENV, STEPS, 3, reward_fn=lambda rollout: rollout.env_reward.clone())
    assert torch.equal(_parameters(plain), _parameters(same))
    other = train_expert(ENV, STEPS, 3, reward_fn=lambda rollout: -rollout.env_reward)
    assert not torch.equal(_parameters(plain), _parameters(other))
    # the history keeps the environment's own return: the first rollouts (same initial policy)
    # score the same under either reward
    assert other.history[0]["episode_return"] == plain.history[0]["episode_return"] < 0


@pytest.mark.parametrize("bad", [lambda r: r.env_reward[0],
                                 lambda r: r.env_reward * float("nan")])
def test_a_reward_of_the_wrong_shape_or_not_finite_is_refused(bad):
    assert default_expert_config(ENV).num_envs == 8
    with pytest.raises(ValueError, match="reward_fn must return finite values of shape"):
        train_expert(ENV, STEPS, 0, reward_fn=bad)


def test_a_callable_task_trains_the_same_policy_as_its_id_and_keywords_reach_the_environment():
    import functools

    import gymnasium

    config = default_expert_config(ENV)
    plain = train_expert(ENV, STEPS, 5, config)
    made = train_expert(functools.partial(gymnasium.make, ENV), STEPS, 5, config)
    assert torch.equal(_parameters(plain), _parameters(made))
    # a keyword that changes the task changes what is learned (Pendulum's gravity)
    pendulum = default_expert_config("Pendulum-v1")
    steps = pendulum.num_envs * pendulum.steps_per_env
    earth = train_expert(functools.partial(gymnasium.make, "Pendulum-v1", g=10.0), steps, 1,
                         pendulum)
    same = train_expert("Pendulum-v1", steps, 1, pendulum)
    moon = train_expert(functools.partial(gymnasium.make, "Pendulum-v1", g=1.62), steps, 1,
                        pendulum)
    assert torch.equal(_parameters(earth), _parameters(same))
    assert not torch.equal(_parameters(earth), _parameters(moon))
    # without a config a callable gets ExpertConfig's defaults (presets are looked up by id):
    # one iteration of the default rollout shape, not the point mass's 8 x 50
    from irlgan.rl import ExpertConfig

    default = ExpertConfig()
    assert default.num_envs * default.steps_per_env != config.num_envs * config.steps_per_env
    bare = train_expert(functools.partial(gymnasium.make, ENV), 1, 0)
    assert bare.env_steps == default.num_envs * default.steps_per_env
