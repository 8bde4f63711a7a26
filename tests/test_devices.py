"""Devices: resolving a user's device, loss checks without host reads, density runs on a
chosen device, and (where a GPU exists) float64 agreement between the CPU and the GPU."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from irlgan import cli, losses
from irlgan.density import DensityConfig, DensityTrainer, evaluate_density, sample_data
from irlgan.density._run import load_run, train_run
from irlgan.devices import generator_on, resolve_device
from irlgan.models import TanhGaussianPolicy
from irlgan.rl import SACConfig

CUDA = torch.cuda.is_available()
NO_CUDA = "no CUDA device here (torch.cuda.is_available() is False)"

# ----------------------------------------------------------------------------------------------
# Resolving devices
# ----------------------------------------------------------------------------------------------


def test_the_cpu_and_none_resolve_to_the_cpu() -> None:
    assert resolve_device(None) == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("device, words", [("mps", "not mps"), ("tpu", "not a torch device"),
                                           ("cuda:x", "not a torch device")])
def test_other_devices_are_refused_in_one_line(device: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as info:
        resolve_device(device)
    assert "\n" not in str(info.value)


def test_cuda_resolves_where_it_exists_and_is_refused_where_it_does_not() -> None:
    if CUDA:
        assert resolve_device("cuda").type == "cuda"
        with pytest.raises(ValueError, match="CUDA device"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
    else:
        with pytest.raises(ValueError, match="sees no CUDA device") as info:
            resolve_device("cuda")
        assert "\n" not in str(info.value)


def test_a_cpu_generator_on_draws_the_stream_of_a_plain_generator() -> None:
    a = torch.randn(5, generator=generator_on(torch.device("cpu"), 7))
    b = torch.randn(5, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_the_command_line_refuses_an_unavailable_device_and_creates_nothing(tmp_path,
                                                                            capsys) -> None:
    if CUDA:
        pytest.skip("this machine has CUDA; the refusal is for machines without it")
    out = tmp_path / "run"
    status = cli.main(["train", "ebm", "--data", "8gaussians", "--steps", "5", "--out",
                       str(out), "--quiet", "--device", "cuda"])
    assert status == 2
    assert "sees no CUDA device" in capsys.readouterr().err
    assert not out.exists()


# ----------------------------------------------------------------------------------------------
# Loss checks: "checked" reads values back to the host, "fast" never does
# ----------------------------------------------------------------------------------------------

_READS: list[str] = []
_HOST_READS = {"__bool__", "item", "__float__", "__int__", "__index__", "tolist", "numpy"}


class _Spy(torch.Tensor):
    """A tensor that records every operation which reads its values back to the host."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in _HOST_READS:
            _READS.append(func.__name__)
        return super().__torch_function__(func, types, args, kwargs or {})


def _batch(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    spy = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64).as_subclass(_Spy)  # noqa: E731
    return {"cost_data": spy(6), "log_q_data": spy(6), "cost_gen": spy(9), "log_q_gen": spy(9),
            "log_z": torch.tensor(0.4, dtype=torch.float64).as_subclass(_Spy),
            "weight_data": torch.rand(6, generator=g, dtype=torch.float64).as_subclass(_Spy)}


def _call_all(b: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    two_sided = {k: b[k] for k in ("cost_data", "log_q_data", "cost_gen", "log_q_gen", "log_z")}
    return [
        losses.discriminator_loss(**two_sided, weight_data=b["weight_data"]),
        losses.generator_loss(b["cost_gen"], b["log_q_gen"], b["log_z"]),
        losses.cost_loss(**two_sided, weight_data=b["weight_data"]),
        losses.sampler_loss(b["cost_gen"], b["log_q_gen"]),
        losses.importance_log_z(**two_sided),
        losses.discriminator_logit(b["cost_data"], b["log_q_data"], b["log_z"]),
    ]


def test_fast_checks_read_nothing_back_and_give_the_same_values() -> None:
    b = _batch()
    _READS.clear()
    checked = _call_all(b)
    assert len(_READS) >= 6  # the checked mode does read the values (finite, weights)
    _READS.clear()
    with losses.checks("fast"):
        fast = _call_all(b)
    assert _READS == []
    for x, y in zip(checked, fast, strict=True):
        assert torch.equal(x.as_subclass(torch.Tensor), y.as_subclass(torch.Tensor))
    assert losses.set_checks("checked") == "checked"  # the context restored the mode


def test_fast_checks_keep_shape_checks_and_let_non_finite_values_through() -> None:
    b = _batch()
    bad = b["cost_gen"].clone()
    bad[3] = math.nan
    with pytest.raises(ValueError, match="cost_gen contains NaN"):
        losses.generator_loss(bad, b["log_q_gen"], b["log_z"])
    with losses.checks("fast"):
        assert math.isnan(float(losses.generator_loss(bad, b["log_q_gen"], b["log_z"])))
        with pytest.raises(ValueError, match="same samples"):
            losses.generator_loss(b["cost_gen"], b["log_q_data"], b["log_z"])
    with pytest.raises(ValueError, match="checked' or 'fast'"):
        losses.set_checks("none")  # type: ignore[arg-type]


def test_the_checks_mode_is_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), losses.checks("fast"):
        raise RuntimeError("inside")
    assert losses.set_checks("checked") == "checked"


# ----------------------------------------------------------------------------------------------
# Density runs on a chosen device
# ----------------------------------------------------------------------------------------------

_SMALL = dict(iterations=12, batch_size=64, eval_every=6, validation_size=500, test_size=2000,
              importance_samples=2000, mmd_samples=200, ais_chains=32, ais_steps=20,
              val_ais_chains=16, val_ais_steps=10, final_resolution=120, eval_resolution=60,
              energy_hidden=(16, 16), flow_hidden=(16,), flow_transforms=2, log_every=4,
              checkpoint_every=6)


def test_an_explicit_cpu_is_the_default_bit_for_bit(tmp_path) -> None:
    config = DensityConfig(dataset="rings-x2", **_SMALL)
    a = train_run(config, tmp_path / "a", quiet=True)
    b = train_run(config, tmp_path / "b", quiet=True, device="cpu")
    assert a["device"] == b["device"] == "cpu"
    for key in ("nll", "log_z_ais", "log_z_learned", "mmd", "flow_nll"):
        assert a[key] == b[key], key


def test_a_checkpoint_of_another_device_type_is_refused_for_training_and_read_for_eval(
        tmp_path) -> None:
    config = DensityConfig(dataset="8gaussians", **_SMALL)
    summary = train_run(config, tmp_path / "run", quiet=True)
    trainer = DensityTrainer(config, 0)
    state = trainer.state_dict()
    state["device"] = "cuda"
    with pytest.raises(ValueError, match="written on cuda, and this run is on cpu"):
        trainer.load_state_dict(state)
    # an evaluation leaves the training's random state out, so any device can read it
    evaluated = evaluate_density(load_run(tmp_path / "run"))
    assert evaluated["nll"] == summary["nll"]


def test_policies_draw_their_noise_from_the_generator_they_are_given() -> None:
    """The action noise is the generator's next standard normals (then moved to the policy's
    device), so a CPU generator gives a policy on any device the CPU's numbers."""
    policy = TanhGaussianPolicy(3, 2, -1.0, 1.0, hidden=(8,))
    with torch.no_grad():
        policy.log_std.fill_(-1.0)
    obs = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    act, log_prob = policy.sample(obs, torch.Generator().manual_seed(1))
    noise = torch.randn(4, 2, generator=torch.Generator().manual_seed(1))
    mean, std = policy._mean_std(obs)
    center, scale = policy._scale(mean)
    torch.testing.assert_close(act, center + scale * torch.tanh(mean + std * noise),
                               rtol=0, atol=1e-6)
    torch.testing.assert_close(log_prob, policy.log_prob(obs, act), rtol=0, atol=1e-4)


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
@pytest.mark.parametrize("dataset", ["8gaussians", "checkerboard", "rings-x2", "gmm-d4",
                                     "digits"])
def test_every_dataset_samples_on_a_gpu_generator(dataset: str) -> None:
    g = generator_on(torch.device("cuda"), 0)
    for split in ("train", "test"):
        x = sample_data(dataset, 100, g, split=split)
        assert x.device.type == "cuda" and torch.isfinite(x).all()


# ----------------------------------------------------------------------------------------------
# On a GPU: float64 agreement with the CPU, and runs end to end
# ----------------------------------------------------------------------------------------------


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
def test_float64_energy_flow_quadrature_and_losses_agree_on_cpu_and_gpu() -> None:
    from irlgan.density import quadrature_log_z

    config = DensityConfig(dataset="8gaussians", **_SMALL)
    cpu = DensityTrainer(config, 0)
    gpu = DensityTrainer(config, 0, device="cuda")
    for t in (cpu, gpu):
        t.energy.double()
        t.flow.double()
    x = sample_data("8gaussians", 4096, torch.Generator().manual_seed(5), dtype=torch.float64)
    e_c, e_g = cpu.energy(x), gpu.energy(x.cuda())
    lq_c, lq_g = cpu.flow.log_prob(x), gpu.flow.log_prob(x.cuda())
    torch.testing.assert_close(e_g.cpu(), e_c, rtol=0, atol=1e-10)
    torch.testing.assert_close(lq_g.cpu(), lq_c, rtol=0, atol=1e-10)
    qc = quadrature_log_z(lambda p: cpu.energy(p.double()), resolution=200)
    qg = quadrature_log_z(lambda p: gpu.energy(p.double()), resolution=200, device="cuda")
    assert abs(qc - qg) < 1e-10
    args_c = (e_c[:2048], lq_c[:2048], e_c[2048:], lq_c[2048:], 0.3)
    args_g = (e_g[:2048], lq_g[:2048], e_g[2048:], lq_g[2048:], 0.3)
    loss_c = losses.discriminator_loss(*args_c)
    with losses.checks("fast"):
        loss_g = losses.discriminator_loss(*args_g)
    assert abs(float(loss_c.detach()) - float(loss_g.detach())) < 1e-10
    grad_c = torch.autograd.grad(loss_c, list(cpu.energy.parameters()))
    grad_g = torch.autograd.grad(loss_g, list(gpu.energy.parameters()))
    for a, b in zip(grad_c, grad_g, strict=True):
        torch.testing.assert_close(b.cpu(), a, rtol=0, atol=1e-10)


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
@pytest.mark.parametrize("dataset", ["8gaussians", "rings-x2"])
def test_a_density_run_trains_and_resumes_exactly_on_the_gpu(tmp_path, dataset: str) -> None:
    config = DensityConfig(dataset=dataset, **_SMALL)
    whole = train_run(config, tmp_path / "whole", quiet=True, device="cuda")
    assert whole["device"].startswith("cuda") and math.isfinite(whole["nll"])
    assert train_run(config, tmp_path / "cut", quiet=True, device="cuda", stop_after=6) is None
    with pytest.raises(Exception, match="written on cuda"):
        train_run(config, tmp_path / "cut", quiet=True, device="cpu", resume=True)
    resumed = train_run(config, tmp_path / "cut", quiet=True, device="cuda", resume=True)
    assert resumed["nll"] == whole["nll"]
    cpu_eval = evaluate_density(load_run(tmp_path / "whole", device="cpu"))
    # the same parameters on the same test set: the mean test energy agrees to float32
    # rounding; log Z is the same quadrature in 2-D, and AIS with other draws above
    energy = {k: s["nll"] - (s["log_z_quadrature"] if s["dim"] == 2 else s["log_z_ais"])
              for k, s in (("gpu", whole), ("cpu", cpu_eval))}
    assert abs(energy["gpu"] - energy["cpu"]) < 1e-4
    if whole["dim"] == 2:
        assert abs(cpu_eval["log_z_quadrature"] - whole["log_z_quadrature"]) < 1e-4


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
def test_the_command_line_trains_on_the_gpu(tmp_path) -> None:
    out = tmp_path / "run"
    sets = [x for k, v in _SMALL.items() if k != "iterations"
            for x in ("--set", f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}")]
    assert cli.main(["train", "nce", "--data", "rings-x2", "--steps", "12", "--out", str(out),
                     "--quiet", "--device", "cuda", *sets]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"].startswith("cuda")
    assert "device" not in dataclasses.asdict(DensityConfig())  # where, not what: no setting


# ----------------------------------------------------------------------------------------------
# Control: on the CPU the device argument changes nothing; on a GPU the same numbers in float64
# ----------------------------------------------------------------------------------------------


def _point_mass_algo(device: str, cls_name: str = "AIRL", **config: object):
    import irlgan
    from irlgan.envs import point_mass_expert_demonstrations

    demos = point_mass_expert_demonstrations(episodes=4, seed=0, eval_episodes=20)
    cfg = irlgan.AdversarialConfig(num_envs=2, steps_per_env=50, disc_batch=32, **config)
    return getattr(irlgan, cls_name)("irlgan/PointMass-v0", demos, config=cfg, seed=0,
                                      device=device)


def test_a_control_algorithm_refuses_an_unavailable_device_in_one_line() -> None:
    if CUDA:
        pytest.skip("this machine has CUDA; the refusal is for machines without it")
    with pytest.raises(ValueError, match="sees no CUDA device"):
        _point_mass_algo("cuda")


def _as64(rollout, device):
    from irlgan.rl import Rollout

    return Rollout(**{k: (v.double() if v.is_floating_point() else v).to(device)
                      for k, v in rollout.to_dict().items()})


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
@pytest.mark.parametrize("cls_name", ["AIRL", "GANGCL"])
def test_float64_discriminator_and_generator_steps_agree_on_cpu_and_gpu(cls_name: str) -> None:
    from irlgan.algorithms._trainer import Transitions

    algos = {d: _point_mass_algo(d, cls_name) for d in ("cpu", "cuda")}
    cpu, gpu = algos["cpu"], algos["cuda"]
    for a, b in zip(cpu.policy.state_dict().values(), gpu.policy.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b.cpu())  # initialised on the CPU, then moved
    rollout = cpu.collector.collect()  # one rollout, given to both
    results = {}
    for device, algo in algos.items():
        algo.policy.double()
        algo.discriminator.double()
        algo.generator.value.double()
        r = _as64(rollout, device)
        if cls_name == "AIRL":
            d_obs, d_act, d_next, d_term = (t.double() if t.is_floating_point() else t
                                            for t in algo.demo_transitions)
            with torch.no_grad():
                lq_d = algo.policy.log_prob(d_obs, d_act)
                g_obs, g_act = r.obs.reshape(-1, 2), r.actions.reshape(-1, 2)
                lq_g = algo.policy.log_prob(g_obs, g_act)
            data = Transitions(d_obs, d_act, d_next, d_term, lq_d)
            gen = Transitions(g_obs, g_act, r.next_obs.reshape(-1, 2), r.terminated.reshape(-1),
                              lq_g)
            loss = algo.discriminator_loss(data, gen)[0]
        else:
            algo.buffer.add_rollout(algo._snapshot(), r.obs, r.actions, r.next_obs,
                                    r.terminated, r.truncated)
            from irlgan.algorithms._adversarial import TrajectoryBatch
            from irlgan.algorithms._trainer import Episodes

            demos = algo.demo_episodes
            demos = TrajectoryBatch(demos.obs.double(), demos.act.double(), demos.mask.double(),
                                    demos.terminated)
            samples = algo.buffer.samples()
            loss = algo.discriminator_loss(Episodes(demos, algo.buffer.log_q(demos)),
                                           Episodes(samples, algo.buffer.log_q(samples)))[0]
        grads = torch.autograd.grad(loss, [p for p in algo.discriminator.parameters()
                                           if p.requires_grad])
        algo.generator.update(r, r.env_reward, entropy_weight=1.0)  # PPO on the same reward
        results[device] = (float(loss), [g.cpu() for g in grads],
                           [p.detach().cpu() for p in algo.policy.parameters()])
        algo.close()
    assert abs(results["cpu"][0] - results["cuda"][0]) < 1e-9
    for a, b in zip(results["cpu"][1], results["cuda"][1], strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-9)  # discriminator gradients
    # PPO scales its rewards and advantages in float32 (irlgan.rl.MaxEntPPO.update): the
    # policies after one update agree to float32 rounding times the step size
    for a, b in zip(results["cpu"][2], results["cuda"][2], strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6)


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
@pytest.mark.parametrize("cls_name, extra", [
    ("AIRL", {}), ("GANGCL", {}),
    ("AIRL", {"generator": "sac", "sac": SACConfig(learning_starts=100, batch_size=32,
                                                   q_hidden=(16,))})])
def test_a_control_run_trains_on_the_gpu_and_its_checkpoint_resumes_on_the_cpu(
        tmp_path, cls_name: str, extra: dict) -> None:
    algo = _point_mass_algo("cuda", cls_name, **extra)
    algo.learn(200)
    assert next(algo.discriminator.parameters()).device.type == "cuda"
    action = algo.predict(np.zeros(2, np.float32))
    assert isinstance(action, np.ndarray) and action.shape == (2,)
    reward = algo.reward(np.zeros(2), np.zeros(2), np.zeros(2), False)
    assert np.isfinite(reward)
    if extra.get("generator") == "sac":  # SAC's gradient steps ran on the GPU
        assert algo.generator.updates >= 100
    state = algo.state_dict()
    algo.close()
    on_cpu = _point_mass_algo("cpu", cls_name, **extra)
    on_cpu.load_state_dict(_to_cpu(state))
    on_cpu.learn(200)
    assert on_cpu.env_steps == 400
    if extra.get("generator") == "sac":  # and continued on the CPU from the GPU's state
        assert on_cpu.generator.updates >= 300
    on_cpu.close()


def _to_cpu(state):
    if isinstance(state, torch.Tensor):
        return state.cpu()
    if isinstance(state, dict):
        return {k: _to_cpu(v) for k, v in state.items()}
    if isinstance(state, list):
        return [_to_cpu(v) for v in state]
    return state


@pytest.mark.skipif(not CUDA, reason=NO_CUDA)
def test_the_command_line_trains_a_control_run_on_the_gpu(tmp_path) -> None:
    from irlgan.envs import point_mass_expert_demonstrations

    point_mass_expert_demonstrations(episodes=4, seed=0, eval_episodes=20).save(tmp_path / "d")
    out = tmp_path / "run"
    assert cli.main(["train", "airl", "--env", "irlgan/PointMass-v0", "--demos",
                     str(tmp_path / "d"), "--steps", "400", "--out", str(out), "--quiet",
                     "--device", "cuda", "--set", "num_envs=2", "--set", "steps_per_env=50",
                     "--set", "disc_batch=32", "--set", "eval_episodes=20"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"].startswith("cuda")
    assert cli.main(["eval", str(out), "--quiet", "--output", str(tmp_path / "e.json")]) == 0
    evaluated = json.loads((tmp_path / "e.json").read_text())
    assert evaluated["device"] == "cpu"
    assert abs(evaluated["return_mean"] - summary["return_mean"]) < 1e-3 * (
        1 + abs(summary["return_mean"]))


def test_trainers_check_losses_on_the_cpu_and_go_fast_elsewhere() -> None:
    nan = torch.tensor([math.nan, 0.0])
    with losses.checks_for(torch.device("cpu")), pytest.raises(ValueError, match="NaN"):
        losses.generator_loss(nan, torch.zeros(2), 0.0)
    with losses.checks_for(torch.device("meta")):  # any device that is not the CPU
        assert math.isnan(float(losses.generator_loss(nan, torch.zeros(2), 0.0)))
    assert losses.set_checks("checked") == "checked"
