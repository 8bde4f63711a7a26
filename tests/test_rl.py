"""irlgan.rl: vector environments, rollouts and their exact resumption, GAE, the MaxEnt PPO
objective, evaluation on held-out seeds and the normalised return."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

from irlgan.checkpoint import load_checkpoint, save_checkpoint
from irlgan.models import GaussianPolicy
from irlgan.rl import (
    EVAL_SEED_BASE,
    MaxEntPPO,
    PPOConfig,
    Rollout,
    RolloutCollector,
    evaluate_policy,
    make_policy,
    make_vec_env,
    normalized_return,
    random_returns,
)


def _policy(env_id: str, seed: int = 0):
    vec = make_vec_env(env_id, 1)
    policy = make_policy(vec.observation_space, vec.action_space, hidden=(16,),
                         generator=torch.Generator().manual_seed(seed))
    vec.close()
    return policy


def test_make_vec_env_rejects_bad_ids_and_spaces():
    with pytest.raises(ValueError, match="unknown environment"):
        make_vec_env("NoSuchEnv-v9", 2)
    with pytest.raises(ValueError, match="Box"):
        make_vec_env("CartPole-v1", 2)
    with pytest.raises(ValueError, match="num_envs"):
        make_vec_env("Pendulum-v1", 0)


def test_vec_env_steps_without_resetting_and_matches_single_envs():
    vec = make_vec_env("Pendulum-v1", 3, seed=10)
    singles = [gymnasium.make("Pendulum-v1") for _ in range(3)]
    for i, env in enumerate(singles):
        env.reset(seed=10 + i)
    actions = np.random.default_rng(0).uniform(-2, 2, size=(5, 3, 1)).astype(np.float32)
    for step_actions in actions:
        next_obs, reward, terminated, truncated = vec.step(step_actions)
        for i, env in enumerate(singles):
            obs, r, _, _, _ = env.step(step_actions[i])
            np.testing.assert_array_equal(next_obs[i], obs)
            assert reward[i] == r
        assert not terminated.any() and not truncated.any()


def test_vec_env_is_a_gymnasium_vector_env_that_resets_only_what_it_is_told():
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    vec = make_vec_env("irlgan/PointMass-v0", 3, seed=0)
    assert isinstance(vec.vector, SyncVectorEnv)
    assert vec.vector.autoreset_mode == AutoresetMode.DISABLED
    assert vec.envs is vec.vector.envs
    for _ in range(vec.max_episode_steps):
        obs, _, terminated, truncated = vec.step(np.zeros((3, 2), dtype=np.float32))
    assert truncated.all() and not terminated.any()  # the last observation, not a reset one
    np.testing.assert_array_equal(obs[1], vec.envs[1].unwrapped.state.astype(np.float32))
    before = vec.envs[1].unwrapped.state.copy()
    new = vec.reset_some([0, 2], [7, 9])
    np.testing.assert_array_equal(vec.envs[1].unwrapped.state, before)  # left alone
    fresh = gymnasium.make("irlgan/PointMass-v0")
    np.testing.assert_array_equal(new[0], fresh.reset(seed=7)[0])
    np.testing.assert_array_equal(new[1], fresh.reset(seed=9)[0])
    with pytest.raises(ValueError, match="seeds"):
        vec.reset_some([0], [1, 2])
    vec.close()


def _check_rollout_consistency(rollout: Rollout, policy) -> None:
    steps, envs = rollout.env_reward.shape
    assert rollout.obs.shape == (steps, envs, policy.obs_dim)
    assert rollout.actions.shape == (steps, envs, policy.act_dim)
    # next_obs is the next obs unless the episode ended (then a reset observation follows)
    same = (rollout.next_obs[:-1] == rollout.obs[1:]).all(-1)
    assert torch.equal(same | rollout.done[:-1], torch.ones_like(same))
    assert torch.equal(rollout.episode_start[1:], rollout.done[:-1])
    with torch.no_grad():
        log_prob = policy.log_prob(rollout.obs.reshape(steps * envs, -1),
                                   rollout.actions.reshape(steps * envs, -1))
    torch.testing.assert_close(log_prob.reshape(steps, envs), rollout.log_prob,
                               rtol=1e-4, atol=1e-4)


def test_rollouts_of_whole_point_mass_episodes_account_for_every_step():
    policy = _policy("irlgan/PointMass-v0")
    collector = RolloutCollector(make_vec_env("irlgan/PointMass-v0", 4), policy, 100, seed=3)
    rollout = collector.collect()
    _check_rollout_consistency(rollout, policy)
    assert rollout.num_steps == 400
    assert rollout.truncated.sum() == 8 and not rollout.terminated.any()
    assert rollout.truncated[49].all() and rollout.truncated[99].all()
    assert torch.equal(rollout.timestep[:, 0], torch.arange(100) % 50)
    # episode returns are the sums of the rewards between starts
    per_episode = rollout.env_reward.double().reshape(2, 50, 4).sum(1).T.reshape(-1)
    torch.testing.assert_close(rollout.episode_returns.sort().values,
                               per_episode.sort().values, rtol=1e-5, atol=1e-4)
    assert (rollout.episode_lengths == 50).all()
    # the observation at truncation is the true last one, not the next episode's start
    torch.testing.assert_close(rollout.next_obs[49], rollout.obs[49] + 0.2 * rollout.actions[49]
                               .clamp(-1, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("env_id, steps", [("Pendulum-v1", 70), ("MountainCarContinuous-v0", 90),
                                           ("irlgan/PointMass-v0", 33)])
def test_a_restored_collector_continues_bit_identically(tmp_path, env_id, steps):
    policy = _policy(env_id)
    first = RolloutCollector(make_vec_env(env_id, 3), policy, steps, seed=5)
    for _ in range(3):  # crosses episode ends (Pendulum and point mass; MountainCar by chance)
        first.collect()
    path = save_checkpoint(tmp_path / "c.pt", {"collector": first.state_dict()}, kind="test")
    expected = [first.collect() for _ in range(2)]
    second = RolloutCollector(make_vec_env(env_id, 3), policy, steps, seed=99)
    second.load_state_dict(load_checkpoint(path, kind="test")["collector"])
    for want in expected:
        got = second.collect()
        for key, value in want.to_dict().items():
            assert torch.equal(getattr(got, key), value), key
    assert second.total_steps == first.total_steps


def test_training_reset_seeds_stay_below_the_evaluation_seeds():
    collector = RolloutCollector(make_vec_env("irlgan/PointMass-v0", 2), _policy(
        "irlgan/PointMass-v0"), 10, seed=0)
    seeds = collector._reset_seeds(10_000)
    assert max(seeds) < EVAL_SEED_BASE and min(seeds) >= 0


def _synthetic_rollout(reward: torch.Tensor, values_obs: torch.Tensor, terminated, truncated):
    steps, envs = reward.shape
    return Rollout(
        obs=values_obs[:-1], actions=torch.zeros(steps, envs, 1), log_prob=torch.zeros(steps, envs),
        next_obs=values_obs[1:], env_reward=reward, terminated=terminated, truncated=truncated,
        episode_start=torch.zeros(steps, envs, dtype=torch.bool),
        timestep=torch.zeros(steps, envs, dtype=torch.int64),
        episode_returns=torch.zeros(0, dtype=torch.float64),
        episode_lengths=torch.zeros(0, dtype=torch.int64),
    )


def test_gae_matches_a_brute_force_sum_with_terminal_and_truncated_steps():
    """A_t = sum_k (gamma lambda)^k delta_{t+k} up to the episode end; delta bootstraps from
    V(next_obs) at a truncation and not at a termination."""
    generator = torch.Generator().manual_seed(0)
    steps, envs = 12, 2
    obs = torch.randn(steps + 1, envs, 3, generator=generator)
    reward = torch.randn(steps, envs, generator=generator)
    terminated = torch.zeros(steps, envs, dtype=torch.bool)
    truncated = torch.zeros(steps, envs, dtype=torch.bool)
    terminated[4, 0] = True
    truncated[7, 1] = True
    truncated[2, 0] = True
    rollout = _synthetic_rollout(reward, obs, terminated, truncated)
    config = PPOConfig(gamma=0.9, gae_lambda=0.8)
    ppo = MaxEntPPO(GaussianPolicy(3, 1), 3, config, torch.Generator().manual_seed(1))
    advantages, returns = ppo.advantages(rollout, reward)
    with torch.no_grad():
        value = ppo.value(obs[:-1]).squeeze(-1)
        next_value = ppo.value(obs[1:]).squeeze(-1)
    for e in range(envs):
        for t in range(steps):
            total, discount = 0.0, 1.0
            for k in range(t, steps):
                bootstrap = 0.0 if terminated[k, e] else float(next_value[k, e])
                delta = float(reward[k, e]) + 0.9 * bootstrap - float(value[k, e])
                total += discount * delta
                if terminated[k, e] or truncated[k, e]:
                    break
                discount *= 0.9 * 0.8
            assert float(advantages[t, e]) == pytest.approx(total, abs=1e-5)
    torch.testing.assert_close(returns, advantages + value)


def _bandit_rollout(policy, generator, count=256):
    obs = torch.zeros(1, count, 1)
    with torch.no_grad():
        act, log_prob = policy.sample(obs[0], generator=generator)
    done = torch.ones(1, count, dtype=torch.bool)
    rollout = Rollout(
        obs=obs, actions=act[None], log_prob=log_prob[None], next_obs=obs.clone(),
        env_reward=torch.zeros(1, count), terminated=done, truncated=torch.zeros_like(done),
        episode_start=done.clone(), timestep=torch.zeros(1, count, dtype=torch.int64),
        episode_returns=torch.zeros(0, dtype=torch.float64),
        episode_lengths=torch.zeros(0, dtype=torch.int64),
    )
    return rollout, act[:, 0]


@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_maxent_ppo_finds_the_boltzmann_policy_of_a_one_step_problem(alpha):
    """For r(u) = -(u - 1)^2 / (2 s^2) the maximiser of E[r - alpha log pi] over all densities is
    pi ∝ exp(r / alpha) = N(1, alpha s^2): the learned mean and std must get there."""
    s = 0.5
    policy = GaussianPolicy(1, 1, hidden=(8,), generator=torch.Generator().manual_seed(0))
    config = PPOConfig(learning_rate=0.02, epochs=4, minibatch_size=256, gamma=0.9)
    ppo = MaxEntPPO(policy, 1, config, torch.Generator().manual_seed(1))
    generator = torch.Generator().manual_seed(2)
    for _ in range(250):
        rollout, act = _bandit_rollout(policy, generator)
        reward = (-(act - 1) ** 2 / (2 * s**2))[None]
        ppo.update(rollout, reward, entropy_weight=alpha)
    with torch.no_grad():
        mean = float(policy.mode(torch.zeros(1, 1)))
    std = float(policy.log_std.detach().exp())
    assert mean == pytest.approx(1.0, abs=0.05)
    assert std == pytest.approx(s * alpha**0.5, rel=0.08)


def test_ppo_state_dict_round_trip_gives_identical_updates(tmp_path):
    def build():
        policy = GaussianPolicy(1, 1, hidden=(8,), generator=torch.Generator().manual_seed(0))
        return policy, MaxEntPPO(policy, 1, PPOConfig(minibatch_size=64),
                                 torch.Generator().manual_seed(1))

    policy, ppo = build()
    generator = torch.Generator().manual_seed(2)
    for _ in range(3):
        rollout, act = _bandit_rollout(policy, generator)
        ppo.update(rollout, -act[None].square())
    path = save_checkpoint(tmp_path / "p.pt", {"ppo": ppo.state_dict()}, kind="test")
    rollout, act = _bandit_rollout(policy, generator)
    expected = ppo.update(rollout, -act[None].square())
    other_policy, other = build()
    other.load_state_dict(load_checkpoint(path, kind="test")["ppo"])
    got = other.update(rollout, -act[None].square())
    assert got == expected
    for a, b in zip(policy.parameters(), other_policy.parameters(), strict=True):
        assert torch.equal(a, b)


def test_ppo_rejects_bad_input():
    policy = GaussianPolicy(1, 1)
    with pytest.raises(ValueError, match="gamma"):
        MaxEntPPO(policy, 1, PPOConfig(gamma=1.5))
    ppo = MaxEntPPO(policy, 1, PPOConfig())
    rollout, _ = _bandit_rollout(policy, torch.Generator().manual_seed(0), count=8)
    with pytest.raises(ValueError, match="reward must have shape"):
        ppo.update(rollout, torch.zeros(2, 8))
    with pytest.raises(ValueError, match="finite"):
        ppo.update(rollout, torch.full((1, 8), float("nan")))
    with pytest.raises(ValueError, match="entropy_weight"):
        ppo.update(rollout, torch.zeros(1, 8), entropy_weight=-1.0)


def test_evaluation_uses_the_held_out_seeds_and_is_reproducible():
    policy = _policy("irlgan/PointMass-v0")
    returns = evaluate_policy(policy, "irlgan/PointMass-v0", 4, seed_base=EVAL_SEED_BASE)
    assert returns.shape == (4,)
    np.testing.assert_array_equal(returns, evaluate_policy(policy, "irlgan/PointMass-v0", 4))
    env = gymnasium.make("irlgan/PointMass-v0")  # episode 2 by hand
    obs, _ = env.reset(seed=EVAL_SEED_BASE + 2)
    total, done = 0.0, False
    while not done:
        with torch.no_grad():
            action = policy.mode(torch.as_tensor(obs)[None])[0].numpy()
        obs, reward, terminated, truncated, _ = env.step(action)
        total += reward
        done = terminated or truncated
    assert returns[2] == pytest.approx(total, rel=1e-9)
    sampled = evaluate_policy(policy, "irlgan/PointMass-v0", 4, deterministic=False)
    assert not np.array_equal(sampled, returns)
    first = random_returns("Pendulum-v1", 3, seed_base=7)
    np.testing.assert_array_equal(first, random_returns("Pendulum-v1", 3, seed_base=7))
    assert first.mean() < -500  # random torques on the pendulum are poor
    with pytest.raises(ValueError, match="episodes"):
        random_returns("Pendulum-v1", 0)


def test_normalized_return_scale():
    assert normalized_return(-150.0, -150.0, -1200.0) == pytest.approx(1.0)
    assert normalized_return(-1200.0, -150.0, -1200.0) == pytest.approx(0.0)
    np.testing.assert_allclose(normalized_return(np.array([-675.0]), -150.0, -1200.0), [0.5])
    with pytest.raises(ValueError, match="exceed"):
        normalized_return(0.0, -1300.0, -1200.0)


def test_observation_scaling_maps_the_box_and_survives_save_and_load(tmp_path):
    from irlgan.rl import load_policy, save_policy

    vec = make_vec_env("MountainCarContinuous-v0", 1)
    policy = make_policy(vec.observation_space, vec.action_space, hidden=(8,),
                         normalize_obs=True, generator=torch.Generator().manual_seed(0))
    low = torch.as_tensor(vec.observation_space.low)[None]
    high = torch.as_tensor(vec.observation_space.high)[None]
    torch.testing.assert_close(policy.normalize_obs(low), -torch.ones(1, 2))
    torch.testing.assert_close(policy.normalize_obs(high), torch.ones(1, 2))
    save_policy(tmp_path / "p.pt", policy, "MountainCarContinuous-v0", (8,))
    loaded = load_policy(tmp_path / "p.pt")
    obs = torch.tensor([[-0.5, 0.01]])
    act = torch.tensor([[0.3]])
    torch.testing.assert_close(loaded.log_prob(obs, act), policy.log_prob(obs, act))
    with pytest.raises(ValueError, match="obs_low"):
        GaussianPolicy(2, 1, obs_low=[0.0, 0.0])


def test_learning_rate_fraction_scales_both_optimisers():
    ppo = MaxEntPPO(GaussianPolicy(1, 1), 1, PPOConfig(learning_rate=0.1,
                                                       value_learning_rate=0.2))
    ppo.set_learning_rate_fraction(0.25)
    assert ppo.policy_optimizer.param_groups[0]["lr"] == pytest.approx(0.025)
    assert ppo.value_optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    with pytest.raises(ValueError, match="fraction"):
        ppo.set_learning_rate_fraction(1.5)
