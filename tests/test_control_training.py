"""Seeded training runs on the point mass that must reach stated thresholds (slow).

AIRL (default point-mass settings, 100,000 environment steps, seed 0) from 64 demonstrations of
the scripted stochastic expert must reach a normalised return of at least 0.9 on 50 held-out
episodes; the negative of its learned reward g must correlate with the true cost on the expert's
state-action pairs with r >= 0.8, and a fresh policy trained by MaxEnt PPO on that learned cost
alone (no discriminator, no demonstrations) must reach a normalised return of at least 0.8.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import irlgan
from irlgan.control import cost_correlation, default_config, train_on_cost, train_run
from irlgan.control._point_mass_expert import point_mass_expert_demonstrations
from irlgan.control.commands import load_demos
from irlgan.envs import point_mass_true_cost
from irlgan.rl import EVAL_SEED_BASE, evaluate_policy, normalized_return

ENV = "irlgan/PointMass-v0"


@pytest.fixture(scope="module")
def airl_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("pm")
    point_mass_expert_demonstrations(episodes=64, seed=0).save(root / "demos")
    demos, expert, rand = load_demos(root / "demos")
    config = dataclasses.replace(default_config("airl", ENV, seed=0), total_steps=100_000)
    summary = train_run(config, demos, root / "airl", expert_return=expert, random_return=rand,
                        reference_seeds=demos.reference_seeds,
                        progress=False)
    return root / "airl", demos, expert, rand, summary, config


@pytest.mark.slow
def test_airl_imitates_the_point_mass_expert(airl_run) -> None:
    summary = airl_run[4]
    assert summary["normalized_return"] >= 0.9, summary


@pytest.mark.slow
def test_airl_cost_correlates_with_the_true_cost(airl_run) -> None:
    run_dir, demos = airl_run[0], airl_run[1]
    r = cost_correlation(irlgan.load(Path(run_dir) / "model.pt").step_cost,
                         lambda o, a: point_mass_true_cost(o, a.clamp(-1, 1)), demos)
    assert r >= 0.8, r


@pytest.mark.slow
def test_fresh_policy_on_the_learned_cost_imitates_the_expert(airl_run) -> None:
    run_dir, _, expert, rand, _, config = airl_run
    policy, _ = train_on_cost(irlgan.load(Path(run_dir) / "model.pt").step_cost, ENV,
                              config.total_steps, seed=100, num_envs=config.algo.num_envs,
                              steps_per_env=config.algo.steps_per_env, ppo=config.algo.ppo)
    returns = evaluate_policy(policy, ENV, 50, EVAL_SEED_BASE)
    score = float(normalized_return(float(returns.mean()), expert, rand))
    assert score >= 0.8, score
