"""Fast checks of control run folders: settings, presets, overrides, demonstration loading, and
in-process resumption that is bit-identical to an uninterrupted run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from irlgan.algorithms import AdversarialConfig
from irlgan.control import (
    ControlRunConfig,
    build_algorithm,
    default_config,
    final_parameters,
    train_run,
)
from irlgan.control._point_mass_expert import point_mass_expert_demonstrations
from irlgan.control.commands import build_config, load_demos

ENV = "irlgan/PointMass-v0"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demos")
    point_mass_expert_demonstrations(episodes=12, seed=21).save(path)
    return path


def test_config_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="algorithm"):
        ControlRunConfig(algorithm="nope")
    with pytest.raises(ValueError, match="eval_episodes"):
        ControlRunConfig(eval_episodes=5)
    with pytest.raises(ValueError, match="disc_lr"):
        AdversarialConfig(disc_lr=-1.0)
    with pytest.raises(ValueError, match="bc_steps"):
        AdversarialConfig(bc_steps=-1)
    assert default_config("airl", ENV).env_id == ENV
    cfg = ControlRunConfig(total_steps=1000,
                           algo=AdversarialConfig(num_envs=3, steps_per_env=100))
    assert cfg.iterations == 4


def test_build_config_applies_overrides_and_rejects_bad_ones() -> None:
    cfg = build_config("gcl", ENV, 5000, 4, {"disc_lr": "0.01", "hidden": "(32,32)",
                                            "ppo.learning_rate": "2e-3",
                                            "eval_episodes": "30"})
    assert (cfg.algorithm, cfg.total_steps, cfg.seed, cfg.algo.disc_lr, cfg.algo.hidden,
            cfg.algo.ppo.learning_rate, cfg.eval_episodes) == (
        "gcl", 5000, 4, 0.01, (32, 32), 2e-3, 30)
    with pytest.raises(ValueError, match="unknown setting 'nope'"):
        build_config("gcl", ENV, None, 0, {"nope": "1"})
    with pytest.raises(ValueError, match="algorithm"):
        build_config("gcl", ENV, None, 0, {"algorithm": "airl"})
    with pytest.raises(ValueError, match="entropy weight is set twice"):
        build_config("gcl", ENV, None, 0, {"ppo.entropy_weight": "0.5"})


def test_presets_are_what_was_measured() -> None:
    airl, gan_gcl = default_config("airl", ENV), default_config("gan-gcl", ENV)
    assert (airl.total_steps, airl.algo.disc_steps, airl.algo.disc_lr) == (150_000, 2, 1e-3)
    assert (gan_gcl.total_steps, gan_gcl.algo.disc_steps, gan_gcl.algo.entropy_weight) == (
        100_000, 10, 0.3)
    for cfg in (airl, gan_gcl):
        assert (cfg.algo.steps_per_env, cfg.algo.state_only, cfg.algo.ppo.gamma) == (50, True,
                                                                                    0.95)
    pendulum = default_config("airl", "Pendulum-v1")
    assert (pendulum.algo.anneal_lr, pendulum.algo.entropy_weight, pendulum.algo.disc_batch) == (
        True, 0.1, 1024)
    assert default_config("gail", "Walker2d-v5").algo == AdversarialConfig()  # no table
    assert default_config("gan-gcl", "HalfCheetah-v5").algo.gcl_normalize
    gcl = default_config("gcl", "HalfCheetah-v5").algo  # GAN-GCL's pieces (0.872 on seed 0)
    assert (gcl.segment_steps, gcl.gcl_normalize, gcl.disc_lr) == (20, True, 3e-2)
    assert default_config("gcl", "Swimmer-v5").algo.disc_lr == 3e-3  # 1.004 against 0.731
    gail = default_config("gail", "HalfCheetah-v5").algo  # AIRL's settings (0.870 on seed 0)
    assert (gail.entropy_weight, gail.disc_lr) == (1.0, 3e-2)
    assert default_config("airl", "HalfCheetah-v5").total_steps == 2_000_000
    assert default_config("gan-gcl", "Ant-v5").total_steps == 3_000_000
    ant_gcl = default_config("gcl", "Ant-v5")  # GAN-GCL's Ant settings (mean 1.147, 3 seeds)
    assert (ant_gcl.total_steps, ant_gcl.algo.segment_steps, ant_gcl.algo.disc_lr) == (
        3_000_000, 20, 3e-3)
    assert ant_gcl.train_env_kwargs == {"terminate_when_unhealthy": False}
    hopper = default_config("airl", "Hopper-v5")
    assert (hopper.total_steps, hopper.algo.disc_lr, hopper.algo.entropy_weight,
            hopper.algo.absorbing) == (1_000_000, 3e-2, 1.0, True)
    assert not default_config("gail", "Hopper-v5").algo.absorbing  # AIRL only
    assert not default_config("airl", "HalfCheetah-v5").algo.absorbing  # no terminations
    for algo in ("gan-gcl", "gcl"):  # pieces, no termination in training (means 0.470, 0.226)
        run = default_config(algo, "Hopper-v5")
        assert (run.algo.segment_steps, run.algo.disc_lr, run.algo.log_z_init) == (20, 3e-2,
                                                                                    "solved")
        assert run.train_env_kwargs == {"terminate_when_unhealthy": False}
    assert default_config("airl", "Hopper-v5").train_env_kwargs == {}  # its absorbing state


def test_load_demos_checks_the_environment(demo_dir: Path) -> None:
    demos, expert, rand = load_demos(demo_dir, ENV)
    assert len(demos) == 12 and demos.lengths.tolist() == [50] * 12
    assert not any(demos.terminated)
    assert expert > rand
    with pytest.raises(ValueError, match="Pendulum"):
        load_demos(demo_dir, "Pendulum-v1")


def _tiny(algo: str) -> ControlRunConfig:
    run = default_config(algo, ENV, seed=5)
    small = dataclasses.replace(run.algo, num_envs=2, steps_per_env=35, disc_batch=16)
    return dataclasses.replace(run, total_steps=2 * 35 * 6, checkpoint_every=2,
                               eval_episodes=20, algo=small)


@pytest.mark.parametrize("algo", [
    pytest.param("gan-gcl", marks=pytest.mark.slow), pytest.param("gcl", marks=pytest.mark.slow),
    pytest.param("gail", marks=pytest.mark.slow), "airl"])
def test_in_process_resume_is_bit_identical(algo: str, demo_dir: Path, tmp_path: Path) -> None:
    demos, expert, rand = load_demos(demo_dir)
    cfg = _tiny(algo)
    ref = train_run(cfg, demos, tmp_path / "ref", expert_return=expert, random_return=rand,
                    reference_seeds=demos.reference_seeds,
                    progress=False)
    assert train_run(cfg, demos, tmp_path / "cut", expert_return=expert, random_return=rand,
                     reference_seeds=demos.reference_seeds,
                     progress=False, stop_after=3) == {}
    # Stopped after iteration 3 (checkpoint at 2): the resumed run redoes iteration 3.
    resumed = train_run(cfg, demos, tmp_path / "cut", expert_return=expert, random_return=rand,
                        reference_seeds=demos.reference_seeds,
                        progress=False, resume=True)
    a, b = final_parameters(tmp_path / "ref"), final_parameters(tmp_path / "cut")
    for name in a:
        assert torch.equal(a[name], b[name]), name
    for key in ("normalized_return", "return_mean", "return_std", "env_steps", "returns"):
        assert ref[key] == resumed[key], key
    summary = json.loads((tmp_path / "cut" / "summary.json").read_text())
    for key in ("normalized_return", "return_mean", "return_std", "expert_return",
                "random_return", "env_steps", "wall_s"):
        assert key in summary
    from irlgan._io import software_versions

    assert summary["software"] == software_versions()
    # every evaluation episode's return, one per evaluation seed, behind the mean and spread
    assert len(summary["returns"]) == len(summary["eval_seeds"]) == summary["eval_episodes"]
    assert np.mean(summary["returns"]) == pytest.approx(summary["return_mean"], rel=1e-12)
    assert np.std(summary["returns"]) == pytest.approx(summary["return_std"], rel=1e-9)
    assert (tmp_path / "cut" / "plots" / "cost_map.png").is_file()
    assert json.loads((tmp_path / "cut" / "config.json").read_text())["task"] == "control"
    assert summary["resume"] == "exact" and ref["resume"] == "none"
    assert (tmp_path / "cut" / "model.pt").is_file()


def test_fresh_start_refuses_a_folder_with_checkpoints(demo_dir: Path, tmp_path: Path) -> None:
    demos, expert, rand = load_demos(demo_dir)
    cfg = _tiny("airl")
    train_run(cfg, demos, tmp_path / "run", expert_return=expert, progress=False, stop_after=2)
    with pytest.raises(ValueError, match="--resume"):
        train_run(cfg, demos, tmp_path / "run", expert_return=expert, progress=False)


def test_behaviour_cloning_warm_start_fits_the_demonstrations(demo_dir: Path) -> None:
    from irlgan.algorithms._trainer import behaviour_cloning

    demos, _, _ = load_demos(demo_dir)
    obs, act = demos.transitions()[:2]

    def build(bc_steps: int):
        run = _tiny("airl")
        return build_algorithm(
            dataclasses.replace(run, algo=dataclasses.replace(run.algo, bc_steps=bc_steps)),
            demos)

    plain = build(0)
    with torch.no_grad():
        nll_before = float(-plain.policy.log_prob(obs, act).mean())
    warm = build(300)
    assert warm.bc_nll < nll_before - 1.0, (warm.bc_nll, nll_before)
    # deterministic given the seed: a second warm start gives the same parameters
    again = build(300)
    for a, b in zip(warm.policy.parameters(), again.policy.parameters(), strict=True):
        assert torch.equal(a, b)
    assert behaviour_cloning(build(0).policy, obs, act, 0, torch.Generator()) == pytest.approx(
        nll_before)
