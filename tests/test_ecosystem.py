"""Other tools' data and the tools around a run: irlgan.data.record, Minari datasets, reference
seeds and `irlgan eval --seeds`, TensorBoard event files, `irlgan eval --video`."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import irlgan
from irlgan import cli
from irlgan.control._point_mass_expert import point_mass_expert_demonstrations
from irlgan.control.commands import parse_seeds
from irlgan.data import record


def swing_up(obs: np.ndarray) -> np.ndarray:
    """A scripted Pendulum-v1 controller: pump energy towards the upright's, then a PD law near
    the top (mean return about -176 on reset seeds 100000-100049, random about -1290)."""
    c, s, w = (float(x) for x in obs)
    theta = math.atan2(s, c)
    if c > 0.85:
        u = -(10.0 * theta + 2.0 * w)
    else:
        energy = w * w / 6.0 + 5.0 * c
        u = 3.0 * (5.0 - energy) * (1.0 if w >= 0 else -1.0)
    return np.array([min(2.0, max(-2.0, u))], dtype=np.float32)


class Reaching(gymnasium.Env):
    """A 1-D task that terminates when |x| > 1 and is truncated after 12 steps: both endings."""

    observation_space = gymnasium.spaces.Box(-5.0, 5.0, (1,), np.float32)
    action_space = gymnasium.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.t = float(self.np_random.uniform(-0.5, 0.5)), 0
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x += 0.3 * float(np.clip(action[0], -1, 1))
        self.t += 1
        return (np.array([self.x], np.float32), -abs(self.x), abs(self.x) > 1.0, self.t >= 12,
                {})


def push(obs: np.ndarray) -> np.ndarray:
    """Out of Reaching's bounds from |x| > 0.25 (terminated), else back to 0 (truncated)."""
    x = float(obs[0])
    return np.array([np.sign(x) if abs(x) > 0.25 else -x], np.float32)


@pytest.fixture
def minari_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


# ----------------------------------------------------------------------------------------------
# irlgan.data.record
# ----------------------------------------------------------------------------------------------

def test_record_keeps_what_the_environment_said_and_is_reproducible() -> None:
    demos = record(Reaching, push, episodes=6, seed=40)
    ends = []
    for index in range(6):  # replay by hand: the same reset seeds and actions
        env = Reaching()
        obs, _ = env.reset(seed=40 + index)
        np.testing.assert_array_equal(demos.observations[index][0], obs)
        rewards = []
        for step, action in enumerate(demos.actions[index]):
            obs, reward, terminated, truncated, _ = env.step(action)
            np.testing.assert_array_equal(demos.observations[index][step + 1], obs)
            rewards.append(reward)
        assert terminated or truncated
        ends.append(terminated)
        np.testing.assert_allclose(demos.rewards[index], rewards)
    assert demos.terminated == ends and demos.truncated == [not e for e in ends]
    assert demos.episode_terminated.any() and not demos.episode_terminated.all(), ends
    np.testing.assert_allclose(demos.returns, [r.sum() for r in demos.rewards])
    # the references: the recorded mean, and random actions on the same seeds
    assert demos.reference_seeds == tuple(range(40, 46))
    assert demos.expert_return == pytest.approx(float(demos.returns.mean()))
    again = record(Reaching, push, episodes=6, seed=40)
    assert again.content_hash() == demos.content_hash()
    assert again.random_return == demos.random_return != demos.expert_return


def test_record_takes_a_stable_baselines3_model_as_it_is() -> None:
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", "Pendulum-v1", seed=0, device="cpu")
    demos = record("Pendulum-v1", lambda obs: model.predict(obs, deterministic=True),
                   episodes=2, seed=100_000)
    assert len(demos) == 2 and demos.lengths.tolist() == [200, 200]
    assert demos.env_id == "Pendulum-v1" and demos.truncated == [True, True]
    expected = model.predict(demos.observations[1][:5], deterministic=True)[0]
    np.testing.assert_allclose(demos.actions[1][:5], expected, rtol=1e-6)


def test_record_refuses_bad_actions_with_the_step() -> None:
    with pytest.raises(ValueError, match="shape \\[2\\] at episode 0, step 0"):
        record("Pendulum-v1", lambda obs: np.zeros(2), episodes=1, seed=0)
    with pytest.raises(ValueError, match="non-finite action at episode 0, step 0"):
        record("Pendulum-v1", lambda obs: np.array([np.nan]), episodes=1, seed=0)
    with pytest.raises(ValueError, match="episodes must be a positive integer"):
        record("Pendulum-v1", swing_up, episodes=0, seed=0)


def test_measured_references_are_those_of_the_given_policy_on_the_given_seeds() -> None:
    demos = point_mass_expert_demonstrations(episodes=3, seed=0, eval_episodes=20)
    hold = lambda obs: np.zeros(2, np.float32)  # noqa: E731
    seeds = list(range(500, 520))
    measured = demos.measure_references("irlgan/PointMass-v0", hold, seeds)
    by_hand = record("irlgan/PointMass-v0", hold, episodes=20, seed=500)
    assert measured.reference_seeds == tuple(seeds)
    assert measured.expert_return == pytest.approx(by_hand.expert_return, rel=1e-12)
    assert measured.random_return == pytest.approx(by_hand.random_return, rel=1e-12)
    assert measured.content_hash() != demos.content_hash()  # the references are inputs too


# ----------------------------------------------------------------------------------------------
# Minari
# ----------------------------------------------------------------------------------------------

def _minari_buffers(episodes: int, seed: int):
    """Episodes of the scripted controller as Minari's own EpisodeBuffers (no irlgan code)."""
    from minari.data_collector import EpisodeBuffer

    env = gymnasium.make("Pendulum-v1")
    buffers = []
    for index in range(episodes):
        obs, _ = env.reset(seed=seed + index)
        observations, actions, rewards, terms, truncs = [obs], [], [], [], []
        while True:
            action = swing_up(obs)
            obs, reward, terminated, truncated, _ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
            terms.append(terminated)
            truncs.append(truncated)
            if terminated or truncated:
                break
        buffers.append(EpisodeBuffer(id=index, seed=seed + index,
                                     observations=np.array(observations),
                                     actions=np.array(actions), rewards=rewards,
                                     terminations=terms, truncations=truncs, infos={}))
    env.close()
    return buffers


def write_scripted_minari_dataset(dataset_id: str, episodes: int, seed: int):
    import minari

    buffers = _minari_buffers(episodes, seed)
    with pytest.warns(UserWarning):  # Minari asks for an author and a code link
        minari.create_dataset_from_buffers(dataset_id, buffers, env="Pendulum-v1",
                                           algorithm_name="scripted swing-up",
                                           data_format="hdf5")
    return buffers


def test_a_dataset_written_by_minari_reads_exactly(minari_root) -> None:
    buffers = write_scripted_minari_dataset("pendulum/scripted-v0", episodes=3, seed=100_000)
    demos = irlgan.Demonstrations.from_minari("pendulum/scripted-v0")
    assert len(demos) == 3 and demos.env_id == "Pendulum-v1"
    for index, buffer in enumerate(buffers):
        np.testing.assert_array_equal(demos.observations[index],
                                      buffer.observations.astype(np.float32))
        np.testing.assert_array_equal(demos.actions[index], buffer.actions)
        np.testing.assert_allclose(demos.rewards[index], buffer.rewards, rtol=0, atol=0)
    assert demos.truncated == [True] * 3  # Pendulum only ever hits its time limit
    assert demos.expert_return is None and demos.reference_seeds is None


def test_demonstrations_round_trip_through_minari_unchanged(minari_root) -> None:
    gymnasium.register("irlgan-test/Reaching-v0", entry_point=f"{__name__}:Reaching")
    try:
        demos = record("irlgan-test/Reaching-v0", push, episodes=8, seed=3)
        assert demos.episode_terminated.any() and not demos.episode_terminated.all()
        demos.to_minari("reaching/pushed-v0", "irlgan-test/Reaching-v0")
        back = irlgan.Demonstrations.from_minari("reaching/pushed-v0")
    finally:
        gymnasium.registry.pop("irlgan-test/Reaching-v0")
    assert back.content_hash() == demos.content_hash()
    assert back.terminated == demos.terminated and back.truncated == demos.truncated
    assert back.reference_seeds == demos.reference_seeds == tuple(range(3, 11))
    for mine, theirs in zip(demos.rewards, back.rewards, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # Minari's own reader sees the same terminations and truncations, step by step
    import minari

    episodes = list(minari.load_dataset("reaching/pushed-v0").iterate_episodes())
    for episode, flag in zip(episodes, demos.episode_terminated, strict=True):
        assert bool(episode.terminations[-1]) == flag and bool(episode.truncations[-1]) != flag
        assert not episode.terminations[:-1].any() and not episode.truncations[:-1].any()


def test_minari_refusals_are_one_line_and_write_nothing(minari_root) -> None:
    with pytest.raises(ValueError, match="no local Minari dataset 'none/such-v0'"):
        irlgan.Demonstrations.from_minari("none/such-v0")
    demos = record("Pendulum-v1", swing_up, episodes=2, seed=0)
    demos.to_minari("pendulum/twice-v0", "Pendulum-v1")
    with pytest.raises(ValueError, match="already exists"):
        demos.to_minari("pendulum/twice-v0", "Pendulum-v1")
    bare = irlgan.Demonstrations.from_arrays(demos.observations, demos.actions,
                                             demos.terminated)
    with pytest.raises(ValueError, match="no per-step rewards"):
        bare.to_minari("pendulum/bare-v0", "Pendulum-v1")
    with pytest.raises(ValueError, match="width 3, the environment's observation space"):
        demos.to_minari("pendulum/wrong-v0", "MountainCarContinuous-v0")
    assert not (minari_root / "pendulum" / "bare-v0").exists()
    assert not (minari_root / "pendulum" / "wrong-v0").exists()


def test_the_command_line_trains_and_evaluates_from_a_minari_dataset(minari_root, tmp_path,
                                                                      capsys) -> None:
    write_scripted_minari_dataset("pendulum/scripted-v0", episodes=4, seed=100_000)
    out = tmp_path / "run"
    argv = ["train", "airl", "--env", "Pendulum-v1", "--demos", "minari:pendulum/scripted-v0",
            "--steps", "2048", "--out", str(out), "--quiet", "--set", "num_envs=4",
            "--set", "steps_per_env=64", "--set", "eval_episodes=20", "--set", "disc_batch=64"]
    assert cli.main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["demos"] == "minari:pendulum/scripted-v0"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["normalized_return"] is None  # Minari's references carry no seeds
    assert "no expert reference return" in summary["normalized_return_note"]
    assert cli.main(["eval", str(out), "--quiet"]) == 0  # reads the dataset again
    result = json.loads((out / "evals" / "ckpt-00000008-20ep.json").read_text())
    assert result["return_mean"] == summary["return_mean"]


@pytest.mark.slow
def test_airl_imitates_a_scripted_expert_from_a_minari_dataset(minari_root, tmp_path) -> None:
    """Outside data end to end: a dataset written by Minari's own writer from the scripted
    swing-up controller (50 episodes), references measured with the controller on the
    recording's seeds, AIRL with the Pendulum preset in Python. Measured at 300k steps:
    0.997 (seed 0) and 0.994 (seed 1), about 90 s each on one core; 150k steps is too short
    for the annealed learning rate (0.18, seed 1)."""
    from irlgan.control import References, default_config, train_run

    write_scripted_minari_dataset("pendulum/scripted-v0", episodes=50, seed=100_000)
    demos = irlgan.Demonstrations.from_minari("pendulum/scripted-v0")
    demos = demos.measure_references("Pendulum-v1", swing_up, range(100_000, 100_050))
    assert demos.expert_return == pytest.approx(float(demos.returns.mean()), rel=1e-12)
    run = dataclasses.replace(default_config("airl", "Pendulum-v1", seed=0), total_steps=300_000)
    refs = References.of(demos)
    summary = train_run(run, demos, tmp_path / "run", expert_return=refs.expert_return,
                        random_return=refs.random_return, reference_seeds=refs.seeds,
                        progress=False)
    assert summary["eval_seeds"] == list(range(100_000, 100_050))
    assert summary["normalized_return"] >= 0.95, summary


# ----------------------------------------------------------------------------------------------
# Reference seeds and `irlgan eval --seeds`
# ----------------------------------------------------------------------------------------------

def test_seed_lists_parse_and_bad_ones_are_named() -> None:
    assert parse_seeds("100000-100002,7") == [100000, 100001, 100002, 7]
    for bad, match in (("5-3", "runs backwards"), ("1,x", "neither a seed"),
                       ("1-3,2", "twice")):
        with pytest.raises(ValueError, match=match):
            parse_seeds(bad)


@pytest.fixture(scope="module")
def point_mass_run(tmp_path_factory) -> tuple[Path, irlgan.Demonstrations]:
    """A short AIRL run on demonstrations whose references were measured on seeds 7000-7019."""
    root = tmp_path_factory.mktemp("seeds")
    demos = point_mass_expert_demonstrations(episodes=8, seed=0, eval_episodes=20)
    from irlgan.control._point_mass_expert import point_mass_expert_action

    rng = np.random.default_rng(0)
    demos = demos.measure_references("irlgan/PointMass-v0",
                                     lambda obs: point_mass_expert_action(obs, rng, 0.0),
                                     range(7000, 7020))
    demos.save(root / "demos")
    out = root / "run"
    assert cli.main(["train", "airl", "--env", "irlgan/PointMass-v0", "--demos",
                     str(root / "demos"), "--steps", "1600", "--quiet", "--tensorboard",
                     "--out", str(out), "--set", "num_envs=4", "--set", "steps_per_env=50",
                     "--set", "checkpoint_every=2", "--set", "disc_batch=64"]) == 0
    return out, demos


def test_scores_are_normalised_only_on_the_references_seeds(point_mass_run, capsys) -> None:
    out, demos = point_mass_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["eval_seeds"] == list(range(7000, 7020))  # the references' seeds
    assert summary["normalized_return"] == pytest.approx(
        (summary["return_mean"] - demos.random_return)
        / (demos.expert_return - demos.random_return), rel=1e-12)
    # the same seeds given by hand: the same score
    assert cli.main(["eval", str(out), "--seeds", "7000-7019", "--output",
                     str(out / "same.json"), "--quiet"]) == 0
    same = json.loads((out / "same.json").read_text())
    assert same["normalized_return"] == summary["normalized_return"]
    # other seeds: the raw return, and why; the printed summary says it in one line
    assert cli.main(["eval", str(out), "--seeds", "1000000-1000019", "--output",
                     str(out / "other.json")]) == 0
    other = json.loads((out / "other.json").read_text())
    assert other["normalized_return"] is None
    assert "measured on seeds 7000-7019" in other["normalized_return_note"]
    assert other["return_mean"] != summary["return_mean"]
    printed = capsys.readouterr().out
    assert "no normalised score: the reference returns were measured on seeds 7000-7019, " \
           "this evaluation ran on seeds 1000000-1000019" in printed
    assert cli.main(["eval", str(out), "--seeds", "7000-7019", "--episodes", "20"]) == 2
    assert "episodes or its seeds, not both" in capsys.readouterr().err


def test_references_without_seeds_give_raw_returns(point_mass_run, tmp_path) -> None:
    out, demos = point_mass_run
    from irlgan.control._run import References, evaluate_run

    result = evaluate_run(out, output=tmp_path / "r.json",
                          references=References(demos.expert_return, demos.random_return, None))
    assert result["normalized_return"] is None
    assert "do not record the reset seeds" in result["normalized_return_note"]


# ----------------------------------------------------------------------------------------------
# TensorBoard
# ----------------------------------------------------------------------------------------------

def _scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir))
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def test_tensorboard_reads_the_runs_metrics_under_namespaced_names(point_mass_run) -> None:
    out, _ = point_mass_run
    scalars = _scalars(out / "tensorboard")
    with (out / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for tag, column in (("disc/loss", "disc_loss"), ("gen/entropy", "entropy"),
                        ("gen/env_return", "env_return"), ("disc/acc_gen", "disc_acc_gen")):
        assert [s for s, _ in scalars[tag]] == [int(r["env_steps"]) for r in rows], tag
        np.testing.assert_allclose([v for _, v in scalars[tag]],
                                   [float(r[column]) for r in rows], rtol=1e-5, err_msg=tag)
    summary = json.loads((out / "summary.json").read_text())
    ((step, value),) = scalars["eval/normalized_return"]
    assert step == summary["env_steps"]
    assert value == pytest.approx(summary["normalized_return"], rel=1e-6)
    assert "disc/log_z" not in scalars  # AIRL has no log Z: NaN columns are not logged


def test_a_callback_logs_through_the_same_logger(tmp_path) -> None:
    from irlgan.algorithms import AdversarialConfig
    from irlgan.loggers import TensorBoardLogger

    demos = point_mass_expert_demonstrations(episodes=4, seed=1, eval_episodes=20)
    config = AdversarialConfig(num_envs=2, steps_per_env=50, disc_batch=32)
    seen = []

    def callback(algo, row):
        algo.logger.log({"custom/steps_seen": float(algo.env_steps)}, step=algo.env_steps)
        seen.append(algo.env_steps)

    algo = irlgan.GAIL("irlgan/PointMass-v0", demos, config=config, seed=0)
    logger = TensorBoardLogger(tmp_path / "tb")
    algo.learn(300, callback=callback, logger=logger)
    logger.close()
    algo.close()
    scalars = _scalars(tmp_path / "tb")
    assert [s for s, _ in scalars["custom/steps_seen"]] == seen == [100, 200, 300]
    assert [s for s, _ in scalars["disc/loss"]] == seen
    with pytest.raises(ValueError, match="logger must have log"):
        irlgan.GAIL("irlgan/PointMass-v0", demos, config=config, seed=0).learn(100, logger=print)


def test_a_resumed_run_logs_each_step_once(tmp_path) -> None:
    from irlgan.control._run import train_run
    from irlgan.control.commands import build_config
    from irlgan.loggers import TensorBoardLogger

    demos = point_mass_expert_demonstrations(episodes=4, seed=2, eval_episodes=20)
    run = build_config("airl", "irlgan/PointMass-v0", 1000, 0,
                       {"num_envs": "2", "steps_per_env": "50", "checkpoint_every": "2",
                        "disc_batch": "32"})
    out = tmp_path / "run"
    first = TensorBoardLogger.for_run(out)
    assert train_run(run, demos, out, progress=False, stop_after=5, logger=first) == {}
    first.close()  # stopped after iteration 5, last checkpoint at 4: iteration 5 is redone
    second = TensorBoardLogger.for_run(out)
    train_run(run, demos, out, progress=False, resume=True, logger=second)
    second.close()
    steps = [s for s, _ in _scalars(out / "tensorboard")["disc/loss"]]
    assert steps == list(range(100, 1001, 100))


# ----------------------------------------------------------------------------------------------
# irlgan eval --video
# ----------------------------------------------------------------------------------------------

def _gif(path: Path) -> tuple[int, tuple[int, int]]:
    """(playing time in ms, size) of a GIF whose every frame decodes. (Pillow merges identical
    consecutive frames into one longer frame, so the time counts the frames written.)"""
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "GIF"
        total = 0
        for index in range(image.n_frames):
            image.seek(index)
            image.convert("RGB")
            total += image.info["duration"]
        return total, image.size


def test_eval_video_shows_the_learned_policy_beside_the_expert(tmp_path) -> None:
    from irlgan.rl.commands import expert

    class Args:
        env = "Pendulum-v1"
        steps = 2048
        seed = 0
        out = str(tmp_path / "expert")
        quiet = True
        overrides = {"num_envs": "4", "steps_per_env": "64", "eval_episodes": "20",
                     "demo_episodes": "4"}

    assert expert(Args()) == 0
    run = tmp_path / "run"
    assert cli.main(["train", "airl", "--env", "Pendulum-v1", "--demos", Args.out, "--steps",
                     "512", "--out", str(run), "--quiet", "--set", "num_envs=4", "--set",
                     "steps_per_env=64", "--set", "disc_batch=64"]) == 0
    assert cli.main(["eval", str(run), "--video", "--quiet"]) == 0
    (video,) = (run / "videos").glob("*.gif")
    playing_ms, (width, height) = _gif(video)
    assert playing_ms == 201 * 40  # the first state and 200 steps, 25 frames per second
    assert height == 240 and width == 480  # two panels: learned | expert


@pytest.mark.slow
def test_eval_video_renders_mujoco_headless(tmp_path) -> None:
    demos = record("HalfCheetah-v5", lambda obs: np.zeros(6, np.float32), episodes=2, seed=0)
    demos.save(tmp_path / "demos")
    run = tmp_path / "run"
    assert cli.main(["train", "gail", "--env", "HalfCheetah-v5", "--demos",
                     str(tmp_path / "demos"), "--steps", "256", "--out", str(run), "--quiet",
                     "--set", "num_envs=2", "--set", "steps_per_env=128", "--set",
                     "disc_batch=64", "--set", "eval_episodes=20"]) == 0
    assert cli.main(["eval", str(run), "--video", "--quiet"]) == 0
    (video,) = (run / "videos").glob("*.gif")
    playing_ms, (width, height) = _gif(video)
    assert playing_ms == 251 * 40  # states 0, 4, ..., 1000
    assert height == 240 and width == 240  # no expert policy beside these demonstrations


def test_folders_of_an_earlier_irlgan_expert_get_their_seeds_from_expert_json(tmp_path) -> None:
    from irlgan.control.commands import load_demos

    demos = point_mass_expert_demonstrations(episodes=3, seed=0, eval_episodes=20)
    old = demos.with_references(demos.expert_return, demos.random_return, None)
    old.save(tmp_path / "old")
    summary = {"eval_seed_base": 1_000_000, "eval_episodes": 20,
               "expert_return": demos.expert_return, "random_return": demos.random_return}
    (tmp_path / "old" / "expert.json").write_text(json.dumps(summary))
    assert load_demos(tmp_path / "old")[0].reference_seeds == tuple(range(10**6, 10**6 + 20))
    summary["expert_return"] = 0.0  # references of another expert: the seeds stay unknown
    (tmp_path / "old" / "expert.json").write_text(json.dumps(summary))
    assert load_demos(tmp_path / "old")[0].reference_seeds is None
