"""Another library's learner on irlgan's learned reward: stable-baselines3 SAC on Pendulum-v1.

The pipeline of docs/tutorials/sb3.md (whose page runs as its own slow test with seed 0) with
another seed: an irlgan expert (300,000 steps) and its demonstrations, AIRL with the Pendulum
preset (300,000 steps), saved and loaded; then SAC of stable-baselines3 trained for 5,000 steps on
`irlgan.wrappers.LearnedReward` alone, with two SAC seeds on the same learned reward. Each SAC
policy is scored on the true reward, on the reset seeds of the expert's reference return
(EVAL_SEED_BASE + i, i < 50), beside irlgan's own generator (the AIRL policy) on the same seeds.

Measured (normalised return, 1 = the expert, 0 = random; generator / SAC after 5,000 steps), the
whole pipeline at seed s with SAC seed s:
    s = 0: 1.003 / 1.014    s = 1: 0.996 / 1.010    s = 2: 0.990 / 1.010    s = 3: 0.997 / 1.002
and at pipeline seed 1 with SAC seed 2 (the second case here): 0.996 / 1.006. SAC ended 0.005 to
0.020 above the generator. After 3,000 SAC steps the same runs stood at
0.970 / 0.962 / 0.992 / 0.994 (up to 0.034 below the generator, which fails the margin) and after
2,000 steps at 0.11 / 0.58 / 0.59 / 0.25, so both bounds below fail for a learner that has not
learned the task, or a reward that does not teach it. With 200,000 steps each for the expert
and AIRL, SAC still reached 1.11 and 1.02 (seeds 1, 2) but the generator of seed 2
only 0.53: 300,000 is the smallest budget tried at which both converge.

CPU time on one core (2-core machine shared with other jobs): expert about 26 s, AIRL 38 s, each
SAC run 33 s, each evaluation about 1 s; this module 134 s of CPU (3 min 52 s of wall time at a
load average of 4.5).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium
import pytest
import torch
from stable_baselines3 import SAC

import irlgan
from irlgan.cli import main as irlgan_cli
from irlgan.control import default_config
from irlgan.rl import EVAL_SEED_BASE, normalized_return, run_episodes
from irlgan.wrappers import LearnedReward

ENV = "Pendulum-v1"
PIPELINE_SEED = 1  # the tutorial runs seed 0
EXPERT_STEPS = 300_000
AIRL_STEPS = 300_000
SAC_STEPS = 5_000
MARGIN = 0.03  # SAC may end at most this far below irlgan's own generator
FLOOR = 0.95  # and at least this close to the expert

pytestmark = pytest.mark.slow


def _normalised(predict, demos: irlgan.Demonstrations) -> float:
    """Normalised true return of a batched predict function on the references' reset seeds."""
    returns, _ = run_episodes(ENV, list(demos.reference_seeds), predict)
    return float(normalized_return(float(returns.mean()), demos.expert_return,
                                   demos.random_return))


@pytest.fixture(scope="module")
def airl_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    torch.set_num_threads(1)
    folder: Path = tmp_path_factory.mktemp("sb3")
    expert_dir = folder / "expert"
    assert irlgan_cli(["expert", "--env", ENV, "--steps", str(EXPERT_STEPS),
                       "--seed", str(PIPELINE_SEED), "--out", str(expert_dir), "--quiet"]) == 0
    demos = irlgan.Demonstrations.load(expert_dir)
    assert list(demos.reference_seeds) == [EVAL_SEED_BASE + i for i in range(50)]
    config = default_config("airl", ENV).algo
    airl = irlgan.AIRL(ENV, demos, config=config, seed=PIPELINE_SEED).learn(AIRL_STEPS)
    airl.save(folder / "airl.pt")
    airl.close()
    model = irlgan.load(folder / "airl.pt")
    return {"demos": demos, "model": model, "discount": config.discount,
            "generator_score": _normalised(model.predict, demos)}


@pytest.mark.parametrize("sac_seed", [PIPELINE_SEED, PIPELINE_SEED + 1])
def test_sb3_sac_on_the_learned_reward_reaches_the_expert_beside_irlgans_generator(
        airl_run: dict, sac_seed: int) -> None:
    torch.set_num_threads(1)
    demos, model = airl_run["demos"], airl_run["model"]
    env = LearnedReward(gymnasium.make(ENV), model)
    agent = SAC("MlpPolicy", env, gamma=airl_run["discount"], learning_rate=1e-3,
                policy_kwargs={"net_arch": [64, 64]}, seed=sac_seed, device="cpu")
    agent.learn(SAC_STEPS)
    sac_score = _normalised(lambda obs: agent.predict(obs, deterministic=True)[0], demos)
    generator_score = airl_run["generator_score"]
    print(f"pipeline seed {PIPELINE_SEED}, SAC seed {sac_seed}: generator {generator_score:.4f}, "
          f"SAC {sac_score:.4f}")
    assert sac_score >= generator_score - MARGIN, (sac_score, generator_score)
    assert sac_score >= FLOOR, sac_score
