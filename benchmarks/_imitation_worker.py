"""Worker of `benchmarks/peer_imitation.py`: one seed of the `imitation` library's AIRL.

Runs in a virtualenv with ``imitation==1.0.1`` (stable-baselines3 2.2, gymnasium 0.29), NOT in
irlgan's environment, and imports nothing from irlgan. It reads the demonstrations from an .npz
written by `peer_imitation.py` (`observations` ``[sum(L_i + 1), d_obs]``, `actions`
``[sum(L_i), d_act]``, `lengths` ``[N]``, `terminated` ``[N]``), trains
`imitation.algorithms.adversarial.airl.AIRL` with the settings that
``python -m imitation.scripts.train_adversarial airl with pendulum`` would use (see `SETTINGS`;
only the number of environment steps is ours), then evaluates the generator's deterministic
policy on the given reset seeds of a plain ``gymnasium.make(env_id)`` with the true reward, and
writes one JSON object (also printed as the last line of stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

# What `train_adversarial airl with pendulum` resolves to in imitation 1.0.1, and where each
# value comes from (paths relative to site-packages/imitation/scripts/).
SETTINGS = {
    "num_envs": 8,  # ingredients/environment.py config(): num_vec = 8
    "parallel_envs": True,  # ingredients/environment.py config(): parallel = True
    "max_episode_steps": None,  # environment.py: None, so the registry's TimeLimit (200)
    "gen_algo": "PPO",  # ingredients/rl.py config_hook(): rl_cls = sb3.PPO
    "gen_batch_size": 2048,  # rl.py config_hook(): batch_size; n_steps = 2048 // num_envs
    "ppo_kwargs": {  # rl.py config_hook(): rl_kwargs (others: SB3 2.2 PPO defaults)
        "learning_rate": 3e-4,
        "batch_size": 64,
        "n_epochs": 10,
        "ent_coef": 0.0,
    },
    "policy": "FeedForward32Policy",  # ingredients/policy.py config(): policy_kwargs = {}
    "reward_net": "BasicShapedRewardNet",  # ingredients/reward.py config_hook() for 'airl'
    "reward_net_kwargs": "normalize_input_layer=RunningNorm",  # reward.py config_hook()
    "reward_output_normalisation": "NormalizedRewardNet(RunningNorm)",  # reward.py config()
    "demo_batch_size": 1024,  # config/train_adversarial.py defaults(): algorithm_kwargs
    "n_disc_updates_per_round": 4,  # train_adversarial.py defaults(): algorithm_kwargs
    "gen_replay_buffer_capacity": 2048,  # train_adversarial.py aliases_...(): rl batch_size
    "disc_opt": "Adam, torch defaults (lr 1e-3)",  # AdversarialTrainer defaults
    "allow_variable_horizon": False,  # AdversarialTrainer default; `pendulum` sets nothing
}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npz", required=True, help="demonstrations from peer_imitation.py")
    parser.add_argument("--env", default="Pendulum-v1", help="gymnasium id")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, required=True, help="environment steps")
    parser.add_argument("--eval-seed-base", type=int, default=1_000_000)
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--serial-envs", action="store_true",
                        help="DummyVecEnv instead of the script's SubprocVecEnv (same results)")
    parser.add_argument("--eval-at", type=int, nargs="*", default=[],
                        help="also evaluate when training has taken this many steps (rounded "
                             "up to whole rounds); their time is not counted as training")
    parser.add_argument("--ends-terminal", action="store_true",
                        help="mark every demonstration episode's end terminal, as imitation's "
                             "own rollouts do (default: the demonstrations' terminated flags)")
    parser.add_argument("--result", default=None, help="also write the JSON object here")
    return parser.parse_args(argv)


def _trajectories(path: str, ends_terminal: bool = False) -> tuple[list, int]:
    """The demonstrations as `imitation` Trajectory objects, and their transition count."""
    import numpy as np
    from imitation.data.types import Trajectory

    with np.load(path, allow_pickle=False) as data:
        obs, acts = data["observations"], data["actions"]
        lengths, terminated = data["lengths"], data["terminated"]
    trajs, o, a = [], 0, 0
    for length, term in zip(lengths.tolist(), terminated.tolist(), strict=True):
        # terminal=False for an episode cut by the time limit: its last state has a future.
        # (imitation's own rollouts, and the generator's samples in AIRL, mark every episode
        # end terminal, time limits included: SB3's VecEnv reports a cut as done.)
        trajs.append(Trajectory(obs=obs[o:o + length + 1].astype(np.float32),
                                acts=acts[a:a + length].astype(np.float32),
                                infos=None, terminal=bool(term) or ends_terminal))
        o += length + 1
        a += length
    if o != len(obs) or a != len(acts):
        raise ValueError("lengths do not match the observation and action arrays")
    return trajs, a


def _evaluate(policy, env_id: str, seeds: list[int]) -> list[float]:
    """True returns of the policy's deterministic actions, one episode per reset seed."""
    import gymnasium as gym

    env = gym.make(env_id)
    returns = []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            # predict() clips a Box action to the space, as PPO does when it steps the venv.
            action, _ = policy.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    start = time.perf_counter()
    import gymnasium as gym
    import imitation
    import numpy as np
    import stable_baselines3 as sb3
    import torch
    from imitation.algorithms.adversarial.airl import AIRL
    from imitation.policies.base import FeedForward32Policy
    from imitation.rewards.reward_nets import BasicShapedRewardNet, NormalizedRewardNet
    from imitation.util import logger as imit_logger
    from imitation.util.networks import RunningNorm
    from imitation.util.util import make_vec_env

    torch.set_num_threads(1)
    # Sacred seeds python's, numpy's and torch's global generators before the script builds
    # anything; without it the reward net's initial weights differ from run to run.
    sb3.common.utils.set_random_seed(args.seed)
    trajs, transitions = _trajectories(args.npz, args.ends_terminal)
    settings = dict(SETTINGS, parallel_envs=not args.serial_envs)

    log_dir = tempfile.mkdtemp(prefix="imitation-airl-")
    venv = make_vec_env(args.env, rng=np.random.default_rng(args.seed),
                        n_envs=settings["num_envs"], parallel=settings["parallel_envs"],
                        max_episode_steps=settings["max_episode_steps"])
    try:
        reward_net = NormalizedRewardNet(
            BasicShapedRewardNet(venv.observation_space, venv.action_space,
                                 normalize_input_layer=RunningNorm),
            RunningNorm)
        gen = sb3.PPO(FeedForward32Policy, venv, policy_kwargs={}, seed=args.seed,
                      n_steps=settings["gen_batch_size"] // venv.num_envs, device="cpu",
                      **settings["ppo_kwargs"])
        trainer = AIRL(
            demonstrations=trajs, venv=venv, gen_algo=gen, reward_net=reward_net,
            demo_batch_size=settings["demo_batch_size"],
            n_disc_updates_per_round=settings["n_disc_updates_per_round"],
            gen_replay_buffer_capacity=settings["gen_replay_buffer_capacity"],
            allow_variable_horizon=settings["allow_variable_horizon"],
            log_dir=log_dir,
            custom_logger=imit_logger.configure(log_dir, format_strs=["csv"]),
        )
        rounds = args.steps // trainer.gen_train_timesteps
        seeds = list(range(args.eval_seed_base, args.eval_seed_base + args.eval_episodes))
        pending = sorted(s for s in set(args.eval_at) if 0 < s < args.steps)
        curve: list[dict] = []
        paused = [0.0]  # seconds spent in the intermediate evaluations

        def callback(round_num: int) -> None:
            done = (round_num + 1) * trainer.gen_train_timesteps
            if pending and done >= pending[0]:
                while pending and done >= pending[0]:
                    pending.pop(0)
                t = time.perf_counter()
                trained_s = t - t0 - paused[0]
                # Deterministic actions draw nothing from the global generators, so training
                # goes on exactly as without this evaluation.
                rets = _evaluate(trainer.policy, args.env, seeds)
                paused[0] += time.perf_counter() - t
                curve.append({"env_steps": int(gen.num_timesteps), "train_s": trained_s,
                              "return_mean": float(np.mean(rets)),
                              "return_std": float(np.std(rets))})
                print(f"eval at {gen.num_timesteps}: {np.mean(rets):.1f}", file=sys.stderr)

        setup_s = time.perf_counter() - start
        t0 = time.perf_counter()
        trainer.train(args.steps, callback)
        train_s = time.perf_counter() - t0 - paused[0]
        env_steps = int(gen.num_timesteps)
    finally:
        venv.close()
        shutil.rmtree(log_dir, ignore_errors=True)

    t0 = time.perf_counter()
    returns = _evaluate(trainer.policy, args.env, seeds)
    eval_s = time.perf_counter() - t0
    result = {
        "seed": args.seed,
        "env": args.env,
        "steps_requested": args.steps,
        "env_steps": env_steps,
        "rounds": rounds,
        "gen_train_timesteps": int(trainer.gen_train_timesteps),
        "demo_episodes": len(trajs),
        "demo_transitions": int(transitions),
        "demo_terminal": sum(t.terminal for t in trajs),
        "eval_seeds": [seeds[0], seeds[-1]],
        "returns": returns,
        "return_mean": float(np.mean(returns)),
        "return_std": float(np.std(returns)),
        "curve": curve,
        "setup_s": setup_s,
        "train_s": train_s,
        "eval_s": eval_s,
        "train_eval_s": train_s + eval_s,
        "settings": settings,
        "policy_obs_normalisation": None,  # no VecNormalize, FlattenExtractor: raw observations
        "versions": {"imitation": imitation.__version__, "stable_baselines3": sb3.__version__,
                     "torch": torch.__version__, "gymnasium": gym.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    line = json.dumps(result)
    if args.result:
        with open(args.result, "w") as f:
            f.write(line + "\n")
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
